"""The Keras article's scripts (../shared/material/001_*) run with only their imports changed."""
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
    with pytest.raises(ValueError, match="image layers must come first"):
        model.add(layers.Conv2D(8, 3))
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 3), np.float32), np.zeros(2, np.int64))


def test_keras_layers_use_glorot_uniform_like_keras():
    """Keras initialises Dense/Conv2D kernels glorot_uniform (zerodl's own layers use He)."""
    from zerodl.keras import layers, models

    model = models.Sequential([layers.Conv2D(8, 3, input_shape=(6, 6, 1)), layers.Flatten(), layers.Dense(3)])
    conv, dense = model[1], model[3]
    for W, fan_in, fan_out in ((conv.W.data, 9, 72), (dense.W.data, 128, 3)):
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.8 * limit
    lazy = models.Sequential([layers.Dense(4)])  # size known only at the first fit
    from zerodl.keras.optimizers import SGD

    lazy.compile(optimizer=SGD(learning_rate=0.0), loss="mse")  # lr 0: the weights stay as initialised
    lazy.fit(np.ones((2, 300), np.float32), np.zeros((2, 4), np.float32), verbose=0, epochs=1)
    assert np.abs(lazy[0].W.data).max() <= np.sqrt(6 / 304) + 1e-3  # glorot, not He (std 0.08)
