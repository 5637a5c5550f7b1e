"""How many threads zerodl computes with: ``zd.set_num_threads(n)`` / ``zd.get_num_threads()``,
PyTorch's names.

One number for everything that computes in parallel inside an op:

- **BLAS** (NumPy's OpenBLAS/MKL: every GEMM): limited through ``threadpoolctl`` when it is
  installed (``pip install threadpoolctl``; it is in the ``bench`` and ``test`` extras).
  ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` are set in ``os.environ``
  too, for processes started afterwards (``mpiexec`` ranks, subprocesses), whose BLAS reads
  them at start. Without threadpoolctl those variables are all it can do: a running
  process's BLAS pool keeps its size, and ``set_num_threads`` warns.
- **Numba** (compiled kernels, when ``numba`` is imported): ``numba.set_num_threads``, at most
  its ``NUMBA_NUM_THREADS`` (the pool size it started with). Numba's setting is per thread:
  call ``set_num_threads`` in the thread that runs the kernels (the main one, normally).
- **zerodl's own pools** (ops that split a batch into chunks over threads) read
  ``get_num_threads()`` each time they start work.

The default, when ``set_num_threads`` was never called: the first of ``ZERODL_NUM_THREADS``,
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` set to a positive integer in
the environment at import (someone who ran ``OMP_NUM_THREADS=1 python ...`` wants one thread
everywhere), else the number of cores this process may run on (``os.sched_getaffinity``).
BLAS and Numba are left at their own defaults (the same number, all cores, unless the
environment says otherwise) until ``set_num_threads`` is called: docs/benchmarks.md
("Thread control") has the measurements behind this.
"""
import contextlib
import itertools
import os
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

from .kernels import fast_module
from .spin_pool import SpinPool

__all__ = ["set_num_threads", "get_num_threads", "available_cores", "thread_info", "map_chunks"]

ENV_VARS = ("ZERODL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# What new processes' BLAS/OpenMP read at start (threadpoolctl or not).
CHILD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores():
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _from_environment(environ):
    for var in ENV_VARS:
        value = environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def default_num_threads(environ=os.environ):
    """The default described in the module docstring."""
    return _from_environment(environ) or available_cores()


_setting = {"n": default_num_threads(), "limiter": None, "explicit": _from_environment(os.environ) is not None}


def _check(n):
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"set_num_threads: expected a positive int, got {n!r} ({type(n).__name__})")
    n = n.__index__()
    if n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be >= 1, got {n}")
    return n


