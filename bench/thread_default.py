"""Is more than one thread worth it here? zerodl training steps at each thread count, alternating
in one process (``zd.set_num_threads`` between rounds), for the default in zerodl/core/threads.py.

    python -m bench.thread_default [--workloads KCNN,W3,W2] [--threads 1,2] [--rounds 5] [--steps 5]

Each round runs ``--steps`` steps per thread count, in turn, after a warm-up; the report is
the median step time per thread count, the ratio to one thread, the CPU/wall ratio (how much
of a second core the process got) and the load average before and after (other jobs on the
machine count: on a shared machine a second BLAS thread competes with them).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _model(key):
    import zerodl.nn as nn

    from bench.workloads import convnet, deepconvnet, keras_cnn

    return {"KCNN": lambda: keras_cnn.nn_layers(nn), "W3": lambda: deepconvnet._layers(nn),
            "W2": convnet.zerodl_model}[key]()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.thread_default", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="KCNN,W3,W2")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    args = p.parse_args(argv)
    import zerodl as zd
    import zerodl.optim as optim

    from bench.data import load_mnist
    from bench.workloads.trainers import zerodl_train_step

    counts = [int(k) for k in args.threads.split(",")]
    data = load_mnist(args.data_dir)
    print(f"load average before: {os.getloadavg()}; cores usable: {zd.core.threads.available_cores()}")
    print("| Workload | Threads | median step | vs 1 thread | CPU/wall |")
    print("|---|---|---|---|---|")
    for key in args.workloads.split(","):
        zd.manual_seed(0)
        model = _model(key)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        times = {k: [] for k in counts}
        cpu = {k: [] for k in counts}
        i = 0
        for r in range(args.rounds + 1):  # round 0 is the warm-up
            for k in counts:
                zd.set_num_threads(k)
                for _ in range(args.steps):
                    s = slice(i % 59_900, i % 59_900 + 100)
                    i += 100
                    c0, t0 = time.process_time(), time.perf_counter()
                    zerodl_train_step(model, opt, data.x_train[s], data.t_train[s])
                    if r:
                        times[k].append(time.perf_counter() - t0)
                        cpu[k].append(time.process_time() - c0)
        one = statistics.median(times[counts[0]])
        for k in counts:
            med = statistics.median(times[k])
            print(f"| {key} | {k} | {1e3 * med:.1f} ms | {med / one:.2f}× | "
                  f"{sum(cpu[k]) / sum(times[k]):.2f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
