"""zd.set_num_threads / zd.get_num_threads: the setting, BLAS through threadpoolctl, Numba,
the fallback without threadpoolctl, bad values, and ``zerodl train --threads``."""
import os
import sys
import threading
import time

import numpy as np
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


# --- the chunk pool (map_chunks) -----------------------------------------------------------
@pytest.fixture(params=["spin", "executor"])
def pool(request, monkeypatch):
    """map_chunks's workers: the spinning pool (with numba) and the ThreadPoolExecutor."""
    if request.param == "spin":
        pytest.importorskip("numba")
        if threads.fast_module("core._fast_spin") is None:
            pytest.skip("ZERODL_NUMBA=0: the executor serves")
    else:
        monkeypatch.setattr(threads, "_spin_pool", lambda workers: None)
    return request.param


def test_map_chunks_keeps_order_and_shares_the_items_over_threads(pool):
    import threading
    from zerodl.core import threads as th

    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before_n, before_blas = th.get_num_threads(), blas_threads()
    seen, inside = set(), []

    def work(i):
        seen.add(threading.current_thread().name)
        inside.append(blas_threads())
        time.sleep(0.01)  # releases the GIL, as NumPy's work does: the other thread takes items meanwhile
        return i * i

    try:
        zd.set_num_threads(2)
        assert th.map_chunks(work, range(8)) == [i * i for i in range(8)]
        # the calling thread and one pool worker took items
        caller = threading.current_thread().name
        assert caller in seen and len(seen) == 2
        assert all(name.startswith("zerodl-chunks") for name in seen - {caller})
        assert all(all(n == 1 for n in b) for b in inside)  # BLAS at one thread per worker
        assert blas_threads() == [2] * len(before_blas)     # and restored afterwards
        # inside a worker a nested call runs inline (no deadlock on a full pool)
        assert th.map_chunks(lambda i: th.map_chunks(lambda j: i + j, range(3)), range(4)) == \
            [[i + j for j in range(3)] for i in range(4)]
        zd.set_num_threads(1)
        seen.clear()
        assert th.map_chunks(work, range(3)) == [0, 1, 4]
        assert seen == {threading.current_thread().name}
    finally:
        zd.set_num_threads(before_n)


def test_map_chunks_passes_errors_through(pool):
    from zerodl.core import threads as th

    before = th.get_num_threads()

    def boom(i):
        if i == 2:
            raise ValueError("chunk 2 failed")
        return i

    try:
        zd.set_num_threads(2)
        with pytest.raises(ValueError, match="chunk 2 failed"):
            th.map_chunks(boom, range(4))
    finally:
        zd.set_num_threads(before)


