"""Ranks on one machine share its cores: each computes with its share unless the user chose.

zerodl's default thread count is every core the process may run on (:mod:`zerodl.core.threads`),
which is right for one process and wrong for N ranks on one machine: each would start a BLAS
pool and a chunk pool as wide as the machine, N times oversubscribing the cores (measured in
docs/distributed.md: three to six times slower on W2 with 2 ranks). So :func:`share_cores`,
called by ``init()`` in a world of more than one, sets ``zd.set_num_threads(cores // local
ranks)`` (at least 1), where the local ranks are those the launcher started on this machine
(``MPI_LOCALNRANKS`` from MPICH's Hydra, ``OMPI_COMM_WORLD_LOCAL_SIZE`` from Open MPI, Slurm's
``SLURM_NTASKS_PER_NODE``). A rank whose affinity the launcher already narrowed
(``mpiexec -bind-to core``) keeps the cores it was given. Nothing changes when the
environment already names a thread count (``OMP_NUM_THREADS=1 mpiexec ...``, or
``zd.set_num_threads`` called before ``init()``) or when the local rank count is unknown.
"""
import os
import warnings

from ..core import threads

__all__ = ["local_ranks", "share_cores"]

_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE")
_LOCAL_RANK_VARS = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID")


def _positive_int(value):
    value = (value or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def local_ranks(environ=os.environ):
    """How many ranks the launcher started on this machine (None when it does not say)."""
    for var in _LOCAL_SIZE_VARS:
        n = _positive_int(environ.get(var, "").split("(")[0].split(",")[0])  # Slurm: "2(x3),1"
        if n is not None:
            return n
    return None


def threads_per_rank(environ=os.environ):
    """The thread count a rank should use, or None to leave zerodl's setting alone."""
    if any(_positive_int(environ.get(var)) for var in threads.ENV_VARS):
        return None  # the user chose
    local = local_ranks(environ)
    if local is None:
        return None
    mine, machine = threads.available_cores(), os.cpu_count() or 1
    if mine < machine:  # the launcher bound this rank to some cores: they are its share
        return mine
    return max(1, mine // local)


def _is_first_local(environ=os.environ):
    return all(environ.get(var, "0").strip() == "0" for var in _LOCAL_RANK_VARS)


def share_cores():
    """Apply :func:`threads_per_rank` (see the module docstring); returns the count set, or None.

    Without threadpoolctl the BLAS pool of a running process cannot be narrowed; the first
    local rank then says once how to avoid the oversubscription.
    """
    n = threads_per_rank()
    if n is None or n == threads.get_num_threads():
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads.set_num_threads(n)
    if caught and _is_first_local():
        warnings.warn(
            f"zerodl.distributed: {local_ranks()} ranks share this machine, so each computes with {n} "
            f"thread(s); without threadpoolctl the BLAS already loaded keeps its own pool and oversubscribes "
            f"the cores: pip install threadpoolctl, or launch with OPENBLAS_NUM_THREADS={n} "
            f"(mpiexec -genv OPENBLAS_NUM_THREADS {n} ...)", RuntimeWarning, stacklevel=3)
    return n
