"""Launching ``mpiexec -n 2`` from tests, and the skip marker when MPI is not installed.

Settings that make MPICH's Hydra work in a container without root: the ``fork`` launcher
(no ssh to localhost). On hosts where the default network module (UCX) fails to start (no
InfiniBand, a locked-down /dev/shm), the first launch falls back to
``MPIR_CVAR_CH4_NETMOD=ofi`` with ``FI_PROVIDER=tcp`` (then ``shm``) and keeps what works
(docs/distributed.md).
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


# Tried in order by the first launch; the first that runs a 2-rank Barrier is kept.
FALLBACKS = ({}, {"MPIR_CVAR_CH4_NETMOD": "ofi", "FI_PROVIDER": "tcp"}, {"MPIR_CVAR_CH4_NETMOD": "ofi",
                                                                        "FI_PROVIDER": "shm"})
_working = []


def launch_settings():
    """The MPICH settings that start a 2-rank job here (see FALLBACKS); fails the test with the
    launcher's messages when none does."""
    if _working:
        return _working[0]
    code = "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()"
    errors = []
    for extra in FALLBACKS:
        try:
            p = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, "-c", code], capture_output=True,
                               text=True, timeout=30, env=mpi_env(extra))
        except subprocess.TimeoutExpired:
            errors.append(f"{extra or 'defaults'}: no answer in 30 s")
            continue
        if p.returncode == 0:
            _working.append(extra)
            return extra
        errors.append(f"{extra or 'defaults'}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    pytest.fail("mpiexec -n 2 cannot start a job here with any of the settings tried:\n" + "\n".join(errors))


def mpi_run(cmd, n=2, timeout=60, cwd=None, env=None):
    """Run ``mpiexec -n n cmd...``; a hang past ``timeout`` s kills the whole launch (its own
    process group: mpiexec and every rank) and fails the calling test."""
    full = [find_mpiexec(), "-n", str(n)] + list(cmd)
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT,
                            env=mpi_env({**launch_settings(), **(env or {})}), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(full)} did not end within {timeout}s (a hang):\n{out}\n{err}")
    return subprocess.CompletedProcess(full, proc.returncode, out, err)