def _limit_blas(n):
    """Limit every BLAS/OpenMP pool loaded in this process to ``n`` threads; False without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    # Calling (not entering) it applies the limits at once and keeps them; the object is kept
    # only so that tests or users could restore the originals.
    _setting["limiter"] = threadpool_limits(limits=n)
    return True


def _limit_numba(n):
    numba = sys.modules.get("numba")  # only when the user (or a kernel) imported it: never import it here
    if numba is None or not hasattr(numba, "set_num_threads"):
        return
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def set_num_threads(n):
    """Compute with ``n`` threads: BLAS (via threadpoolctl), Numba and zerodl's own pools.

    ``n`` must be an int >= 1. Without threadpoolctl a warning says the BLAS of this process
    keeps its pool (the environment variables set here only reach processes started later).
    """
    n = _check(n)
    _setting["n"], _setting["explicit"] = n, True
    for var in CHILD_ENV_VARS:
        os.environ[var] = str(n)
    _limit_numba(n)  # first: it may load an OpenMP library that the limits below then cover
    if not _limit_blas(n):
        warnings.warn(
            "set_num_threads: threadpoolctl is not installed, so the BLAS of this running process "
            f"keeps its thread pool; OMP/OPENBLAS/MKL_NUM_THREADS={n} now in os.environ reach only "
            "processes started from now on (pip install threadpoolctl to limit this one)",
            RuntimeWarning, stacklevel=2)


def share_cores(processes):
    """``processes`` zerodl processes share this machine (MPI ranks on one node): unless the
    environment or ``set_num_threads`` chose a number, each computes with ``cores // processes``
    threads (at least one), BLAS included when threadpoolctl is installed (silently otherwise).
    Returns the number in use."""
    if not _setting["explicit"] and processes > 1:
        n = max(1, available_cores() // processes)
        _setting["n"] = n
        _limit_numba(n)
        _limit_blas(n)
    return _setting["n"]


def get_num_threads():
    """The number of threads zerodl computes with (what ``set_num_threads`` set, else the default)."""
    return _setting["n"]


def thread_info():
    """What each pool runs with now: ``{"zerodl": n, "<blas name>": threads, "numba": threads}``
    (BLAS entries only with threadpoolctl; numba only when it is imported)."""
    info = {"zerodl": get_num_threads()}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["blas"] = "unknown (threadpoolctl not installed)"
    else:
        for pool in threadpool_info():
            info[f"{pool['internal_api']} ({pool['user_api']})"] = pool["num_threads"]
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "get_num_threads"):
        info["numba"] = numba.get_num_threads()
    return info


# ----------------------------------------------------------------------------- the chunk pool
_POOL_PREFIX = "zerodl-chunks"
_pool = {"executor": None, "size": 0, "blas": None, "inside": 0, "saved": None}
_pool_lock = threading.Lock()
_working = threading.local()  # .active: this thread is doing map_chunks items


def _blas_controllers():
    """threadpoolctl's handles on the loaded BLAS libraries ([] without threadpoolctl)."""
    if _pool["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _pool["blas"] = []
        else:
            _pool["blas"] = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _pool["blas"]


@contextlib.contextmanager
def _blas_one_thread_each(controllers):
    """BLAS at one thread while pool workers run GEMMs side by side (restored by the last to leave)."""
    with _pool_lock:
        if _pool["inside"] == 0:
            _pool["saved"] = [c.num_threads for c in controllers]
            for c in controllers:
                c.set_num_threads(1)
        _pool["inside"] += 1
    try:
        yield
    finally:
        with _pool_lock:
            _pool["inside"] -= 1
            if _pool["inside"] == 0:
                for c, n in zip(controllers, _pool["saved"]):
                    c.set_num_threads(n)


def _spin_pool(workers):
    """The spinning pool (``spin_pool``) with at least ``workers`` workers, made or grown now;
    None without Numba (or with ``ZERODL_NUMBA=0``): the executor's workers serve then."""
    kernels = fast_module("core._fast_spin")
    if kernels is None:
        return None
    with _pool_lock:
        pool = _pool.get("spin")
        if pool is None or pool.size < workers or _pool.get("spin_pid") != os.getpid():
            if pool is not None and _pool.get("spin_pid") == os.getpid():
                pool.close()
            pool = _pool["spin"] = SpinPool(workers, kernels, _POOL_PREFIX)
            _pool["spin_pid"] = os.getpid()  # a forked child has none of its parent's threads
    return pool


def map_chunks(fn, items):
    """``[fn(item) for item in items]``, the items shared out over ``get_num_threads()`` threads.

    For ops that split a batch into chunks whose work (NumPy copies and ufuncs, BLAS, compiled
    kernels) releases the GIL: every core then works on the whole op, not only inside its GEMMs.
    The calling thread works too: it and n - 1 pool workers take the items in turn from one
    counter (one hand-off per worker, not per item). Meanwhile BLAS runs one thread per worker.
    With Numba the workers are a ``spin_pool.SpinPool`` (they spin, without the GIL, a short
    while before sleeping, so back-to-back ops do not wait for a thread to wake), else a
    ``ThreadPoolExecutor``; a second thread calling map_chunks while one runs works alone.
    Each item's result is what the serial loop gives, in the items' order. Runs in the calling
    thread alone when one thread is asked for, for a single item, inside a worker (no nesting),
    or when the BLAS pool cannot be controlled (no threadpoolctl: its own threads would then
    oversubscribe the cores).
    """
    items = list(items)
    n = min(get_num_threads(), len(items))
    if n < 2 or getattr(_working, "active", False):
        return [fn(item) for item in items]
    controllers = _blas_controllers()
    if not controllers:
        return [fn(item) for item in items]
    spin = _spin_pool(n - 1)
    if spin is None:
        with _pool_lock:
            forked = _pool.get("pid") != os.getpid()  # a forked child has none of its parent's threads
            if _pool["size"] < n - 1 or forked:
                if _pool["executor"] is not None and not forked:
                    _pool["executor"].shutdown(wait=False)
                _pool["executor"] = ThreadPoolExecutor(n - 1, thread_name_prefix=_POOL_PREFIX)
                _pool["size"], _pool["pid"] = n - 1, os.getpid()
            executor = _pool["executor"]
    elif not spin.try_acquire():  # another thread's map_chunks has the workers: this one runs here
        return [fn(item) for item in items]
    results = [None] * len(items)
    taken = itertools.count()  # next() on it is atomic under the GIL: each index goes to one thread

    def work():  # in the calling thread and the workers; a map_chunks inside fn runs inline
        _working.active = True
        try:
            while (i := next(taken)) < len(items):
                results[i] = fn(items[i])
        finally:
            _working.active = False

    if spin is not None:
        try:
            with _blas_one_thread_each(controllers):
                spin.run(work, n - 1)
        finally:
            spin.release()
        return results
    with _blas_one_thread_each(controllers):
        futures = [executor.submit(work) for _ in range(n - 1)]
        try:
            work()
        finally:
            for f in futures:
                f.result()  # waits, and raises a worker's exception here
    return results
