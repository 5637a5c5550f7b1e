"""Per-step overhead of zerodl against the hand-written NumPy floor.

    python -m bench.overhead [--optimizer sgd|adam] [--steps 3000] [--data-dir DIR] [--torch]

One training step of a 784-100-100-100-10 ReLU MLP (batch 100, float32, one BLAS thread):
forward, softmax cross entropy, backward, parameter update.  zerodl runs the natural
user code (nn.Sequential, F.softmax_cross_entropy, loss.backward(), optimizer.step());
the floor is bench/peers/numpy_floor.py (Affine/Relu/SoftmaxWithLoss with cached inputs,
no dX for the first layer, in-place update).  The optimizer is the same on both sides:
plain SGD (lr 0.1) by default, or Adam(1e-3) with ``--optimizer adam``.  Both run in this
one process, in interleaved blocks of steps on the same batches; each step is timed on
its own and the medians (after warm-up) are compared.  Target: zerodl/NumPy <= 1.15.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before any BLAS library is loaded

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # when run as ``python bench/overhead.py``
    sys.path.insert(0, str(ROOT))

from bench.data import load_mnist  # noqa: E402
from bench.peers import numpy_floor  # noqa: E402
from bench.workloads.base import batch_slices  # noqa: E402
from bench.workloads.mlp import SIZES, torch_mlp, zerodl_mlp  # noqa: E402
from bench.workloads.trainers import torch_train_step, zerodl_train_step  # noqa: E402

TARGET = 1.15
BATCH = 100
LR = {"sgd": 0.1, "adam": 1e-3}


def numpy_step(x, t, opt_name, seed):
    net = numpy_floor.MLP(SIZES, seed=seed)
    optimizer = numpy_floor.make_optimizer(opt_name, net.params(), LR[opt_name])
    slices = batch_slices(len(x), BATCH)

    def step():
        s = next(slices)
        net.loss_and_grads(x[s], t[s])
        optimizer.step(net.grads())

    return step


def zerodl_step(x, t, opt_name, seed):
    import zerodl as zd
    import zerodl.optim as optim

    zd.manual_seed(seed)
    model = zerodl_mlp(SIZES)
    make = {"sgd": optim.SGD, "adam": optim.Adam}[opt_name]
    optimizer = make(model.parameters(), lr=LR[opt_name])
    slices = batch_slices(len(x), BATCH)

    def step():
        s = next(slices)
        zerodl_train_step(model, optimizer, x[s], t[s])

    return step


def torch_step(x, t, opt_name, seed):
    import torch

    torch.manual_seed(seed)
    model = torch_mlp(SIZES)
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[opt_name]
    optimizer = make(model.parameters(), lr=LR[opt_name])
    x, t = torch.from_numpy(x), torch.from_numpy(t)
    slices = batch_slices(len(x), BATCH)

    def step():
        s = next(slices)
        torch_train_step(model, optimizer, x[s], t[s])

    return step


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument("--steps", type=int, default=3000, help="timed steps per framework")
    p.add_argument("--warmup", type=int, default=200, help="untimed steps per framework")
    p.add_argument("--block", type=int, default=100, help="steps per interleaved block")
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    p.add_argument("--torch", action="store_true", help="also time PyTorch (for reference)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    data = load_mnist(args.data_dir, args.seed)
    x, t = data.x_train.reshape(len(data.x_train), -1), data.t_train

    makers = {"NumPy floor": numpy_step, "zerodl": zerodl_step}
    if args.torch:
        makers["PyTorch"] = torch_step
    steps = {}
    for name, make in makers.items():
        try:
            steps[name] = make(x, t, args.optimizer, args.seed)
        except Exception as exc:  # e.g. zerodl not importable yet
            print(f"skipping {name}: {type(exc).__name__}: {exc}", file=sys.stderr)

    from threadpoolctl import threadpool_limits
    if "PyTorch" in steps:
        import torch
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        for name, step in list(steps.items()):
            try:
                for _ in range(args.warmup):
                    step()
            except Exception as exc:
                print(f"skipping {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                del steps[name]
        times = {name: [] for name in steps}
        for _ in range(max(1, args.steps // args.block)):
            for name, step in steps.items():
                record = times[name]
                for _ in range(args.block):
                    t0 = time.perf_counter()
                    step()
                    record.append(time.perf_counter() - t0)

    opt = "SGD(lr=0.1)" if args.optimizer == "sgd" else "Adam(lr=1e-3)"
    print(f"one training step: MLP {'-'.join(map(str, SIZES))} ReLU, batch {BATCH}, float32, "
          f"1 BLAS thread, optimizer {opt} on every side; {data.source}")
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        ts = sorted(ts)
        print(f"  {name:<12} median {1e3 * medians[name]:.3f} ms  (p10 {1e3 * ts[len(ts) // 10]:.3f}, "
              f"p90 {1e3 * ts[9 * len(ts) // 10]:.3f}; {len(ts)} steps)")
    floor = medians.get("NumPy floor")
    if "zerodl" in medians and floor:
        ratio = medians["zerodl"] / floor
        print(f"  zerodl / NumPy floor = {ratio:.3f}  (target <= {TARGET}): "
              f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    else:
        print("  zerodl / NumPy floor = n/a (zerodl did not run)")
    if "PyTorch" in medians and floor:
        print(f"  PyTorch / NumPy floor = {medians['PyTorch'] / floor:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
