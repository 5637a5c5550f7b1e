"""Keras 3 scripts as keras-io teaches them, run on ``zerodl.keras`` with only the import changed
(on small fake MNIST), the summary text, model files, and weights taken from real Keras."""
import os
import subprocess
import sys

import numpy as np
import pytest

import zerodl as zd
import zerodl.keras as keras
from zerodl.keras import layers
from tests._fake_mnist import digits_as_mnist


@pytest.fixture(scope="module")
def mnist():
    x, t, xt, tt = digits_as_mnist(600, 200)
    return (x.astype("float32") / 255, t), (xt.astype("float32") / 255, tt)


def test_sequential_convnet_with_keras_input(mnist):
    """keras-io's "Simple MNIST convnet", smaller: Input, Conv2D, pooling, Dropout, softmax."""
    (x, y), (xt, yt) = mnist
    zd.manual_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    h = model.fit(x[..., None], keras.utils.to_categorical(y, 10), batch_size=32, epochs=6,
                  validation_split=0.1, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    score = model.evaluate(xt[..., None], keras.utils.to_categorical(yt, 10), verbose=0)
    assert isinstance(score, list) and score[1] > 0.7  # chance is 0.1
    assert model.layers[0].kernel.shape == (3, 3, 1, 8)


def test_functional_mlp_sparse_from_logits_float_and_column_labels(mnist):
    (x, y), (xt, yt) = mnist
    zd.manual_seed(0)
    inputs = keras.Input(shape=(784,), name="digits")
    h = layers.Dense(64, activation="relu", name="dense_a")(inputs)
    h = layers.Dense(64, activation="relu")(h)
    outputs = layers.Dense(10, name="predictions")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    yf = y.astype("float32")[:, None]  # float (N, 1) labels, as real Keras takes them
    model.fit(x.reshape(-1, 784), yf, batch_size=64, epochs=4, verbose=0)
    logs = model.evaluate(xt.reshape(-1, 784), yt, return_dict=True, verbose=0)
    assert set(logs) == {"loss", "sparse_categorical_accuracy"} and logs["sparse_categorical_accuracy"] > 0.85
    assert model.get_layer("dense_a").kernel.shape == (784, 64) and model.count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 650


def test_two_inputs_two_outputs_losses_and_metrics_per_output():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 6)).astype("float32"), rng.normal(size=(200, 3)).astype("float32")
    cls = (a[:, 0] + b[:, 0] > 0).astype("int64")
    reg = (a[:, 1] - 2 * b[:, 1]).astype("float32")
    zd.manual_seed(0)
    ia, ib = keras.Input(shape=(6,), name="a"), keras.Input(shape=(3,), name="b")
    x = layers.Concatenate()([layers.Dense(16, activation="relu")(ia), layers.Dense(16, activation="relu")(ib)])
    x = layers.Add()([x, layers.Dense(32)(x)])
    out_c = layers.Dense(2, activation="softmax", name="cls")(x)
    out_r = layers.Dense(1, name="reg")(layers.Multiply()([x, layers.Dense(32, activation="sigmoid")(x)]))
    model = keras.Model([ia, ib], {"cls": out_c, "reg": out_r})
    model.compile(optimizer=keras.optimizers.Adam(lr=0.01), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    h = model.fit({"a": a, "b": b}, {"cls": cls, "reg": reg}, epochs=15, batch_size=32, verbose=0)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"} <= set(h.history)
    last = {k: v[-1] for k, v in h.history.items()}
    assert last["loss"] == pytest.approx(last["cls_loss"] + 0.5 * last["reg_loss"], rel=1e-6)
    assert last["cls_accuracy"] > 0.9 and last["reg_mae"] < 0.5
    pred = model.predict({"a": a, "b": b})
    assert pred["cls"].shape == (200, 2) and np.allclose(pred["cls"].sum(1), 1, atol=1e-5)


def test_subclassed_model_with_call_and_training_flag(mnist, tmp_path):
    (x, y), _ = mnist

    class MLP(keras.Model):
        def __init__(self, hidden=32, **kwargs):
            super().__init__(**kwargs)
            self.d1 = layers.Dense(hidden, activation="relu")
            self.drop = layers.Dropout(0.2)
            self.d2 = layers.Dense(10)

        def call(self, inputs, training=False):
            return self.d2(self.drop(self.d1(inputs), training=training))

    zd.manual_seed(0)
    model = MLP()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    h = model.fit(x.reshape(-1, 784), y, epochs=6, verbose=0)
    assert h.history["accuracy"][-1] > 0.85
    assert [la.name for la in model.layers][0].startswith("dense") and len(model.get_weights()) == 4
    model.save(tmp_path / "mlp.keras")  # the class must be defined where it is loaded, as in Keras
    again = keras.models.load_model(tmp_path / "mlp.keras")
    assert type(again) is MLP and again.d1.units == 32
    np.testing.assert_allclose(again.predict(x[:20].reshape(-1, 784)), model.predict(x[:20].reshape(-1, 784)),
                               rtol=1e-5)


def test_summary_prints_keras_table_once_and_returns_none(capsys):
    keras.clear_session()
    model = keras.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(10, activation="softmax"))
    assert model.summary() is None
    out = capsys.readouterr().out
    assert out.count('Model: "sequential"') == 1
    assert "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │" in out
    assert "│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │" in out
    assert "│ dense (Dense)                   │ (None, 10)             │        54,090 │" in out
    assert " Total params: 54,410 (212.54 KB)" in out and " Non-trainable params: 0 (0.00 B)" in out
    second = keras.Sequential([layers.Dense(5, input_shape=(3,)), layers.BatchNormalization(), layers.Dense(2)])
    second.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential_1"' in out and "dense_1 (Dense)" in out and "dense_2 (Dense)" in out
    assert " Non-trainable params: 10 (40.00 B)" in out  # moving mean and variance


