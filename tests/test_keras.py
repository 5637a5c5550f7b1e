"""The Keras facade: the article's scripts (../shared/material/001_*) run with only their imports
changed, and Sequential behaves as Keras's (evaluate types, repeated fit, lazy sizes, verbose)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests._fake_mnist import write_fake_mnist

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    arrays = write_fake_mnist(str(folder))
    monkeypatch.setenv("ZERODL_DATA", str(folder))
    return folder


def _run_example(name, data_dir, out, *extra):
    """Run examples/NAME.py (the article's script, only its imports changed) on ``data_dir``."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), "--quick", "--data-dir", str(data_dir),
                        "--out", str(out), *extra], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    results = dict(re.findall(r"^result: (\w+) = (\S+)", r.stdout, re.M))
    return r.stdout, {k: float(v) for k, v in results.items()}


def test_article_mlp_script_runs_and_learns(fake_mnist, tmp_path):
    out, results = _run_example("keras_mlp.py", fake_mnist, tmp_path, "--epochs", "8")
    assert "data: MNIST" in out  # it read the IDX files through keras.datasets.mnist.load_data()
    assert re.search(r"^Epoch 1/8 - .* - loss: .* - mae: .* - accuracy: .* - val_loss: .* - val_mae: .* - val_accuracy: ",
                     out, re.M)  # one log line per epoch when stdout is not a terminal
    assert results["test_accuracy"] > 0.85
    assert (tmp_path / "learning_curve.png").stat().st_size > 0


def test_article_cnn_script_runs_channels_last(fake_mnist, tmp_path):
    out, results = _run_example("keras_cnn.py", fake_mnist, tmp_path, "--epochs", "3")
    assert "data: MNIST" in out
    assert results["test_accuracy"] > 0.6


def test_keras_evaluate_returns_loss_and_metrics_list(fake_mnist):
    from zerodl.keras import layers, models

    (x, t), _ = __import__("zerodl.keras.datasets.mnist", fromlist=["load_data"]).load_data()
    x = x.reshape(-1, 784).astype("float32")[:64] / 255
    model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(784,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, t[:64], epochs=1, verbose=0)
    loss, acc = model.evaluate(x, t[:64])
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0


def test_keras_layer_errors():
    from zerodl.keras import layers, models

    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(8, 3, padding="causal")
    model = models.Sequential([layers.Dense(4, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"Conv2D conv2d\S*: expected images \(N, H, W, C\)"):
        model.add(layers.Conv2D(8, 3))
    model.pop()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 3), np.float32), np.zeros(2, np.int64))


def test_keras_layers_use_glorot_uniform_like_keras():
    """Keras initialises Dense/Conv2D kernels glorot_uniform (zerodl's own layers use He)."""
    from zerodl.keras import layers, models

    model = models.Sequential([layers.Conv2D(8, 3, input_shape=(6, 6, 1)), layers.Flatten(), layers.Dense(3)])
    conv, dense = model.layers[0], model.layers[2]
    assert conv.kernel.shape == (3, 3, 1, 8) and dense.kernel.shape == (128, 3)  # Keras's layouts
    for W, fan_in, fan_out in ((conv.kernel.data, 9, 72), (dense.kernel.data, 128, 3)):
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.8 * limit
    lazy = models.Sequential([layers.Dense(4)])  # size known only at the first fit
    from zerodl.keras.optimizers import SGD

    lazy.compile(optimizer=SGD(learning_rate=0.0), loss="mse")  # lr 0: the weights stay as initialised
    lazy.fit(np.ones((2, 300), np.float32), np.zeros((2, 4), np.float32), verbose=0, epochs=1)
    assert np.abs(lazy.layers[0].kernel.data).max() <= np.sqrt(6 / 304) + 1e-3  # glorot, not He (std 0.08)