def test_map_chunks_from_two_threads_at_once(pool):
    """A second caller while the workers are busy runs its items itself: both get their results."""
    import threading

    pytest.importorskip("threadpoolctl")
    before = threads.get_num_threads()
    out, errors = {}, []

    def caller(k):
        try:
            for r in range(20):
                got = threads.map_chunks(lambda i: (time.sleep(0.0005), k * 100 + i + r)[1], range(6))
                assert got == [k * 100 + i + r for i in range(6)]
            out[k] = True
        except BaseException as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    try:
        zd.set_num_threads(2)
        ts = [threading.Thread(target=caller, args=(k,)) for k in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert not errors and out == {0: True, 1: True, 2: True}
    finally:
        zd.set_num_threads(before)


def test_spin_pool_in_a_forked_child_and_after_growing(pool):
    """A forked child has none of its parent's worker threads: it makes its own pool; asking for
    more threads than the pool has grows it."""
    import multiprocessing

    pytest.importorskip("threadpoolctl")
    before = threads.get_num_threads()
    try:
        zd.set_num_threads(2)
        assert threads.map_chunks(lambda i: i + 1, range(4)) == [1, 2, 3, 4]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as p:
            assert p.apply_async(_square_chunks, (5,)).get(timeout=60) == [i * i for i in range(5)]
        zd.set_num_threads(4)
        assert threads.map_chunks(lambda i: -i, range(9)) == [-i for i in range(9)]
    finally:
        zd.set_num_threads(before)


def _square_chunks(n):
    zd.set_num_threads(2)
    return threads.map_chunks(lambda i: i * i, range(n))


def test_wait_while_kernel():
    pytest.importorskip("numba")
    from zerodl.core import _fast_spin

    flags, scratch = np.zeros(2, dtype=np.int64), np.zeros(8, dtype=np.int64)
    assert not _fast_spin.wait_while(flags, 1, 0, scratch, 1000)  # unchanged: gives up after its rounds
    flags[1] = 3
    assert _fast_spin.wait_while(flags, 1, 0, scratch, 1000)
    assert _fast_spin.wait_while(flags, 1, 2, scratch, 0)  # zero rounds: one look


def test_store_and_wait_kernel():
    pytest.importorskip("numba")
    from zerodl.core import _fast_spin

    flags, scratch = np.zeros(3, dtype=np.int64), np.zeros(8, dtype=np.int64)
    assert not _fast_spin.store_and_wait(flags, 2, 7, 0, 0, scratch, 1000)  # stored, then gave up
    assert flags.tolist() == [0, 0, 7]
    flags[0] = 1
    assert _fast_spin.store_and_wait(flags, 1, 5, 0, 0, scratch, 1000)  # the watched flag moved
    assert flags.tolist() == [1, 5, 7]


def test_spin_pool_reports_each_job_done_before_run_returns():
    pytest.importorskip("numba")
    from zerodl.core import _fast_spin
    from zerodl.core.spin_pool import SpinPool

    pool, seen = SpinPool(2, _fast_spin, "test-spin"), []
    try:
        for job in range(1, 40):
            pool.run(lambda: seen.append(threading.current_thread().name), 2)
            assert pool.flags.tolist() == [job, job, job]  # both workers' stores landed
        assert {"test-spin-0", "test-spin-1"} <= set(seen)
    finally:
        pool.close()


def test_zerodl_sets_the_openblas_idle_timeout_before_numpy_loads():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    code = "import zerodl, os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "4"
    env["OPENBLAS_THREAD_TIMEOUT"] = "20"  # the user's own value wins
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "20"


def test_share_cores_splits_the_machine_unless_a_number_was_chosen(monkeypatch):
    monkeypatch.setitem(threads._setting, "explicit", False)
    monkeypatch.setitem(threads._setting, "n", 8)
    monkeypatch.setattr(threads, "available_cores", lambda: 8)
    monkeypatch.setattr(threads, "_limit_blas", lambda n: True)
    assert threads.share_cores(3) == 2 and threads.get_num_threads() == 2
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    assert threads.share_cores(4) == 1  # never below one
    monkeypatch.setitem(threads._setting, "explicit", True)  # the environment or set_num_threads chose
    monkeypatch.setitem(threads._setting, "n", 5)
    assert threads.share_cores(4) == 5


def test_softmax_rows_blocks_and_threads_give_the_whole_array_result():
    """functions._util.softmax_rows: rows in cache-sized blocks, on the pool; each row computed
    as the whole-array expression computes it, whatever the blocks or the thread count."""
    import zerodl.functions._util as util
    x = np.random.default_rng(3).standard_normal((257, 1000)).astype(np.float32) * 5
    s = x - x.max(axis=1, keepdims=True)
    ref = np.exp(s)
    ref_z = ref.sum(axis=1, keepdims=True)
    ref /= ref_z
    before = zd.get_num_threads()
    try:
        for n, block in ((1, 1 << 19), (2, 1 << 19), (2, 4000), (1, 1 << 30)):
            zd.set_num_threads(n)
            util.SOFTMAX_BLOCK_BYTES, saved = block, util.SOFTMAX_BLOCK_BYTES
            try:
                p, m, z = util.softmax_rows(x)
            finally:
                util.SOFTMAX_BLOCK_BYTES = saved
            np.testing.assert_array_equal(p, ref)
            np.testing.assert_array_equal(z, ref_z)
            np.testing.assert_array_equal(m, x.max(axis=1, keepdims=True))
    finally:
        zd.set_num_threads(before)
