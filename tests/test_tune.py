"""``zerodl tune``: Optuna over an SQLite study shared by several worker processes."""
import os
import subprocess
import sys

import pytest

from zerodl.cli import main

optuna = pytest.importorskip("optuna", reason='zerodl tune needs Optuna (pip install "zerodl[search]")')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    return {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def test_two_workers_on_one_sqlite_study_run_distinct_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    cmd = [sys.executable, "-m", "zerodl", "tune", "--storage", storage, "--study-name", "shared", "--trials", "6",
           "--epochs", "1", "--pruner", "none", "--out", str(tmp_path / "out")]
    workers = [subprocess.Popen(cmd + ["--seed", str(k)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env(), cwd=tmp_path) for k in range(2)]
    outs = [w.communicate(timeout=120) for w in workers]
    for w, (out, err) in zip(workers, outs):
        assert w.returncode == 0, out + err
        assert "Traceback" not in err
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trials) >= 6
    numbers = [t.number for t in trials]
    assert len(set(numbers)) == len(numbers)
    by_worker = {}
    for t in trials:
        by_worker.setdefault(t.user_attrs["worker"], []).append(t.number)
    assert len(by_worker) == 2, by_worker  # both processes took trials ...
    a, b = by_worker.values()
    assert not set(a) & set(b)  # ... and never the same one
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)  # distinct hyper-parameters
    # the best trial's model was saved, and `zerodl evaluate` reads it
    best = tmp_path / "out" / "best.safetensors"
    assert best.exists()
    assert main(["evaluate", str(best)]) == 0


def test_pruning_uses_the_per_epoch_validation_accuracy(tmp_path, capsys):
    code = main(["tune", "--trials", "6", "--epochs", "3", "--seed", "0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    study = optuna.load_study(study_name="zerodl", storage=f"sqlite:///{os.path.abspath(tmp_path / 'study.db')}")
    for t in study.trials:
        assert sorted(t.intermediate_values) == list(range(len(t.intermediate_values)))
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert len(t.intermediate_values) == 3 and t.value == t.intermediate_values[2]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(len(t.intermediate_values) < 3 for t in pruned), out
    assert "test accuracy of the best model" in out


def test_errors_are_messages_not_tracebacks(tmp_path, capsys, monkeypatch):
    assert main(["tune", "--trials", "0", "--out", str(tmp_path)]) == 2
    assert "--trials must be a positive integer" in capsys.readouterr().err
    assert main(["tune", "--storage", "nosuchdb://nowhere/x", "--out", str(tmp_path)]) == 2
    assert "cannot open the study" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(["tune", "--out", str(tmp_path)]) == 2
    assert 'pip install "zerodl[search]"' in capsys.readouterr().err
