"""The ``zerodl`` command: train, evaluate, predict and summary in a temporary folder."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from zerodl.cli import main
from zerodl.data import datasets


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--epochs", "4", "--out", str(out), "--verbose", "2"])
    assert code == 0
    return out


def test_train_writes_model_curve_and_history(trained, capsys):
    for name in ("model.safetensors", "learning_curve.png", "history.csv"):
        assert (trained / name).stat().st_size > 0, name
    with open(trained / "learning_curve.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    rows = (trained / "history.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch") and len(rows) == 5


def test_evaluate_reports_the_test_accuracy(trained, capsys):
    assert main(["evaluate", str(trained / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    acc = float(re.search(r"accuracy (\d\.\d+)", out).group(1))
    assert "360 samples" in out and acc > 0.8


def test_predict_npy_and_png_agree(trained, tmp_path, capsys):
    from PIL import Image

    x, t = datasets.digits()
    np.save(tmp_path / "three.npy", x[:3])
    png = tmp_path / "first.png"
    Image.fromarray((x[0].astype(np.float64) * 255 / 16).round().astype(np.uint8), mode="L").save(png)
    assert main(["predict", str(trained / "model.safetensors"), str(tmp_path / "three.npy"), str(png)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    labels = [int(re.search(r": (\d+) \(p=", line).group(1)) for line in lines]
    assert len(labels) == 4
    assert labels[3] == labels[0]  # the PNG of digit 0 is read like the array
    assert sum(a == b for a, b in zip(labels[:3], t[:3])) >= 2


def test_summary_lists_layers(trained, capsys):
    assert main(["summary", str(trained / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "Linear" in out and re.search(r"Total params", out, re.I)


def test_bad_model_path_is_a_clear_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.safetensors")]) == 2
    assert "no such model file" in capsys.readouterr().err


def test_damaged_model_file_is_refused(trained, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((trained / "model.safetensors").read_bytes()[:100])
    assert main(["summary", str(bad)]) == 2
    assert "cannot load the model" in capsys.readouterr().err


def test_image_of_the_wrong_size_is_refused(trained, tmp_path, capsys):
    from PIL import Image

    png = tmp_path / "big.png"
    Image.fromarray(np.zeros((28, 28), np.uint8), mode="L").save(png)
    assert main(["predict", str(trained / "model.safetensors"), str(png)]) == 2
    err = capsys.readouterr().err
    assert "(28, 28)" in err and "(8, 8)" in err


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "zerodl", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout


def test_default_train_reaches_097_on_digits(tmp_path):
    """`zerodl train` with no options: the CNN on the embedded digits, test accuracy >= 0.97."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "zerodl", "train", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    acc = float(re.search(r"test accuracy: (\d\.\d+)", r.stdout).group(1))
    assert acc >= 0.97, r.stdout


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "--epochs must be a positive integer, got 0"),
    ("--epochs", "-3", "--epochs must be a positive integer, got -3"),
    ("--batch-size", "0", "--batch-size must be a positive integer, got 0"),
    ("--lr", "-1", "--lr must be a positive number, got -1.0"),
    ("--lr", "nan", "--lr must be a positive number, got nan"),
])
def test_train_bad_numbers_are_clear_errors(tmp_path, capsys, option, value, message):
    assert main(["train", option, value, "--out", str(tmp_path)]) == 2
    assert f"zerodl: error: {message}" in capsys.readouterr().err
    assert not os.listdir(tmp_path)  # refused before any training or writing


def test_train_unknown_optimizer_and_missing_mnist(tmp_path, capsys):
    assert main(["train", "--optimizer", "nadam", "--out", str(tmp_path)]) == 2
    assert "zerodl: error: unknown optimizer 'nadam'" in capsys.readouterr().err
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zerodl: error:") and "train-images-idx3-ubyte" in err


def test_predict_refuses_bad_npy_files_without_suggesting_pickle(trained, tmp_path, capsys):
    model = str(trained / "model.safetensors")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "text.npy").write_text("not numpy at all")
    np.save(tmp_path / "str.npy", np.full((8, 8), "a"))
    (tmp_path / "notimg.png").write_text("hello")
    for name in ("obj.npy", "text.npy", "str.npy", "notimg.png"):
        assert main(["predict", model, str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("zerodl: error: ") and name in err, err
        assert "allow_pickle=" not in err and "pickle.load" not in err, err
