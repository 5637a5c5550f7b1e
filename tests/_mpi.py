"""Launching ``mpiexec -n 2`` from tests, and the skip marker when MPI is not installed.

Settings that make MPICH's Hydra work in a container without root: the ``fork`` launcher
(no ssh to localhost). On hosts where the UCX network module fails to start (no
InfiniBand, locked-down /dev/shm), ``MPIR_CVAR_CH4_NETMOD=ofi FI_PROVIDER=tcp`` is the
fallback (docs/distributed.md).
"""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_mpiexec():
    """The mpiexec next to this Python (pip's mpich puts it there), else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def _missing():
    if importlib.util.find_spec("mpi4py") is None:
        return 'mpi4py is not installed (pip install "zerodl[mpi]")'
    if find_mpiexec() is None:
        return 'no mpiexec on PATH or next to the Python (pip install "zerodl[mpi]" installs mpich)'
    return None


needs_mpi = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def mpi_env(extra=None):
    env = dict(os.environ)
    env.update({"PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", ""), "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "HYDRA_LAUNCHER": "fork"})
    env.update(extra or {})
    return env


def mpi_run(cmd, n=2, timeout=60, cwd=None, env=None):
    """Run ``mpiexec -n n cmd...``; a hang past ``timeout`` s kills the whole launch (its own
    process group: mpiexec and every rank) and fails the calling test."""
    full = [find_mpiexec(), "-n", str(n)] + list(cmd)
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT,
                            env=mpi_env(env), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(full)} did not end within {timeout}s (a hang):\n{out}\n{err}")
    return subprocess.CompletedProcess(full, proc.returncode, out, err)
