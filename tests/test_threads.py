"""zd.set_num_threads / zd.get_num_threads: the setting, BLAS through threadpoolctl, Numba,
the fallback without threadpoolctl, bad values, and ``zerodl train --threads``."""
import os
import sys

import pytest

import zerodl as zd
from zerodl import cli
from zerodl.core import threads


@pytest.fixture(autouse=True)
def _restore(monkeypatch):
    """Every test leaves the thread settings (and the environment variables) as it found them."""
    for var in threads.CHILD_ENV_VARS:
        monkeypatch.setenv(var, os.environ.get(var, "1"))
    before = zd.get_num_threads()
    blas = _blas_threads()
    if blas is not None:
        from threadpoolctl import threadpool_limits  # here: a test may hide the module
    yield
    threads._setting["n"] = before
    if blas is not None:
        threadpool_limits(limits=blas, user_api="blas")


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return pools[0] if pools else None


def test_the_setting_round_trips():
    zd.set_num_threads(2)
    assert zd.get_num_threads() == 2
    zd.set_num_threads(1)
    assert zd.get_num_threads() == 1
    assert zd.get_num_threads is threads.get_num_threads  # one setting, read by zerodl's pools


def test_threadpoolctl_sees_the_blas_limit_change():
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_info

    if _blas_threads() is None:
        pytest.skip("no BLAS pool that threadpoolctl can see")
    zd.set_num_threads(1)
    assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    if threads.available_cores() > 1:  # OpenBLAS may be raised above its start-up count
        zd.set_num_threads(2)
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {2}
    assert threads.thread_info()["zerodl"] == zd.get_num_threads()
    # new processes (data workers, mpiexec ranks) get the same number through the environment
    assert os.environ["OPENBLAS_NUM_THREADS"] == str(zd.get_num_threads())


@pytest.mark.parametrize("bad, error, words", [
    (0, ValueError, ">= 1, got 0"),
    (-3, ValueError, ">= 1, got -3"),
    (2.0, TypeError, "expected a positive int, got 2.0 (float)"),
    ("2", TypeError, "expected a positive int, got '2' (str)"),
    (True, TypeError, "got True (bool)"),
    (None, TypeError, "got None"),
])
def test_bad_values_give_a_clear_error(bad, error, words):
    before = zd.get_num_threads()
    with pytest.raises(error, match="set_num_threads") as info:
        zd.set_num_threads(bad)
    assert words in str(info.value)
    assert zd.get_num_threads() == before  # nothing changed


def test_without_threadpoolctl_it_warns_and_sets_the_environment(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import threadpoolctl now fails
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    with pytest.warns(RuntimeWarning, match="threadpoolctl is not installed.*started from now on"):
        zd.set_num_threads(3)
    assert zd.get_num_threads() == 3
    assert [os.environ[v] for v in threads.CHILD_ENV_VARS] == ["3", "3", "3"]
    assert "not installed" in threads.thread_info()["blas"]


def test_the_default_follows_the_environment_then_the_cores():
    assert threads.default_num_threads({"ZERODL_NUM_THREADS": "3", "OMP_NUM_THREADS": "1"}) == 3
    assert threads.default_num_threads({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"}) == 1
    assert threads.default_num_threads({"OMP_NUM_THREADS": "four", "MKL_NUM_THREADS": "2"}) == 2
    assert threads.default_num_threads({"OMP_NUM_THREADS": "0"}) == threads.available_cores()
    assert threads.default_num_threads({}) == threads.available_cores() >= 1


def test_numba_gets_the_thread_count_when_imported():
    numba = pytest.importorskip("numba")
    zd.set_num_threads(1)
    assert numba.get_num_threads() == 1
    zd.set_num_threads(numba.config.NUMBA_NUM_THREADS + 5)  # more than its pool: its pool size
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    assert threads.thread_info()["numba"] == numba.config.NUMBA_NUM_THREADS


def test_zerodl_train_threads(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "1", "--threads", "1", "--out", str(out), "--verbose", "0"]) == 0
    assert zd.get_num_threads() == 1 and (out / "model.safetensors").exists()
    assert cli.main(["train", "--threads", "0", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "zerodl: error: --threads must be a positive integer, got 0" in err
    assert not (tmp_path / "bad").exists()
    assert cli.main(["train", "--threads", "two"]) == 2
    assert "--threads: invalid int value: 'two'" in capsys.readouterr().err
