"""Data-parallel scaling of zerodl over MPI: samples/s with 1 and 2 ranks on W1 and W2, what
the machine allows without any communication, and where a step's communication time goes.

    python -m bench.distributed [--data-dir DIR] [--workloads W1,W2] [--ranks 1,2] [--repeats 3]
        [--scaling alone,weak,strong] [--bind-to core] [--max-foreign 0.04] [--json FILE]

One command prints the whole table (markdown). Each rank runs one BLAS thread; the driver
launches ``mpiexec -n k python -m bench.distributed --worker ...`` for every (workload,
ranks, scaling), alternating them ``--repeats`` times; each row gives the best run and the
ratio of the medians. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the workers'
environment (as bench/run.py does by default) so OpenBLAS picks its kernels for this CPU.

What samples/s counts: the samples of all ranks together over the timed window (Barrier to
Barrier), so 1 and k ranks are compared on the same number of samples (``--samples``).

Scaling (rows):
- independent (``alone``): k ranks each train their own model with batch 100 and exchange
  nothing (a plain optimizer; only the Barriers around the timed window). Their summed
  samples/s is the ceiling of weak scaling on this machine: what k processes sharing its
  caches, memory bandwidth and cores allow.
- weak: every rank keeps the workload's batch (100), so k ranks take a global batch of 100k
  (Horovod's and ChainerMN's convention; the learning rate would be scaled with it).
- strong: the global batch stays 100, split over the ranks (same hyper-parameters as one
  process; smaller GEMMs per rank).

Columns: samples/s; speed-up over one rank (best runs, and the medians' ratio); ms per step;
the DistributedOptimizer's gradient averaging per step split into ``pack`` (gradients into
the bucket), ``Allreduce`` (the call, waiting for the slower rank included) and ``unpack``;
``comm share``: their sum over the step; ``Allreduce alone``: one bucketed reduction timed
right after a Barrier (best of 20: the wire cost without waiting). The next two columns
divide by the CPU seconds of the busiest rank instead of the wall time (they leave out time
a rank sat descheduled, but keep MPI's spin-waiting). The last one is the share of the CPUs
that other processes used during the timed window (from /proc/stat, minus the ranks' own CPU
time): with ``--max-foreign F`` a run above F is run again (up to ``--retries`` times, after
waiting up to ``--quiet-wait`` s for a quiet second), so that a busy machine still gives
clean rows or says that it could not.
"""
from __future__ import annotations

import argparse
import json
import math
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
    batch = 100 if args.scaling in ("weak", "alone") else 100 // world
    g = batch * world
    steps = max(1, samples // g)
    zd.manual_seed(0)
    model = make()
    model.train()
    alone = args.scaling == "alone"  # the ceiling: every rank trains on its own, no gradient exchange
    if alone:
        opt = optim.Adam(model.parameters(), lr=1e-3)
    else:
        dist.broadcast_parameters(model)
        opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-3))

    def run(first, n):
        for k in range(first, first + n):
            lo = (k * g) % (len(x) - g + 1) + r * batch
            zerodl_train_step(model, opt, x[lo:lo + batch], t[lo:lo + batch])

    run(0, args.warmup)
    dist.barrier()
    reducer = None if alone else opt.reducer
    before = _phases(reducer)
    busy0 = _busy_seconds()
    t0, c0 = time.perf_counter(), time.process_time()
    run(10, steps)
    cpu = time.process_time() - c0
    own = time.perf_counter() - t0  # this rank's own time, before waiting for the others
    dist.barrier()
    elapsed = time.perf_counter() - t0
    busy = _busy_seconds() - busy0
    phases = {k: v - before[k] for k, v in _phases(reducer).items()}
    ranks = dist.allgather_object({"own": own, "cpu": cpu, "cpu_all": time.process_time() - c0,
                                   "phases_ms": {k: 1e3 * v / steps for k, v in phases.items()}})
    # CPU time the machine spent on anything but these ranks during the timed window
    foreign = max(0.0, busy - sum(q["cpu_all"] for q in ranks)) / ((os.cpu_count() or 1) * elapsed)
    cpu = max(q["cpu"] for q in ranks)  # the busiest rank's CPU seconds (MPI's spin-waits included)
    if alone:  # independent runs: each rank's samples over its own time, summed
        sps = sum(steps * batch / q["own"] for q in ranks)
        sps_cpu = sum(steps * batch / q["cpu"] for q in ranks)
    else:
        sps, sps_cpu = steps * g / elapsed, steps * g / cpu
    wire, nbytes = 0.0, 0
    if reducer is not None and world > 1:
        # the Allreduce alone, on the gradients of the last step: best of 20 (the wire cost, not the waiting)
        times = []
        for _ in range(20):
            dist.barrier()
            a0 = reducer.comm_seconds
            reducer.reduce()
            times.append(reducer.comm_seconds - a0)
        wire = min(times)
        nbytes = sum(b.buffer.nbytes for b in reducer.buckets or [])
    if r == 0:
        print(TAG + json.dumps({
            "workload": args.workload, "ranks": world, "scaling": args.scaling, "batch": batch,
            "samples": steps * g, "seconds": elapsed, "samples_per_s": sps, "samples_per_cpu_s": sps_cpu,
            "step_ms": 1e3 * elapsed / steps,
            "comm_share": sum(phases.values()) / elapsed if world > 1 else 0.0,
            "phases_ms": {k: 1e3 * v / steps for k, v in phases.items()},
            "allreduce_ms": wire * 1e3, "buckets": len(reducer.buckets or []) if reducer else 0,
            "mbytes": nbytes / 2**20, "by_rank": ranks, "foreign": None if math.isnan(busy0) else foreign,
        }), flush=True)


