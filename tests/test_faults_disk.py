"""A full disk and a read-only target never damage the file already there.

For each file zerodl writes over an older one (weights by ``zd.save``, a model file, a
checkpoint, the CLI's ``history.csv``) the write fails with the OS error, the old file is
intact and no temporary file is left. Run twice: with the failure injected (every machine),
and on a real tiny / read-only tmpfs where the test may mount one (root on Linux).
"""
import errno
import os
import subprocess

import numpy as np
import pytest

import zerodl as zd
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.cli.run_folder import HistoryCSV
from zerodl.io import save_checkpoint
from zerodl.nn import save_model


def _model(width=4):
    zd.manual_seed(0)
    return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))


def _writers(width):
    """name -> write(path) for each kind of file; ``width`` sets the size of what is written."""
    model = _model(width)

    def history(path):  # the rewrite after epoch ``width``, with ``width`` rows before it
        cb = HistoryCSV(str(path))
        cb.keys = ["accuracy", "loss"]
        cb.rows = {e: {"accuracy": 0.5, "loss": 1.0 / (e + 1)} for e in range(width)}
        cb.on_epoch_end(width, {"loss": 0.1, "accuracy": 0.9})

    return {
        "weights": lambda p: zd.save(model.state_dict(), p),
        "model": lambda p: save_model(model, p),
        "checkpoint": lambda p: save_checkpoint(p, model, optim.Adam(model.parameters()), epoch=1),
        "history": history,
    }


KINDS = ("weights", "model", "checkpoint", "history")


def _check_kept(path, old):
    assert path.read_bytes() == old
    left = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert not left, left


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
@pytest.mark.parametrize("kind", KINDS)
def test_injected_write_failure_keeps_the_old_file(kind, code, tmp_path, monkeypatch):
    path = tmp_path / f"{kind}.file"
    _writers(4)[kind](path)
    old = path.read_bytes()

    def fail(*a, **kw):
        raise OSError(code, os.strerror(code))

    if code == errno.ENOSPC:  # the data did not fit: the flush to disk fails
        monkeypatch.setattr(os, "fsync", fail)
    else:  # the temporary file cannot be created
        real_open = os.open
        monkeypatch.setattr(os, "open", lambda p, flags, *a, **kw: fail() if flags & os.O_CREAT
                            else real_open(p, flags, *a, **kw))
    with pytest.raises(OSError) as e:
        _writers(64)[kind](path)
    assert e.value.errno == code
    monkeypatch.undo()
    _check_kept(path, old)


def _mount_tmpfs(where, options):
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")


@pytest.fixture
def tiny_fs(tmp_path):
    where = tmp_path / "mnt"
    where.mkdir()
    _mount_tmpfs(where, "size=256k")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("kind", KINDS)
def test_full_disk_keeps_the_old_file(kind, tiny_fs):
    path = tiny_fs / f"{kind}.file"
    _writers(4)[kind](path)
    old = path.read_bytes()
    with pytest.raises(OSError) as e:
        _writers(20000)[kind](path)  # 480 KB of weights, 20,000 CSV rows: more than the 256 KiB
    assert e.value.errno == errno.ENOSPC
    _check_kept(path, old)


@pytest.mark.parametrize("kind", KINDS)
def test_read_only_file_system_keeps_the_old_file(kind, tiny_fs):
    path = tiny_fs / f"{kind}.file"
    _writers(4)[kind](path)
    old = path.read_bytes()
    r = subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only: {r.stderr.decode().strip()}")
    with pytest.raises(OSError) as e:
        _writers(8)[kind](path)
    assert e.value.errno == errno.EROFS
    _check_kept(path, old)


def test_cli_on_a_read_only_file_system_says_so(tiny_fs, capsys):
    from zerodl.cli import main

    r = subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot remount read-only")
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", str(tiny_fs / "run")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (f"zerodl: error: cannot write into the output folder {tiny_fs / 'run'}: "
                           "the file system is read-only")
    np.testing.assert_equal(os.listdir(tiny_fs), [])


def test_cli_default_runs_folder_on_a_read_only_file_system(tiny_fs, monkeypatch, capsys):
    from zerodl.cli import main

    r = subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot remount read-only")
    monkeypatch.chdir(tiny_fs)
    assert main(["train", "--model", "mlp", "--epochs", "1"]) == 1
    assert capsys.readouterr().err.strip() == ("zerodl: error: cannot create the run folder (runs): "
                                               "the file system is read-only")