def test_functional_summary_has_connected_to_column(capsys):
    keras.clear_session()
    a, b = keras.Input(shape=(8,), name="a"), keras.Input(shape=(4,), name="b")
    z = layers.Concatenate()([layers.Dense(16)(a), layers.Dense(16)(b)])
    keras.Model([a, b], layers.Dense(3, name="cls")(z)).summary()
    out = capsys.readouterr().out
    assert "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃" in out
    assert "│ concatenate         │ (None, 32)        │          0 │ dense[0][0],      │" in out
    assert "│ (Concatenate)       │                   │            │ dense_1[0][0]     │" in out


def _small_model():
    zd.manual_seed(1)
    inp = keras.Input(shape=(6, 6, 1))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_model_file_round_trip_and_h5_refused(tmp_path):
    model = _small_model()
    x = np.random.default_rng(0).normal(size=(20, 6, 6, 1)).astype("float32")
    model.fit(x, np.arange(20) % 3, epochs=2, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    assert again.evaluate(x, np.arange(20) % 3, verbose=0)[0] == pytest.approx(model.evaluate(x, np.arange(20) % 3)[0])
    with pytest.raises(ValueError, match=r"HDF5 \(.h5\) files are not supported.*m.keras"):
        model.save(tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = _small_model()
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), model.predict(x), rtol=1e-6)
    with open(path, "rb") as f:
        assert b"pickle" not in f.read(200)


def test_sequential_file_opens_in_a_fresh_process_and_cli(tmp_path):
    zd.manual_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(30, 4)).astype("float32")
    model.fit(x, np.arange(30) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "seq.keras")
    np.save(tmp_path / "x.npy", x[:2])
    code = ("import numpy as np, zerodl as zd; m = zd.load_model(%r); "
            "print(type(m).__name__, np.round(m.predict(np.load(%r)), 5).tolist())") % (
        str(tmp_path / "seq.keras"), str(tmp_path / "x.npy"))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("KerasSequential") and str(np.round(model.predict(x[:2]), 5).tolist()) in r.stdout
    r = subprocess.run([sys.executable, "-m", "zerodl", "summary", str(tmp_path / "seq.keras")], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr


def test_set_weights_takes_a_keras_get_weights_list():
    """Keras's order and layouts; values computed here by hand (NHWC conv, i-f-c-o LSTM)."""
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input(shape=(5, 5, 2)), layers.Conv2D(3, 3), layers.Flatten(), layers.Dense(2)])
    ws = [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(ws)
    x = rng.normal(size=(1, 5, 5, 2)).astype("float32")
    conv = np.einsum("hwc,hwcf->f", x[0, 1:4, 2:5], ws[0]) + ws[1]  # output pixel (1, 2)
    feats = np.stack([[np.einsum("hwc,hwcf->f", x[0, i:i + 3, j:j + 3], ws[0]) + ws[1] for j in range(3)]
                      for i in range(3)])
    np.testing.assert_allclose(feats[1, 2], conv, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x)[0], feats.reshape(-1) @ ws[2] + ws[3], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="4 weight arrays, got 3"):
        model.set_weights(ws[:3])


