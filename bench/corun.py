"""What two processes running at once cost each other on this machine (the ceiling of any
2-process data parallelism), kernel by kernel.

    python -m bench.corun [--data-dir DIR] [--kernels sgemm,l2,l3,dram,w2] [--repeats 5]

For each kernel, one process alone and then two at once (started together behind a
``multiprocessing.Barrier``, one BLAS thread each, no MPI) run it for a fixed amount of work;
a run's rate is its work over its own wall time. ``× alone`` is the pair's rate per process
over the rate alone (1.00: the two cores do not get in each other's way; the pair's total is
twice that), medians of ``--repeats`` interleaved rounds. Kernels:

- ``sgemm``: float32 512x512 matrix products (compute-bound, in the core's caches);
- ``l2``, ``l3``, ``dram``: ``np.copyto`` between two float32 arrays of 0.5 MiB, 8 MiB and
  128 MiB (each array; the pair of a process fits its L2, fits the shared L3, or does not);
- ``w2``: bench's W2 training step (SimpleConvNet, Adam, batch 100), as ``bench.distributed``
  runs it on each rank.

The last column is the share of the CPUs that other processes took during the round (from
/proc/stat): rounds run while other jobs share the machine measure them too.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

from bench.distributed import _busy_seconds

KERNELS = ("sgemm", "l2", "l3", "dram", "w2")
_COPY_MIB = {"l2": 0.5, "l3": 8, "dram": 128}
UNITS = {"sgemm": "GFLOP", "l2": "GiB copied", "l3": "GiB copied", "dram": "GiB copied", "w2": "steps (batch 100)"}


def _make(kernel, data_dir):
    """A function running some of ``kernel``'s work, and how many units (UNITS) that is."""
    import numpy as np

    if kernel == "sgemm":
        a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
        return (lambda: a @ a), 2 * 512**3 / 1e9
    if kernel in _COPY_MIB:
        n = int(_COPY_MIB[kernel] * 2**20) // 4
        src, dst = np.ones(n, np.float32), np.zeros(n, np.float32)
        return (lambda: np.copyto(dst, src)), 4 * n / 2**30
    if kernel == "w2":
        import zerodl as zd
        import zerodl.optim as optim
        from bench.data import load_mnist
        from bench.workloads.convnet import zerodl_model
        from bench.workloads.trainers import zerodl_train_step

        data = load_mnist(data_dir, 0)
        x, t = data.x_train, data.t_train
        zd.manual_seed(0)
        model = zerodl_model()
        model.train()
        opt = optim.Adam(model.parameters(), lr=1e-3)
        pos = [0]

        def step():
            lo = pos[0]
            pos[0] = (lo + 100) % (len(x) - 99)
            zerodl_train_step(model, opt, x[lo:lo + 100], t[lo:lo + 100])

        return step, 1.0
    raise ValueError(f"bench.corun: unknown kernel {kernel!r} (choose from {', '.join(KERNELS)})")


def _child(kernel, seconds, data_dir, barrier, out):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    run, work = _make(kernel, data_dir)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.3 or n < 3:  # warm-up, and how many units fill ``seconds``
        run()
        n += 1
    units = max(3, int(n * seconds / (time.perf_counter() - t0)))
    barrier.wait()
    t0 = time.perf_counter()
    for _ in range(units):
        run()
    out.put(units * work / (time.perf_counter() - t0))


def measure(kernel, procs, seconds, data_dir):
    """Rates of ``procs`` processes running ``kernel`` at once, and the other jobs' CPU share."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    ps = [ctx.Process(target=_child, args=(kernel, seconds, data_dir, barrier, out)) for _ in range(procs)]
    b0, t0 = _busy_seconds(), time.perf_counter()
    c0 = sum(os.times()[2:4])
    for p in ps:
        p.start()
    rates = [out.get(timeout=600) for _ in ps]
    for p in ps:
        p.join()
    ours = sum(os.times()[2:4]) - c0
    foreign = max(0.0, _busy_seconds() - b0 - ours) / ((os.cpu_count() or 1) * (time.perf_counter() - t0))
    return rates, foreign


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.corun", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    p.add_argument("--kernels", default=",".join(KERNELS))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="timed work per process per run")
    args = p.parse_args(argv)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before NumPy loads OpenBLAS in the children
    kernels = args.kernels.split(",")
    for k in kernels:
        if k not in KERNELS:
            p.error(f"unknown kernel {k!r} (choose from {', '.join(KERNELS)})")
    res = {k: {"alone": [], "pair": [], "foreign": []} for k in kernels}
    for _ in range(args.repeats):
        for k in kernels:
            (one,), f1 = measure(k, 1, args.seconds, args.data_dir)
            two, f2 = measure(k, 2, args.seconds, args.data_dir)
            res[k]["alone"].append(one)
            res[k]["pair"].append(statistics.mean(two))
            res[k]["foreign"] += [f1, f2]
            print(f"# {k}: alone {one:.3f}, pair {two[0]:.3f} + {two[1]:.3f}, other jobs {100 * max(f1, f2):.0f} %",
                  file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"{os.cpu_count()} logical CPUs, one BLAS thread per process, medians of {args.repeats} rounds; "
          f"load average at the end {load[0]:.2f}\n")
    print("| Kernel | Unit per s | Alone | Each of two at once | × alone | Pair's total × alone | "
          "other jobs' CPU share (median / worst) |\n|---|---|---|---|---|---|---|")
    for k in kernels:
        unit = UNITS[k]
        a, b = statistics.median(res[k]["alone"]), statistics.median(res[k]["pair"])
        ratios = [y / x for x, y in zip(res[k]["alone"], res[k]["pair"])]
        r = statistics.median(ratios)
        f = res[k]["foreign"]
        print(f"| {k} | {unit} | {a:.3f} | {b:.3f} | {r:.3f} | {2 * r:.2f}× | "
              f"{100 * statistics.median(f):.1f} % / {100 * max(f):.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
