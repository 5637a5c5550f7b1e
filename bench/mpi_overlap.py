"""Can MPI hide the gradient Allreduce behind computation when each rank has one core?

    python -m bench.mpi_overlap [--mbytes 1.66] [--compute-ms 4] [--repeats 60]

Two ranks (``mpiexec -n 2``, one BLAS thread each) time, after a Barrier:

- ``compute``: a fixed run of small SGEMMs (about ``--compute-ms``) standing in for the part
  of the backward pass that follows the last large gradient;
- ``allreduce``: one in-place ``Allreduce`` of a float32 buffer of ``--mbytes`` MiB (W2's
  bucket: 1.66 MiB);
- ``sequential``: compute, then the blocking Allreduce (what zerodl does);
- ``overlap, Test``: ``Iallreduce`` first, compute with a ``Test`` after every SGEMM, ``Wait``;
- ``overlap, Wait only``: ``Iallreduce``, compute without MPI calls, ``Wait``.

Each is the 20th percentile (and the minimum) over ``--repeats`` rounds (interleaved), in ms,
rank 0's clock.
``overlap, Test`` below ``sequential`` by about ``allreduce`` would mean the transfer was hidden;
the same as ``sequential`` means the transfer costs this core the same CPU time wherever it
runs (intra-node MPI moves data with the CPUs' own copies). ``overlap, Wait only`` shows
whether the library progresses a request without being called (MPICH does not by default).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "@@OVERLAP "
CASES = ("compute", "allreduce", "sequential", "overlap, Test", "overlap, Wait only")


def worker(args) -> None:
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    buf = np.ones(int(args.mbytes * 2**20) // 4, np.float32)
    a = np.random.default_rng(0).random((160, 160), dtype=np.float32)
    t0 = time.perf_counter()
    for _ in range(20):
        a @ a
    n = max(1, round(args.compute_ms / (1e3 * (time.perf_counter() - t0) / 20)))
    n = int(comm.allreduce(n, op=MPI.MAX))  # the same work on both ranks

    def compute(req=None):
        for _ in range(n):
            a @ a
            if req is not None:
                req.Test()

    def allreduce():
        comm.Allreduce(MPI.IN_PLACE, buf)

    def sequential():
        compute()
        allreduce()

    def overlap_test():
        req = comm.Iallreduce(MPI.IN_PLACE, buf)
        compute(req)
        req.Wait()

    def overlap_wait():
        req = comm.Iallreduce(MPI.IN_PLACE, buf)
        compute()
        req.Wait()

    funcs = dict(zip(CASES, (compute, allreduce, sequential, overlap_test, overlap_wait)))
    times = {k: [] for k in CASES}
    for _ in range(args.repeats):
        for k, f in funcs.items():
            comm.Barrier()
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    if comm.Get_rank() == 0:
        out = {k: 1e3 * float(np.percentile(v, 20)) for k, v in times.items()}
        low = {k: 1e3 * min(v) for k, v in times.items()}
        print(TAG + json.dumps({"ms": out, "min_ms": low, "gemms": n, "mbytes": buf.nbytes / 2**20}), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.mpi_overlap", description=__doc__.splitlines()[0])
    p.add_argument("--mbytes", type=float, default=1.66)
    p.add_argument("--compute-ms", type=float, default=4.0)
    p.add_argument("--repeats", type=int, default=60)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    from bench.distributed import _env, _mpiexec

    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "bench.mpi_overlap", "--worker", "--mbytes",
           str(args.mbytes), "--compute-ms", str(args.compute_ms), "--repeats", str(args.repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(TAG)]
    if not lines:
        print(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
        return 1
    res = json.loads(lines[0][len(TAG):])
    load = os.getloadavg()
    print(f"2 ranks, {res['mbytes']:.2f} MiB float32, {res['gemms']} SGEMMs 160x160 of compute; 20th percentile of "
          f"{args.repeats} rounds; load average {load[0]:.2f}\n")
    print("| " + " | ".join(CASES) + " |\n|" + "---|" * len(CASES))
    print("| " + " | ".join(f"{res['ms'][k]:.3f} ms (min {res['min_ms'][k]:.3f})" for k in CASES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