def _phases(reducer):
    """The reducer's accumulated seconds per phase (one ``total`` for a reducer without ``timings``)."""
    if reducer is None:
        return {}
    return dict(getattr(reducer, "timings", None) or {"total": reducer.comm_seconds})


def _wait_until_quiet(args):
    """With --max-foreign: wait (at most --quiet-wait s) until the machine was busy for at most
    that share of its CPUs over the last second, so that a launch is likely to run alone."""
    if args.max_foreign is None:
        return
    deadline = time.monotonic() + args.quiet_wait
    while time.monotonic() < deadline:
        b0, t0 = _busy_seconds(), time.monotonic()
        time.sleep(1.0)
        share = (_busy_seconds() - b0) / ((os.cpu_count() or 1) * (time.monotonic() - t0))
        if not share > args.max_foreign:  # NaN (no /proc/stat): do not wait
            return


def _busy_seconds():
    """CPU seconds the whole machine has been busy since boot (Linux /proc/stat; NaN elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:8]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


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
    bind = ["-bind-to", args.bind_to] if args.bind_to else []
    cmd = [_mpiexec(), *bind, "-n", str(ranks), sys.executable, "-m", "bench.distributed", "--worker",
           "--workload", workload, "--scaling", scaling, "--samples", str(args.samples),
           "--mlp-samples", str(args.mlp_samples), "--warmup", str(args.warmup)]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=args.timeout)
    for line in p.stdout.splitlines():
        if line.startswith(TAG):
            return json.loads(line[len(TAG):])
    raise RuntimeError(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")


MODES = {"-": "-", "alone": "independent", "weak": "weak", "strong": "strong"}


def table(runs):
    """``runs``: {(workload, ranks, scaling): [result, ...]}: best and median per row."""
    import statistics

    lines = ["| Workload | Ranks | Scaling | Batch per rank (global) | Samples | samples/s (best) | × 1 rank | "
             "× 1 rank (medians) | ms per step | pack / Allreduce / unpack, ms per step | comm share | "
             "Allreduce alone (best of 20) | Gradient buffer | samples per CPU-s of the busiest rank | × 1 rank | "
             "other jobs' CPU share (worst run) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def best(key):
        return max(runs[key], key=lambda q: q["samples_per_s"]) if key in runs else None

    def median(key):
        return statistics.median(q["samples_per_s"] for q in runs[key])

    for key in sorted(runs, key=lambda k: (k[0], k[1], list(MODES).index(k[2]))):
        w, k, scaling = key
        res, one = best(key), best((w, 1, "-"))
        ratio = f"{res['samples_per_s'] / one['samples_per_s']:.2f}×" if one else "—"
        med = f"{median(key) / median((w, 1, '-')):.2f}×" if one else "—"
        cpu_ratio = f"{res['samples_per_cpu_s'] / one['samples_per_cpu_s']:.2f}×" if one else "—"
        comm = alone = buf = phases = "—"
        shares = [q["foreign"] for q in runs[key] if q.get("foreign") is not None]
        foreign = f"{100 * max(shares):.1f} %" if shares else "—"
        if res["phases_ms"] and k > 1:
            ph = res["phases_ms"]
            phases = " / ".join(f"{ph[k]:.2f}" for k in ("pack", "allreduce", "unpack")) if "pack" in ph else \
                f"{sum(ph.values()):.2f} in all"
            comm = f"{100 * res['comm_share']:.1f} %"
            alone = f"{res['allreduce_ms']:.2f} ms ({res['buckets']} bucket{'s' * (res['buckets'] != 1)})"
            buf = f"{res['mbytes']:.2f} MiB"
        lines.append(f"| {w} | {k} | {MODES[scaling]} | {res['batch']} ({res['batch'] * k}) | {res['samples']:,} | "
                     f"{res['samples_per_s']:,.0f} | {ratio} | {med} | {res['step_ms']:.2f} | {phases} | {comm} | "
                     f"{alone} | {buf} | {res['samples_per_cpu_s']:,.0f} | {cpu_ratio} | {foreign} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"),
                   help="MNIST IDX folder (default $ZERODL_DATA; synthetic arrays of MNIST's shapes otherwise)")
    p.add_argument("--workloads", default="W1,W2")
    p.add_argument("--ranks", default="1,2")
    p.add_argument("--scaling", default="alone,weak,strong",
                   help="alone: the ranks train independently (no gradient exchange), the ceiling")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--samples", type=int, default=10_000, help="W2: samples per timed unit")
    p.add_argument("--mlp-samples", type=int, default=60_000, help="W1: samples per timed unit")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--max-foreign", type=float, default=None,
                   help="rerun a run in which other processes took more than this share of the CPUs (e.g. 0.03)")
    p.add_argument("--retries", type=int, default=10, help="with --max-foreign: at most this many reruns per run")
    p.add_argument("--retry-wait", type=float, default=5.0, help="seconds between such reruns")
    p.add_argument("--quiet-wait", type=float, default=120.0,
                   help="with --max-foreign: before each launch, wait at most this long for a quiet second")
    p.add_argument("--bind-to", help="passed to mpiexec -bind-to (core: each rank pinned to its own core)")
    p.add_argument("--json", help="also write every run's measurements to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workload", default="W2", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.scaling = args.scaling.split(",")[0]
        worker(args)
        return 0
    runs = {}
    configs = []  # (workload, ranks, scaling); one rank is the same run for every scaling
    for w in args.workloads.split(","):
        for k in (int(v) for v in args.ranks.split(",")):
            configs += [(w, 1, "-")] if k == 1 else [(w, k, sc) for sc in args.scaling.split(",")]
    for _ in range(args.repeats):  # alternate the configurations; best and median of each
        for w, k, scaling in configs:
            _wait_until_quiet(args)
            res = launch(w, k, "weak" if k == 1 else scaling, args)
            for _ in range(args.retries):
                if args.max_foreign is None or res["foreign"] is None or res["foreign"] <= args.max_foreign:
                    break
                print(f"# {w} ranks={k} {scaling}: other jobs took {100 * res['foreign']:.0f} % of the CPUs, again",
                      file=sys.stderr, flush=True)
                time.sleep(args.retry_wait)
                _wait_until_quiet(args)
                again = launch(w, k, "weak" if k == 1 else scaling, args)
                res = again if again["foreign"] <= res["foreign"] else res
            runs.setdefault((w, k, scaling), []).append(res)
            print(f"# {w} ranks={k} {scaling}: {res['samples_per_s']:,.0f} samples/s, {res['step_ms']:.2f} ms/step, "
                  f"other jobs {100 * (res['foreign'] or 0):.0f} %\n{TAG}{json.dumps(res)}", file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"Load average during the run (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
          f"{os.cpu_count()} logical CPUs; {args.repeats} alternating runs per row; "
          f"{'mpiexec -bind-to ' + args.bind_to if args.bind_to else 'ranks not pinned'}; "
          f"data: {'MNIST from ' + args.data_dir if args.data_dir else 'synthetic'}\n")
    print(table(runs))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"key": list(k), "runs": v} for k, v in runs.items()], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