KERAS_PY = "/work/venv-tf/bin/python"


@pytest.mark.skipif(not os.path.exists(KERAS_PY), reason="no TensorFlow/Keras environment")
def test_weights_from_real_keras_give_the_same_predictions(tmp_path):
    """Build the same model in real Keras, save its get_weights() with numpy.savez, load here."""
    script = r"""
import os, sys, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from keras import layers
keras.utils.set_random_seed(0)
img = keras.Input(shape=(8, 8, 1)); seq = keras.Input(shape=(7, 3))
x = layers.Conv2D(4, 3, activation="relu", padding="same")(img)
x = layers.MaxPooling2D()(x); x = layers.BatchNormalization()(x)
x = layers.Conv2DTranspose(2, 2, strides=2)(x); x = layers.Flatten()(x)
s = layers.LSTM(5, return_sequences=True, activation="relu")(seq)
s = layers.GRU(4)(s)
z = layers.Concatenate()([layers.Dense(6, activation="tanh")(x), layers.Dense(6)(s)])
out = layers.Dense(3, activation="softmax")(layers.LayerNormalization()(z))
m = keras.Model([img, seq], out)
rng = np.random.default_rng(1)
w = [rng.normal(size=a.shape).astype("float32") * 0.5 for a in m.get_weights()]
w[5] = np.abs(w[5]) + 0.5  # moving variance > 0
m.set_weights(w)
xi, xs = rng.normal(size=(4, 8, 8, 1)).astype("float32"), rng.normal(size=(4, 7, 3)).astype("float32")
np.savez(sys.argv[1], *m.get_weights(), xi=xi, xs=xs, pred=m.predict([xi, xs], verbose=0))
"""
    path = tmp_path / "keras_weights.npz"
    r = subprocess.run([KERAS_PY, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"real Keras did not run: {r.stderr[-300:]}")
    data = np.load(path, allow_pickle=False)
    img, seq = keras.Input(shape=(8, 8, 1)), keras.Input(shape=(7, 3))
    x = layers.Conv2D(4, 3, activation="relu", padding="same")(img)
    x = layers.MaxPooling2D()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2DTranspose(2, 2, strides=2)(x)
    x = layers.Flatten()(x)
    s = layers.LSTM(5, return_sequences=True, activation="relu")(seq)
    s = layers.GRU(4)(s)
    z = layers.Concatenate()([layers.Dense(6, activation="tanh")(x), layers.Dense(6)(s)])
    out = layers.Dense(3, activation="softmax")(layers.LayerNormalization()(z))
    model = keras.Model([img, seq], out)
    n = len([k for k in data.files if k.startswith("arr_")])
    model.set_weights([data[f"arr_{i}"] for i in range(n)])
    got = model.predict([data["xi"], data["xs"]])
    np.testing.assert_allclose(got, data["pred"], rtol=1e-4, atol=1e-5)


def _keras_run(script, path):
    r = subprocess.run([KERAS_PY, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"real Keras did not run: {r.stderr[-300:]}")
    return np.load(path, allow_pickle=False)


BUILD_MORE = """
img = keras.Input(shape=(7, 7, 2)); ids = keras.Input(shape=(5,), dtype="int32")
a = layers.Conv2D(3, 3, strides=2, padding="same")(img)
a = layers.UpSampling2D(2)(a)
b = layers.UpSampling2D((2, 2), interpolation="bilinear")(layers.AveragePooling2D(2, padding="same")(img))
b = layers.Conv2D(3, 1)(layers.Rescaling(0.5, offset=0.1)(b))
m = layers.Multiply()([a, b])
g = layers.GlobalMaxPooling2D()(layers.MaxPooling2D(2, padding="same")(m))
e = layers.Embedding(11, 4)(ids)
e = layers.SimpleRNN(3, return_sequences=True)(e)
e = layers.Reshape((15,))(e)
h = layers.Add()([layers.Dense(5, activation="relu")(e), layers.Dense(5)(g)])
h = layers.Add()([h, layers.Dense(5)(layers.GlobalAveragePooling2D()(b))])
out = layers.Dense(2, activation="sigmoid")(h)
m = keras.Model([img, ids], out)
"""


@pytest.mark.skipif(not os.path.exists(KERAS_PY), reason="no TensorFlow/Keras environment")
def test_more_layers_match_real_keras(tmp_path):
    """'same' padding with an odd total (stride 2, pools), bilinear/nearest upsampling,
    Rescaling, Multiply/Add, global pools, Embedding, SimpleRNN, Reshape."""
    script = ("import os, sys, numpy as np\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport keras\n"
              "from keras import layers\n" + BUILD_MORE + """
rng = np.random.default_rng(2)
w = [rng.normal(size=a.shape).astype("float32") * 0.5 for a in m.get_weights()]
m.set_weights(w)
xi = rng.normal(size=(3, 7, 7, 2)).astype("float32"); xs = rng.integers(0, 11, (3, 5)).astype("int32")
np.savez(sys.argv[1], *m.get_weights(), xi=xi, xs=xs, pred=m.predict([xi, xs], verbose=0))
""")
    data = _keras_run(script, tmp_path / "more.npz")
    scope = {"keras": keras, "layers": layers}
    exec(BUILD_MORE, scope)  # the same model-building lines, on zerodl.keras
    model = scope["m"]
    n = len([k for k in data.files if k.startswith("arr_")])
    model.set_weights([data[f"arr_{i}"] for i in range(n)])
    np.testing.assert_allclose(model.predict([data["xi"], data["xs"]]), data["pred"], rtol=1e-4, atol=1e-5)


def test_nested_models_sequences_and_batchnorm_on_3d_round_trip(tmp_path):
    """A Sequential inside a functional model; Embedding -> LSTM(relu, sequences) ->
    BatchNormalization on (N, T, F) -> GRU; the file rebuilds the same predictions."""
    zd.manual_seed(0)
    encoder = keras.Sequential([layers.Embedding(20, 6), layers.LSTM(5, activation="relu", return_sequences=True),
                                layers.BatchNormalization(), layers.GRU(4)], name="encoder")
    ids = keras.Input(shape=(7,), dtype="int64")
    out = layers.Dense(2, activation="softmax")(encoder(ids))
    model = keras.Model(ids, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).integers(0, 20, (64, 7))
    y = (x[:, 0] > 9).astype("int64")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    bn = encoder.get_layer(index=2)
    h = encoder.layers[1](encoder.layers[0](x[:16]))  # (16, 7, 5): per channel over N and T
    assert bn.moving_mean.shape == (5,) and not np.allclose(bn.moving_mean, 0)
    with zd.no_grad():
        y_train = bn(h).data
    assert y_train.shape == (16, 7, 5)
    model.save(tmp_path / "nested.keras")
    again = keras.models.load_model(tmp_path / "nested.keras")
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    assert [la.name for la in again.layers] == [la.name for la in model.layers]


def test_summary_of_a_lazily_built_sequential_after_fit(capsys):
    keras.clear_session()
    model = keras.Sequential([layers.Conv2D(4, (3, 3), activation="relu"), layers.Flatten(), layers.Dense(3)])
    model.summary()
    assert "? " in capsys.readouterr().out  # not built yet: Keras prints '?' too
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 8, 8, 1), "float32"), np.zeros((4, 3), "float32"), epochs=1, verbose=0)
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 6, 6, 4)" in out and "(None, 144)" in out and "?" not in out
    assert model.count_params() == 3 * 3 * 4 + 4 + 144 * 3 + 3


def test_learning_rate_schedules_set_the_rate_per_step():
    s = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(20) == pytest.approx(0.025) and s(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    c = keras.optimizers.schedules.CosineDecay(1.0, 100, alpha=0.1)
    assert c(0) == pytest.approx(1.0) and c(50) == pytest.approx(0.55) and c(200) == pytest.approx(0.1)
    p = keras.optimizers.schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])
    assert [p(0), p(5), p(6), p(11)] == [1.0, 1.0, 0.5, 0.1]
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=s), loss="mse")
    model.fit(np.zeros((40, 3), "float32"), np.zeros(40, "float32"), batch_size=10, epochs=2, verbose=0)
    assert model.optimizer.lr == pytest.approx(s(7))  # 8 steps: the last one used step 7
