"""What handing an op to zerodl's chunk pool costs on this host: the median microseconds of a
two-item ``map_chunks`` through the spinning pool (``core.spin_pool``, with Numba) and through
the ``ThreadPoolExecutor`` (without), for an empty job and for ``exp`` over two 1 MiB float32
pieces, rounds alternating the pools; the same ``exp`` job at one thread for scale.

    python -m bench.pool_handoff [--rounds 8] [--calls 100]

Set the BLAS environment in the command as for every benchmark here (unset
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``).
"""
from __future__ import annotations

import argparse
import time


def _median_us(map_chunks, fn, calls):
    import numpy as np

    times = []
    for _ in range(calls + 10):
        t0 = time.perf_counter()
        map_chunks(fn, (0, 1))
        times.append(time.perf_counter() - t0)
    return float(np.median(times[10:]) * 1e6)


def measure(rounds=8, calls=100):
    """{(pool, job): [median µs of each round]} for pools "spin", "executor" and "one thread"."""
    import numpy as np

    import zerodl as zd
    from zerodl.core import threads

    a = np.random.default_rng(0).random((2, 1 << 18), dtype=np.float32)
    b = np.empty_like(a)
    jobs = {"empty": lambda i: None, "exp, 2 x 1 MiB": lambda i: np.exp(a[i], out=b[i])}
    spin = threads._spin_pool
    pools = {"spin": spin, "executor": lambda workers: None} if spin(1) is not None else {"executor": spin}
    results = {(p, j): [] for p in list(pools) + ["one thread"] for j in jobs}
    try:
        for _ in range(rounds):
            for name, make in pools.items():
                zd.set_num_threads(2)
                threads._spin_pool = make
                for job, fn in jobs.items():
                    results[(name, job)].append(_median_us(threads.map_chunks, fn, calls))
            zd.set_num_threads(1)
            for job, fn in jobs.items():
                results[("one thread", job)].append(_median_us(threads.map_chunks, fn, calls))
    finally:
        threads._spin_pool = spin
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--calls", type=int, default=100)
    args = p.parse_args(argv)
    import zerodl  # noqa: F401  (before NumPy: zerodl/_platform.py)

    print("| pool | job | median of the rounds' medians (µs) | range |")
    print("|---|---|---|---|")
    for (pool, job), us in measure(args.rounds, args.calls).items():
        print(f"| {pool} | {job} | {sorted(us)[len(us) // 2]:.0f} | {min(us):.0f}-{max(us):.0f} |")


if __name__ == "__main__":
    main()
