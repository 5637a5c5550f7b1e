"""Data-parallel scaling of zerodl over MPI: samples/s with 1 and 2 ranks on W1 and W2, and
the share of a step spent averaging gradients.

    python -m bench.distributed [--data-dir DIR] [--workloads W1,W2] [--ranks 1,2] [--repeats 3]

One command prints the whole table (markdown). Each rank runs one BLAS thread; the driver
launches ``mpiexec -n k python -m bench.distributed --worker ...`` for every (workload,
ranks) pair, alternating the rank counts ``--repeats`` times and keeping each one's best
run. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the workers' environment (as
bench/run.py does by default) so OpenBLAS picks its kernels for this CPU.

Scaling:
- weak: every rank keeps the workload's batch (100), so k ranks take a global batch of 100k
  (Horovod's and ChainerMN's convention; the learning rate would be scaled with it).
- strong: the global batch stays 100, split over the ranks (same hyper-parameters as one
  process; smaller GEMMs per rank).

Columns: samples/s over the timed unit (W1: one epoch of 60,000 samples; W2: 10,000 samples),
speed-up over one rank, ``comm``: the share of the step inside DistributedOptimizer's
gradient averaging (pack + Allreduce + unpack, waiting for the slower rank included),
``allreduce``: one bucketed Allreduce of the model's gradients timed alone (best of 20, ms).
The last two columns divide by the CPU seconds of the busiest rank instead of the wall
time: on a machine shared with other jobs, wall-clock samples/s measure the share of the
CPUs the ranks were given; CPU seconds leave out the time a rank sat descheduled (but keep
MPI's spin-waiting for a descheduled partner, so they understate the speed-up). On a quiet
machine with a core per rank the two ratios agree.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "@@DIST "


# ----------------------------------------------------------------------------- worker (one rank)
def worker(args) -> None:
    import zerodl as zd
    import zerodl.distributed as dist
    import zerodl.optim as optim
    from bench.data import load_mnist
    from bench.workloads.convnet import zerodl_model
    from bench.workloads.mlp import zerodl_mlp
    from bench.workloads.trainers import zerodl_train_step

    r, world = dist.init()
    data = load_mnist(args.data_dir, 0)
    x, t = data.x_train, data.t_train
    if args.workload == "W1":
        x, make, samples = x.reshape(len(x), -1), zerodl_mlp, args.mlp_samples
    else:
        make, samples = zerodl_model, args.samples
    batch = 100 if args.scaling == "weak" else 100 // world
    g = batch * world
    steps = max(1, samples // g)
    zd.manual_seed(0)
    model = make()
    model.train()
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-3))

    def run(first, n):
        for k in range(first, first + n):
            lo = (k * g) % (len(x) - g + 1) + r * batch
            zerodl_train_step(model, opt, x[lo:lo + batch], t[lo:lo + batch])

    run(0, 10)  # warm-up
    dist.barrier()
    comm0, t0, c0 = opt.comm_seconds, time.perf_counter(), time.process_time()
    run(10, steps)
    cpu = time.process_time() - c0
    dist.barrier()
    elapsed = time.perf_counter() - t0
    cpu = max(dist.allgather_object(cpu))  # the busiest rank's CPU seconds (MPI's spin-waits included)
    comm = opt.comm_seconds - comm0
    # the Allreduce alone, on the gradients of the last step: best of 20 (the wire cost, not the waiting)
    reducer = opt.reducer
    times = []
    for _ in range(20):
        dist.barrier()
        a0 = reducer.comm_seconds
        reducer.reduce()
        times.append(reducer.comm_seconds - a0)
    alone = min(times)
    nbytes = sum(b.buffer.nbytes for b in reducer.buckets or [])
    if r == 0:
        print(TAG + json.dumps({
            "workload": args.workload, "ranks": world, "scaling": args.scaling, "batch": batch,
            "samples": steps * g, "seconds": elapsed, "samples_per_s": steps * g / elapsed,
            "samples_per_cpu_s": steps * g / cpu,
            "comm_share": comm / elapsed if world > 1 else 0.0, "allreduce_ms": alone * 1e3 if world > 1 else 0.0,
            "buckets": len(reducer.buckets or []), "mbytes": nbytes / 2**20,
        }), flush=True)


# ----------------------------------------------------------------------------- driver
def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else "mpiexec"


def _env():
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "HYDRA_LAUNCHER": "fork", "PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", "")})
    return env


def launch(workload, ranks, scaling, args):
    cmd = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "bench.distributed", "--worker",
           "--workload", workload, "--scaling", scaling, "--samples", str(args.samples),
           "--mlp-samples", str(args.mlp_samples)]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=args.timeout)
    for line in p.stdout.splitlines():
        if line.startswith(TAG):
            return json.loads(line[len(TAG):])
    raise RuntimeError(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")


def table(best, args):
    lines = ["| Workload | Ranks | Scaling | Batch per rank (global) | Samples | samples/s | × 1 rank | comm share | "
             "Allreduce alone (best of 20) | Gradient buffer | samples per CPU-s of the busiest rank | × 1 rank |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (w, k, scaling), res in sorted(best.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        one = best.get((w, 1, "-"))
        ratio = f"{res['samples_per_s'] / one['samples_per_s']:.2f}×" if one else "—"
        cpu_ratio = f"{res['samples_per_cpu_s'] / one['samples_per_cpu_s']:.2f}×" if one else "—"
        if k == 1:
            comm = alone = buf = "—"
        else:
            comm = f"{100 * res['comm_share']:.1f} %"
            alone = f"{res['allreduce_ms']:.2f} ms ({res['buckets']} bucket{'s' * (res['buckets'] != 1)})"
            buf = f"{res['mbytes']:.2f} MiB"
        lines.append(f"| {w} | {k} | {scaling} | {res['batch']} ({res['batch'] * k}) | {res['samples']:,} | "
                     f"{res['samples_per_s']:,.0f} | {ratio} | {comm} | {alone} | {buf} | "
                     f"{res['samples_per_cpu_s']:,.0f} | {cpu_ratio} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"),
                   help="MNIST IDX folder (default $ZERODL_DATA; synthetic arrays of MNIST's shapes otherwise)")
    p.add_argument("--workloads", default="W1,W2")
    p.add_argument("--ranks", default="1,2")
    p.add_argument("--scaling", default="weak,strong")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--samples", type=int, default=10_000, help="W2: samples per timed unit")
    p.add_argument("--mlp-samples", type=int, default=60_000, help="W1: samples per timed unit")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workload", default="W2", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.scaling = args.scaling.split(",")[0]
        worker(args)
        return 0
    best = {}
    configs = []  # (workload, ranks, scaling); one rank is the same run for both scalings
    for w in args.workloads.split(","):
        for k in (int(v) for v in args.ranks.split(",")):
            configs += [(w, 1, "-")] if k == 1 else [(w, k, sc) for sc in args.scaling.split(",")]
    for _ in range(args.repeats):  # alternate the configurations, keep each one's best run
        for w, k, scaling in configs:
            res = launch(w, k, "weak" if k == 1 else scaling, args)
            key = (w, k, scaling)
            if key not in best or res["samples_per_s"] > best[key]["samples_per_s"]:
                best[key] = res
            print(f"# {w} ranks={k} {scaling}: {res['samples_per_s']:,.0f} samples/s", file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"Load average during the run (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
          f"{os.cpu_count()} logical CPUs; best of {args.repeats} per row; "
          f"data: {'MNIST from ' + args.data_dir if args.data_dir else 'synthetic'}\n")
    print(table(best, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
