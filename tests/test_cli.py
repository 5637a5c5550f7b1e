"""The ``zerodl`` command: train, evaluate, predict and summary in a temporary folder.

Every call of ``main`` here goes through a check (the autouse fixture): no traceback in the
output, and stderr empty or one ``zerodl: ...`` line.
"""
import errno
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import zerodl as zd
from zerodl import cli
from zerodl.data import datasets

_real_main = cli.main


def _check_output(out, err):
    assert "Traceback" not in out + err, out + err
    lines = err.strip().splitlines()
    assert len(lines) <= 1, f"stderr is not one line: {err!r}"
    assert not lines or lines[0].startswith("zerodl: "), err
    assert "RuntimeWarning" not in out + err


@pytest.fixture(autouse=True)
def _one_line_errors(capsys, monkeypatch):
    """Wrap ``main``: check what it printed, then print it again for the test to read."""

    def checked_main(argv):
        code = _real_main(argv)
        out, err = capsys.readouterr()
        _check_output(out, err)
        sys.stdout.write(out)
        sys.stderr.write(err)
        return code

    monkeypatch.setitem(globals(), "main", checked_main)


def main(argv):  # replaced by the fixture above in every test
    return _real_main(argv)


def _cli(*args, cwd=None, **kw):
    """``python -m zerodl ARGS`` in a subprocess; checks its output as ``main`` is checked."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "zerodl", *args], capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=300, **kw)
    _check_output(r.stdout, r.stderr)
    return r


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
    r = _cli("--help")
    assert r.returncode == 0 and "train" in r.stdout


def test_default_train_reaches_097_on_digits(tmp_path):
    """`zerodl train` with no options: the CNN on the embedded digits, test accuracy >= 0.97."""
    r = _cli("train", "--out", str(tmp_path))
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
    out = tmp_path / "out"
    assert main(["train", option, value, "--out", str(out)]) == 2
    assert f"zerodl: error: {message}" in capsys.readouterr().err
    assert not out.exists()  # refused before any training or writing


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


# ----------------------------------------------------------------------------- issue 11
TINY = ["train", "--model", "mlp", "--epochs", "1", "--verbose", "0"]


def test_usage_errors_are_one_line_with_exit_2(capsys):
    assert main(["train", "--epochs", "three"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zerodl: error: argument --epochs: invalid int value: 'three'")
    assert "zerodl train --help" in err
    assert main([]) == 2
    assert "zerodl: error: the following arguments are required: command" in capsys.readouterr().err
    assert main(["fly"]) == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_folder_given_as_model_file_is_named_as_such(tmp_path, capsys):
    for command in (["summary"], ["evaluate"], ["predict"]):
        argv = command + [str(tmp_path)] + (["x.png"] if command == ["predict"] else [])
        assert main(argv) == 2
        assert f"zerodl: error: {tmp_path}: is a folder, not a model file" in capsys.readouterr().err


def test_folder_given_as_image_and_file_given_as_folder(trained, tmp_path, capsys):
    assert main(["predict", str(trained / "model.safetensors"), str(tmp_path)]) == 2
    assert f"{tmp_path}: is a folder, not an image or .npy file" in capsys.readouterr().err
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert main([*TINY, "--out", str(a_file)]) == 2
    assert f"zerodl: error: {a_file}: is a file, not a folder (the --out folder)" in capsys.readouterr().err
    assert main([*TINY, "--dataset", "mnist", "--data-dir", str(a_file), "--out", str(tmp_path / "o")]) == 2
    assert f"{a_file}: is a file, not a folder (the --data-dir folder)" in capsys.readouterr().err
    assert a_file.read_text() == "x"


def test_default_run_folders_are_never_shared(tmp_path, monkeypatch, capsys):
    from zerodl.cli import run_folder

    monkeypatch.chdir(tmp_path)
    a = run_folder.RunFolder(None, {"seed": 0})
    b = run_folder.RunFolder(None, {"seed": 0})  # the same second
    assert a.path != b.path and os.path.isdir(a.path) and os.path.isdir(b.path)
    assert os.path.dirname(a.path) == "runs"


def test_out_holding_a_model_is_refused_unless_overwrite(trained, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    model = out / "model.safetensors"
    model.write_bytes((trained / "model.safetensors").read_bytes())
    before = model.read_bytes()
    assert main([*TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds a model (model.safetensors) from an earlier run" in err and "--overwrite" in err
    assert model.read_bytes() == before
    assert main([*TINY, "--out", str(out), "--overwrite"]) == 0
    assert model.read_bytes() != before and zd.load_model(model).__class__.__name__ == "Sequential"


def test_resume_with_other_options_is_refused(tmp_path, capsys):
    from zerodl.cli.run_folder import RunFolder

    out = tmp_path / "run"
    options = {"dataset": "digits", "model": "mlp", "epochs": 1, "batch_size": 32, "lr": 0.001,
               "optimizer": "adam", "seed": 0}
    RunFolder(str(out), options)._lock_file.close()
    (out / "checkpoint").mkdir()
    (out / "checkpoint" / "backup.safetensors").write_bytes(b"x" * 16)
    assert main([*TINY, "--out", str(out), "--lr", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "holds an interrupted run with other options (--lr 0.001 (now 0.1))" in err


def _fail_writes_under(monkeypatch, folder, code):
    """Make every file creation under ``folder`` fail with ``code`` (EROFS, ENOSPC), as a
    read-only or full file system would (tests may not run as root, or be allowed to mount)."""
    real_open = os.open
    folder = os.path.realpath(folder)

    def fake_open(path, flags, *args, **kw):
        if flags & (os.O_WRONLY | os.O_RDWR) and os.path.realpath(path).startswith(folder + os.sep):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", fake_open)


def test_read_only_output_folder_is_a_clear_message(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    _fail_writes_under(monkeypatch, out, errno.EROFS)
    monkeypatch.setattr("builtins.open", _refusing_open(out, errno.EROFS))
    assert main([*TINY, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"zerodl: error: cannot write into the output folder {out}") and "read-only" in err
    assert os.listdir(out) == []


def _refusing_open(folder, code):
    import builtins

    real = builtins.open
    folder = os.path.realpath(folder)

    def fake(path, mode="r", *args, **kw):
        if any(c in mode for c in "wax+") and os.path.realpath(os.fspath(path)).startswith(folder + os.sep):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real(path, mode, *args, **kw)

    return fake


def test_divergence_exits_1_without_saving_the_nan_model(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--lr", "1e9", "--epochs", "2", "--verbose", "0", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.match(r"zerodl: error: training diverged: the loss became (nan|inf) at epoch 1, batch \d+ "
                    r"\(try a smaller --lr\); no model was saved", err), err
    assert not (out / "model.safetensors").exists()


def test_divergence_after_an_epoch_keeps_the_last_finite_checkpoint(tmp_path, monkeypatch, capsys):
    """Weights blown up in the second epoch (as a too large step would): the checkpoint of
    the first epoch stays, and the message says where it is."""
    from zerodl import optim

    real_step = optim.Adam.step
    calls = []

    def step(self):
        real_step(self)
        calls.append(1)
        if len(calls) == 45:  # the digits MLP takes 41 steps an epoch with batch 32
            for p in self._flat_params():
                p.data *= np.float32(1e30)

    monkeypatch.setattr(optim.Adam, "step", step)
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--epochs", "3", "--verbose", "0", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "training diverged: the loss became" in err and "at epoch 2, batch" in err
    assert "the last finite checkpoint (after epoch 1)" in err
    assert not (out / "model.safetensors").exists()
    ckpt = out / "checkpoint" / "backup.safetensors"
    state = zd.load(ckpt)
    assert all(np.isfinite(v).all() for k, v in state.items() if k.startswith("model."))
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2  # header + epoch 1


def test_predict_and_evaluate_refuse_a_model_with_non_finite_weights(trained, tmp_path, capsys):
    model, meta = zd.load_model(trained / "model.safetensors", with_metadata=True)
    next(iter(model.parameters())).data[0, 0, 0, 0] = np.nan
    bad = tmp_path / "nan.safetensors"
    zd.nn.save_model(model, bad, metadata={"zerodl.cli": meta["zerodl.cli"]})
    x, _ = datasets.digits()
    np.save(tmp_path / "one.npy", x[:1])
    assert main(["predict", str(bad), str(tmp_path / "one.npy")]) == 2
    err = capsys.readouterr().err
    assert "the weights of 0.W are not finite" in err or "are not finite (NaN or Inf)" in err
    assert main(["evaluate", str(bad)]) == 2
    assert "not finite" in capsys.readouterr().err


def test_corrupted_model_file_is_named_corrupted(trained, tmp_path, capsys):
    raw = bytearray((trained / "model.safetensors").read_bytes())
    raw[-100:-60] = bytes(40)  # zeroed bytes among the weights
    bad = tmp_path / "zeroed.safetensors"
    bad.write_bytes(raw)
    assert main(["summary", str(bad)]) == 2
    assert "the file is corrupted" in capsys.readouterr().err


def test_closed_pipe_ends_quietly(trained):
    proc = subprocess.Popen([sys.executable, "-m", "zerodl", "summary", str(trained / "model.safetensors")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert err == "" and proc.returncode == 141


def test_unexpected_failures_are_one_line_with_exit_1(tmp_path, monkeypatch, capsys):
    from zerodl.cli import commands

    def boom(args):
        raise ZeroDivisionError("an internal fault")

    monkeypatch.setattr(commands, "summary", boom)
    assert main(["summary", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zerodl: error: ZeroDivisionError: an internal fault")


def test_disk_full_while_saving_the_model_keeps_the_old_file(trained, tmp_path, monkeypatch, capsys):
    from zerodl.cli import commands

    out = tmp_path / "run"
    out.mkdir()
    model = out / "model.safetensors"
    model.write_bytes((trained / "model.safetensors").read_bytes())
    before = model.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real_save = commands.nn.save_model

    def save_on_a_full_disk(*a, **kw):
        monkeypatch.setattr(os, "fsync", full)
        return real_save(*a, **kw)

    monkeypatch.setattr(commands.nn, "save_model", save_on_a_full_disk)
    assert main([*TINY, "--out", str(out), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "cannot write the results" in err and "no space left on the device" in err
    assert model.read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_read_only_current_folder_for_the_default_runs_folder(tmp_path, monkeypatch, capsys):
    """`zerodl train` with no --out where ./runs cannot be created (the issue's first report:
    `OSError: [Errno 30] Read-only file system: 'runs'` as a traceback)."""
    monkeypatch.chdir(tmp_path)
    real_mkdir = os.mkdir

    def read_only_mkdir(path, *a, **kw):
        if os.path.realpath(path).startswith(str(tmp_path.resolve()) + os.sep):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_mkdir(path, *a, **kw)

    monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    assert main(TINY) == 1
    assert capsys.readouterr().err.strip() == ("zerodl: error: cannot create the run folder (runs): "
                                               "the file system is read-only")
    assert os.listdir(tmp_path) == []


def test_weights_blown_up_by_an_epochs_last_update_are_never_checkpointed(tmp_path, monkeypatch, capsys):
    """Every loss of epoch 1 finite, but its last update overflows the weights: the run stops
    at the epoch's end, before the checkpoint, so no NaN checkpoint is kept."""
    from zerodl import optim

    real_step = optim.Adam.step
    calls = []

    def step(self):
        real_step(self)
        calls.append(1)
        if len(calls) == 41:  # the last step of epoch 1 (41 batches of 32)
            for p in self._flat_params():
                p.data *= np.float32(np.inf)

    monkeypatch.setattr(optim.Adam, "step", step)
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--epochs", "3", "--verbose", "0", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "training diverged: the weights of 0.W became NaN/Inf in epoch 1" in err
    assert "no epoch had finished, so no checkpoint was kept" in err
    assert not (out / "checkpoint" / "backup.safetensors").exists() and not (out / "model.safetensors").exists()
