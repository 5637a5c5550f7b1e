"""zerodl.tflearn: the material's script (examples/tflearn_airline.py) on the shipped airline
series, tflearn's classic MNIST MLP on fake MNIST, tflearn's defaults, save/load."""
import os
import subprocess
import sys

import numpy as np
import pytest

import zerodl as zd
import zerodl.tflearn as tflearn
from tests._fake_mnist import digits_as_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_material_script_runs_quick_on_the_airline_series(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "tflearn_airline.py"), "--epochs", "6",
                        "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    rmse = float(r.stdout.split("tflearn_airline_1layer_rmse_mean = ")[1].split()[0])
    naive = float(r.stdout.split("naive_last_value_rmse = ")[1].split()[0])
    assert 0 < rmse < 0.5 and naive == pytest.approx(0.1012, abs=2e-3)


def test_classic_mnist_mlp_example(tmp_path):
    """tflearn's examples/images/dnn.py shape: fully_connected tanh + dropout(keep 0.8) + softmax,
    SGD with a decaying rate replaced by Adam here to keep it short; one-hot targets."""
    x, y, xt, yt = digits_as_mnist(600, 200)
    X, Y = x.reshape(-1, 784) / 255.0, tflearn.data_utils.to_categorical(y, 10)
    testX, testY = xt.reshape(-1, 784) / 255.0, tflearn.data_utils.to_categorical(yt, 10)
    zd.manual_seed(0)
    tflearn.reset_default_graph()
    net = tflearn.input_data(shape=[None, 784])
    net = tflearn.fully_connected(net, 64, activation='tanh', regularizer='L2', weight_decay=0.001)
    net = tflearn.dropout(net, 0.8)
    net = tflearn.fully_connected(net, 10, activation='softmax')
    net = tflearn.regression(net, optimizer='adam', learning_rate=0.01, loss='categorical_crossentropy')
    model = tflearn.DNN(net, tensorboard_verbose=0)
    model.fit(X, Y, n_epoch=8, validation_set=(testX, testY), show_metric=False, run_id="dense_model")
    acc = model.evaluate(testX, testY)[0]
    assert acc > 0.8  # chance is 0.1
    model.save(str(tmp_path / "dnn.tfl"))
    pred = model.predict(testX[:5])
    model2 = tflearn.DNN(net)
    model2.load(str(tmp_path / "dnn.tfl"))
    np.testing.assert_allclose(model2.predict(testX[:5]), pred, rtol=1e-6)


def test_tflearn_defaults():
    tflearn.reset_default_graph()
    zd.manual_seed(0)
    net = tflearn.input_data(shape=[None, 10, 1])
    lstm = tflearn.lstm(net, n_units=6)
    layer = lstm.node.layer
    assert np.all(layer.bias.data[6:12] == 1.0) and np.all(layer.bias.data[:6] == 0)  # forget bias 1.0
    assert layer.activation == "tanh" and layer.recurrent_activation == "sigmoid"
    assert tflearn.simple_rnn(net, 4).node.layer.activation == "sigmoid"
    fc = tflearn.fully_connected(lstm, 200).node.layer
    assert np.abs(fc.kernel.data).max() <= 0.04 + 1e-7 and abs(fc.kernel.data.std() - 0.0176) < 0.003  # trunc. normal 0.02
    conv = tflearn.conv_2d(tflearn.input_data(shape=[None, 8, 8, 1]), 4, 3)
    assert conv.shape == (None, 8, 8, 4)  # padding 'same'
    assert tflearn.max_pool_2d(conv, 2).shape == (None, 4, 4, 4)
    reg = tflearn.regression(tflearn.fully_connected(lstm, 1), optimizer='adam', loss='mean_square')
    dnn = tflearn.DNN(reg)
    opt = dnn.model._zk.optimizer
    assert opt.global_clipnorm == 5.0 and opt.learning_rate == 0.001 and opt.kwargs["eps"] == 1e-8
    with pytest.raises(ValueError, match="unknown loss 'hinge_x'"):
        tflearn.regression(lstm, loss="hinge_x")


def test_lrn_matches_its_formula():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 7)).astype("float32")
    net = tflearn.input_data(shape=[None, 3, 3, 7])
    layer = tflearn.local_response_normalization(net, depth_radius=2).node.layer
    got = layer(x).data
    sq = np.pad(x ** 2, ((0, 0), (0, 0), (0, 0), (2, 2)))
    s = sum(sq[..., k:k + 7] for k in range(5))
    np.testing.assert_allclose(got, x / (1.0 + 1e-4 * s) ** 0.75, rtol=1e-5)


def test_sgd_decay_per_step_and_top_k_metric():
    sgd = tflearn.SGD(learning_rate=0.1, lr_decay=0.96, decay_step=1000)
    assert sgd.rate(2000) == pytest.approx(0.1 * 0.96 ** 2) and sgd.rate(500) == pytest.approx(0.1 * 0.96 ** 0.5)
    assert tflearn.SGD(0.1, lr_decay=0.5, decay_step=10, staircase=True).rate(19) == pytest.approx(0.05)
    tflearn.reset_default_graph()
    zd.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    y = tflearn.data_utils.to_categorical(np.arange(50) % 3, 3)
    net = tflearn.fully_connected(tflearn.input_data(shape=[None, 4]), 3, activation="softmax")
    step = tflearn.SGD(learning_rate=0.1, lr_decay=0.5, decay_step=4)
    model = tflearn.DNN(tflearn.regression(net, optimizer=step, metric=tflearn.metrics.Top_k(2)))
    log = model.fit(x, y, n_epoch=2, batch_size=10)  # 10 steps: the last one ran at step 9
    assert model.model.optimizer.lr == pytest.approx(0.1 * 0.5 ** (9 / 4))
    assert set(log.history) == {"loss", "top2"}
    m = tflearn.metrics.Top_k(2).keras()
    m.update_state(np.eye(3)[[0, 1, 2]], np.array([[0.5, 0.4, 0.1], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]]))
    assert m.result() == pytest.approx(2 / 3)


def test_tflearn_module_paths_of_the_classic_examples():
    from zerodl.tflearn.layers.conv import conv_2d, max_pool_2d  # noqa: F401
    from zerodl.tflearn.layers.core import dropout, fully_connected, input_data  # noqa: F401
    from zerodl.tflearn.layers.estimator import regression  # noqa: F401
    from zerodl.tflearn.layers.normalization import local_response_normalization  # noqa: F401
    import zerodl.tflearn.datasets.mnist as mnist

    assert callable(mnist.load_data)
