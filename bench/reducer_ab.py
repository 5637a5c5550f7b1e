"""GradientReducer.reduce of this tree against the one at an earlier git commit, on W2's
gradients, two ranks.

    python -m bench.reducer_ab [--base cc6d81d] [--calls 200]

Both reducers average the same fresh gradient arrays (as a backward pass leaves them) of
SimpleConvNet's six parameters; every call starts right after a Barrier, so the time is the
reduction itself (pack, Allreduce, unpack) without waiting for a slower rank. The two run
alternately, ``--calls`` times each in all; the minimum and the 20th percentile are printed
(rank 0's clock), with this tree's split into pack / Allreduce / unpack.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = "zerodl/distributed/buckets.py"


def worker(args) -> None:
    import numpy as np

    import zerodl as zd
    import zerodl.distributed as dist
    from bench.workloads.convnet import zerodl_model
    from zerodl.distributed.buckets import GradientReducer

    spec = importlib.util.spec_from_file_location("zerodl.distributed._base_buckets", args.base_file)
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    dist.init()
    zd.manual_seed(0)
    model = zerodl_model()
    model(zd.tensor(np.zeros((2, 1, 28, 28), np.float32)))
    params = list(model.parameters())
    rng = np.random.default_rng(dist.rank())
    grads = [rng.standard_normal(p.data.shape).astype(np.float32) for p in params]
    reducers = {"base": base.GradientReducer(params), "this tree": GradientReducer(params)}
    times = {k: [] for k in reducers}
    for _ in range(args.calls // 10):
        for name, red in reducers.items():
            for _ in range(10):
                for p, g in zip(params, grads):
                    p.grad = g.copy()
                dist.barrier()
                t0 = time.perf_counter()
                red.reduce(100.0)
                times[name].append(time.perf_counter() - t0)
    if dist.rank() == 0:
        for name, ts in times.items():
            print(f"{name}: min {1e3 * min(ts):.3f} ms, 20th percentile {1e3 * np.percentile(ts, 20):.3f} ms "
                  f"({len(ts)} calls)")
        new = reducers["this tree"]
        print("this tree, mean per call: " + ", ".join(f"{k} {1e3 * v / new.calls:.3f} ms"
                                                      for k, v in new.timings.items()))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.reducer_ab", description=__doc__.splitlines()[0])
    p.add_argument("--base", default="cc6d81d", help="the git commit whose buckets.py is the baseline")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--base-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    from bench.distributed import _env, _mpiexec

    old = subprocess.run(["git", "show", f"{args.base}:{PATH}"], capture_output=True, text=True, cwd=ROOT)
    if old.returncode != 0:
        print(f"bench.reducer_ab: cannot read {PATH} at {args.base}: {old.stderr.strip()}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        base_file = os.path.join(tmp, "buckets.py")
        with open(base_file, "w") as f:
            f.write(old.stdout)
        cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "bench.reducer_ab", "--worker", "--base-file", base_file,
               "--calls", str(args.calls)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)
    print(f"base: {PATH} at {args.base}; load average {os.getloadavg()[0]:.2f}")
    print(proc.stdout, end="")
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