def _toy(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def _keras_model(**compile_kw):
    from zerodl.keras import layers, models

    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(5,))])
    model.compile(**{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", **compile_kw})
    return model


def test_keras_evaluate_after_compile_without_fit_returns_keras_types():
    x, y = _toy()
    model = _keras_model(metrics=["accuracy"])
    loss, acc = model.evaluate(x, y)  # Keras evaluates a compiled, never fitted model
    assert isinstance(loss, float) and isinstance(acc, float) and loss > 0 and 0 <= acc <= 1
    only_loss = _keras_model().evaluate(x, y)  # no metrics: a scalar, as Keras
    assert isinstance(only_loss, float)


def test_keras_second_fit_keeps_the_optimizer_and_its_state():
    x, y = _toy()
    model = _keras_model()
    model.fit(x, y, epochs=1, verbose=0)
    opt = model.optimizer
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer is opt  # Keras continues with the same optimizer (Adam moments, lr)


@pytest.mark.parametrize("verbose", [0, 1, 2, True, False, "auto"])
def test_keras_fit_verbose_values(verbose, capsys):
    x, y = _toy()
    _keras_model().fit(x, y, epochs=1, verbose=verbose)
    printed = capsys.readouterr().out
    assert ("loss" in printed) == (verbose not in (0, False))


def test_keras_fit_bad_verbose_names_fit():
    x, y = _toy()
    with pytest.raises(ValueError, match="verbose"):
        _keras_model().fit(x, y, epochs=1, verbose="loud")


def test_keras_fit_accepts_dataset_and_dataloader_and_keeps_mode():
    from zerodl.data import DataLoader, TensorDataset

    x, y = _toy()
    model = _keras_model(metrics=["accuracy"])
    h1 = model.fit(TensorDataset(x, y), epochs=1, verbose=0)
    h2 = model.fit(DataLoader(TensorDataset(x, y), batch_size=8), epochs=1, verbose=0)
    assert len(h1.history["loss"]) == len(h2.history["loss"]) == 1
    model.eval()
    model.fit(x, y, epochs=1, verbose=0)
    assert not model.training  # fit leaves the mode it found


def test_keras_lazy_dense_then_batchnorm_dropout():
    from zerodl.keras import layers, models

    x, y = _toy()
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                               layers.Dropout(0.2), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    bn = [m for m in model.layers if type(m).__name__ == "BatchNormalization"]
    assert len(bn) == 1 and bn[0].gamma.shape == (8,) and bn[0].moving_mean.shape == (8,)
    assert model.predict(x).shape == (40, 2)


def test_keras_lazy_conv_then_batchnorm_is_per_channel():
    from zerodl.keras import layers, models

    x = np.random.default_rng(0).normal(size=(6, 8, 8, 1)).astype("float32")
    model = models.Sequential([layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Flatten(),
                               layers.BatchNormalization(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((6, 2), np.float32), epochs=1, verbose=0)
    kinds = [m.gamma.shape for m in model.layers if "BatchNorm" in type(m).__name__]
    assert kinds == [(4,), (4 * 6 * 6,)]  # per channel (the last axis), then per feature


def test_keras_lstm_lazy_and_stacked():
    from zerodl.keras import layers, models

    rng = np.random.default_rng(0)
    xs = rng.normal(size=(16, 6, 3)).astype("float32")
    ys = xs.sum(axis=(1, 2))[:, None]
    for model in (models.Sequential([layers.LSTM(4), layers.Dense(1)]),
                  models.Sequential([layers.LSTM(4, return_sequences=True, input_shape=(6, 3)),
                                     layers.LSTM(3), layers.Dense(1)])):
        model.compile(optimizer="adam", loss="mse")
        model.fit(xs, ys, epochs=1, verbose=0)
        assert model.predict(xs).shape == (16, 1)
        assert isinstance(model.evaluate(xs, ys), float)


def test_keras_optimizer_arguments_reach_zerodl_optimizers():
    import zerodl as zd
    import zerodl.optim as optim
    from zerodl.keras import optimizers

    p = [zd.tensor(np.ones(3), requires_grad=True)]
    adamw = optimizers.Adam(0.01, weight_decay=0.004).build(p)
    assert isinstance(adamw, optim.AdamW) and adamw.param_groups[0]["weight_decay"] == 0.004
    adam = optimizers.Adam(0.01, amsgrad=True).build(p)
    assert type(adam) is optim.Adam and adam.param_groups[0]["amsgrad"] is True
    rms = optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True).build(p)
    g = rms.param_groups[0]
    assert (g["alpha"], g["momentum"], g["centered"]) == (0.8, 0.5, True)
    sgd = optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=1e-4).build(p)
    g = sgd.param_groups[0]
    assert (g["momentum"], g["nesterov"], g["weight_decay"]) == (0.9, True, 1e-4)
