"""`zerodl train` interrupted (Ctrl-C, SIGKILL), run twice at once, and resumed.

Each run is a real ``python -m zerodl`` process: a small MLP on the embedded digits with tiny
batches, so that an epoch lasts long enough for a signal to land in the middle of the run.
"""
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--model", "mlp", "--epochs", "5", "--batch-size", "4", "--verbose", "0"]
CHECKPOINT = Path("checkpoint") / "backup.safetensors"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "zerodl", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in out + err, out + err
    return proc.returncode, out, err


def _run(args, cwd):
    return _finish(_start(args, cwd))


def _weights(path):
    return zd.load(path)


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k  # bitwise: resuming is exact


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, to compare the resumed ones with."""
    cwd = tmp_path_factory.mktemp("ref")
    code, out, err = _run([*TRAIN, "--out", "run"], cwd)
    assert code == 0, err
    return cwd / "run"


def _interrupt(tmp_path, sig):
    """Start a run, send ``sig`` once its first checkpoint exists; return (code, out, err)."""
    proc = _start([*TRAIN, "--out", "run"], tmp_path)
    ckpt = tmp_path / "run" / CHECKPOINT
    deadline = time.monotonic() + 240
    while not ckpt.exists():
        assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    return _finish(proc)


def _history_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert set(row) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(v not in ("", None) for v in row.values()), row
        float(row["loss"])
    return rows


def test_ctrl_c_ends_with_one_line_and_complete_files_then_resumes_exactly(reference, tmp_path):
    code, out, err = _interrupt(tmp_path, signal.SIGINT)
    if code == 0:
        pytest.skip("the machine was too slow to interrupt the run before it ended")
    assert code == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zerodl: interrupted: "), err
    assert "to resume" in lines[0]
    run = tmp_path / "run"
    assert not (run / "model.safetensors").exists()
    rows = _history_rows(run / "history.csv")
    done = zd.io.load_checkpoint(run / CHECKPOINT, None, restore_rng=False)["epoch"] + 1
    assert len(rows) in (done, done + 1) and [int(r["epoch"]) for r in rows] == list(range(len(rows)))
    assert not [p for p in run.rglob("*") if p.is_file() and p.stat().st_size == 0 and p.name != ".zerodl-lock"]

    code, out, err = _run([*TRAIN, "--out", "run"], tmp_path)
    assert code == 0, err
    assert f"resuming the run in run after epoch {done}" in out
    _assert_same_weights(run / "model.safetensors", reference / "model.safetensors")
    assert len(_history_rows(run / "history.csv")) == 5
    assert not (run / CHECKPOINT).exists()


def test_sigkill_then_resume_reproduces_the_uninterrupted_weights(reference, tmp_path):
    code, _, _ = _interrupt(tmp_path, signal.SIGKILL)
    if code == 0:
        pytest.skip("the machine was too slow to interrupt the run before it ended")
    assert code == -signal.SIGKILL
    run = tmp_path / "run"
    assert not [p for p in run.rglob("*.tmp")], "a temporary file was left as if it were a result"
    code, out, err = _run([*TRAIN, "--out", "run"], tmp_path)  # the dead run's lock is gone
    assert code == 0, err
    assert "resuming the run in run" in out
    _assert_same_weights(run / "model.safetensors", reference / "model.safetensors")


def test_two_runs_started_together_keep_both_results(tmp_path):
    args = ["train", "--model", "mlp", "--epochs", "2", "--verbose", "0"]
    procs = [_start(args, tmp_path), _start([*args, "--seed", "1"], tmp_path)]
    results = [_finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    models = [r / "model.safetensors" for r in runs]
    assert all(m.exists() for m in models)
    wa, wb = _weights(models[0]), _weights(models[1])
    assert any(not np.array_equal(wa[k], wb[k]) for k in wa)  # two different seeds, two models


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path):
    from zerodl.cli.errors import RunFailure
    from zerodl.cli.run_folder import RunFolder

    opts = {"dataset": "digits"}
    first = RunFolder(str(tmp_path / "run"), opts)  # holds the folder's lock while it lives
    with pytest.raises(RunFailure, match="another zerodl train is running in .*run; wait for it"):
        RunFolder(str(tmp_path / "run"), opts)
    first._lock_file.close()  # what the end of the first process does
    RunFolder(str(tmp_path / "run"), opts)
