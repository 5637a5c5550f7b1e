"""The communicator: mpi4py's ``COMM_WORLD``, imported only when a distributed feature is used.

``import zerodl`` (and ``import zerodl.distributed``) never needs mpi4py. The first call that
needs MPI (``init()``, ``rank()``, ``world_size()``, a reduction) imports it; without mpi4py
a process that was not launched by ``mpiexec`` runs as a world of one (every collective is
the identity), and one that was launched by ``mpiexec`` gets an ImportError saying how to
install the extra (``pip install "zerodl[mpi]"``).

Collectives work on NumPy arrays in place (``allreduce_``, ``broadcast_``); CuPy arrays are
copied to the host first (zerodl has no CUDA-aware MPI path).
"""
import json
import os

import numpy as np

from ..core.backend import as_numpy, get_array_module
from ..core.threads import share_cores
from . import failure

__all__ = ["init", "is_initialized", "rank", "world_size", "is_main_process", "launched_by_mpi",
           "barrier", "allreduce_", "broadcast_", "broadcast_object", "allgather_object", "abort"]

# Variables a launcher sets in every process it starts (MPICH/Hydra and Intel MPI: PMI_*,
# Open MPI: OMPI_*, PMIx launchers: PMIX_RANK, Slurm's srun: PMI_* or PMIX_*).
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")

_state = {"comm": None, "mpi": None}


class _SelfComm:
    """A world of one process, used when mpi4py is absent and no launcher started us."""

    def Get_rank(self):  # noqa: N802 - mpi4py's names
        return 0

    def Get_size(self):  # noqa: N802
        return 1


def launched_by_mpi():
    """Whether an MPI launcher (``mpiexec``, ``srun``) started this process."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def _local_ranks():
    """How many ranks the launcher started on this machine (MPICH/Hydra's MPI_LOCALNRANKS,
    Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE); 1 when it does not say."""
    for var in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def init():
    """Initialise MPI (idempotent) and return ``(rank, world_size)``.

    Installs the failure hook (:mod:`zerodl.distributed.failure`) when the world has more
    than one process: an uncaught exception on any rank prints that rank's traceback and
    aborts the whole job instead of leaving the other ranks waiting in a collective. Ranks on
    one machine then compute with their share of its cores (``core.threads.share_cores``)
    unless the environment or ``set_num_threads`` chose a thread count.
    """
    if _state["comm"] is None:
        try:
            from mpi4py import MPI
        except ImportError:
            if launched_by_mpi():
                raise ImportError(
                    "zerodl.distributed: this process was started by an MPI launcher but mpi4py is not "
                    'installed; install it with pip install "zerodl[mpi]" (mpi4py and mpich)') from None
            _state["comm"] = _SelfComm()
        else:
            _state["mpi"] = MPI
            _state["comm"] = MPI.COMM_WORLD
            if MPI.COMM_WORLD.Get_size() > 1:
                failure.install(MPI.COMM_WORLD)
                # ranks on one machine share its cores (unless the user chose a thread count);
                # the launcher says how many there are (no collective call in a lazy init)
                share_cores(_local_ranks())
    c = _state["comm"]
    return c.Get_rank(), c.Get_size()


def is_initialized():
    """Whether :func:`init` has run in this process."""
    return _state["comm"] is not None


def _comm():
    if _state["comm"] is None:
        init()
    return _state["comm"]


def _alone():
    """True when this process is certainly a world of one: no launcher started it and MPI was
    not initialised, so the answer needs no mpi4py import."""
    return _state["comm"] is None and not launched_by_mpi()


def rank():
    """This process's rank in ``COMM_WORLD`` (0 when not launched by mpiexec)."""
    return 0 if _alone() else _comm().Get_rank()


def world_size():
    """The number of processes in ``COMM_WORLD`` (1 when not launched by mpiexec)."""
    return 1 if _alone() else _comm().Get_size()


def is_main_process():
    """Whether this is rank 0, the one that writes checkpoints, logs and the final model (True in
    a plain, non-MPI process, without importing mpi4py)."""
    return rank() == 0


def _parallel():
    if _alone():
        return None
    c = _comm()
    return c if c.Get_size() > 1 else None


def barrier():
    """Wait until every rank arrives here."""
    c = _parallel()
    if c is not None:
        c.Barrier()


def allreduce_(array):
    """Sum ``array`` over every rank, in place (a contiguous NumPy array); returns it."""
    c = _parallel()
    if c is None:
        return array
    if not (isinstance(array, np.ndarray) and array.flags.c_contiguous):
        raise TypeError("allreduce_: needs a C-contiguous NumPy array "
                        f"(got {type(array).__name__} {getattr(array, 'shape', '')})")
    c.Allreduce(_state["mpi"].IN_PLACE, array, op=_state["mpi"].SUM)
    return array


def broadcast_(array, root=0):
    """Overwrite ``array`` on every rank with ``root``'s values (in place); returns it.

    A non-contiguous or CuPy array goes through a host copy that is written back.
    """
    c = _parallel()
    if c is None:
        return array
    if isinstance(array, np.ndarray) and array.flags.c_contiguous:
        c.Bcast(array, root=root)
        return array
    host = np.ascontiguousarray(as_numpy(array))
    c.Bcast(host, root=root)
    array[...] = get_array_module(array).asarray(host)
    return array


def broadcast_object(obj, root=0):
    """``root``'s ``obj`` on every rank. Objects travel as JSON (mpi4py's lower-case
    collectives would pickle them): numbers, strings, lists, dicts."""
    c = _parallel()
    if c is None:
        return obj
    payload = _encode(obj) if c.Get_rank() == root else None
    size = np.array([len(payload) if payload is not None else 0], dtype=np.int64)
    c.Bcast(size, root=root)
    buf = np.frombuffer(payload, dtype=np.uint8).copy() if payload is not None else np.empty(int(size[0]), np.uint8)
    c.Bcast(buf, root=root)
    return json.loads(buf.tobytes().decode("utf-8"))


def allgather_object(obj):
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank (as JSON, see :func:`broadcast_object`)."""
    c = _parallel()
    if c is None:
        return [obj]
    mine = np.frombuffer(_encode(obj), dtype=np.uint8)
    sizes = np.zeros(c.Get_size(), dtype=np.int64)
    c.Allgather(np.array([mine.size], dtype=np.int64), sizes)
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    c.Allgatherv(mine, [out, sizes])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return [json.loads(out[a:b].tobytes().decode("utf-8")) for a, b in zip(offsets[:-1], offsets[1:])]


def _encode(obj):
    return json.dumps(obj).encode("utf-8")


def abort(code=1):
    """End every rank of the job now (``MPI_Abort``); in a world of one, exit."""
    c = _parallel()
    if c is None:
        raise SystemExit(code)
    c.Abort(code)
