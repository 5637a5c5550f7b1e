"""Where one DCGAN step (bench/workloads/dcgan.py, key GAN) spends its time, per op.

    python -m bench.gan_profile [--steps 40] [--threads 1] [--torch] [--data-dir DIR]

zerodl: every ``Function`` subclass's forward and backward, the ``Windows`` methods of the
convolutions (windows.py: im2col, col2im, fold, ...) and ``np.matmul`` are wrapped with a CPU
timer (``np.matmul`` is what the convolutions call; ``@`` in the weight gradients is not
counted there); the table gives milliseconds per step and calls per step, nested entries
indented (a Windows method's time is inside its op's). ``--torch`` also prints PyTorch's own
profiler table for the same step (self CPU time). One BLAS thread by default; with
``--threads n`` (BLAS and zerodl's pool, or torch's intra-op threads) the times are wall
milliseconds instead of CPU ones, since the pool's workers and BLAS's run beside the caller.
"""
from __future__ import annotations

import os
import sys
import time


def _threads_arg(argv):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


THREADS = _threads_arg(sys.argv)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)  # before any BLAS library is loaded
CLOCK = time.process_time if THREADS == 1 else time.perf_counter
CLOCK_NAME = "CPU" if THREADS == 1 else "wall"

import argparse  # noqa: E402
import collections  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.workloads import dcgan  # noqa: E402
from bench.workloads.base import Options  # noqa: E402

WINDOWS_METHODS = ("correlate", "weight_grad", "fold", "im2col", "col2im_add", "widen", "split", "merge")


def _timed(table, key, fn):
    def wrapper(*args, **kwargs):
        t = CLOCK()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = table[key]
            entry[0] += CLOCK() - t
            entry[1] += 1
    return wrapper


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def profile_zerodl(data, opts, steps):
    import zerodl as zd
    from zerodl.core import Function
    from zerodl.functions import windows

    zd.set_num_threads(THREADS)

    table = collections.defaultdict(lambda: [0.0, 0])
    for cls in set(_subclasses(Function)):
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                setattr(cls, name, _timed(table, f"{cls.__name__}.{name}", cls.__dict__[name]))
    for name in WINDOWS_METHODS:
        if name in windows.Windows.__dict__:
            setattr(windows.Windows, name, _timed(table, f"  Windows.{name}", windows.Windows.__dict__[name]))
    matmul = np.matmul
    np.matmul = _timed(table, "  np.matmul", matmul)
    try:
        run = dcgan.build("zerodl", data, opts)
        run(3)
        table.clear()
        t = CLOCK()
        run(steps)
        total = (CLOCK() - t) / steps * 1e3
    finally:
        np.matmul = matmul
    print(f"zerodl: {total:.1f} {CLOCK_NAME} ms per step (profiled, {THREADS} thread(s)), "
          f"load average {os.getloadavg()}")
    print(f"| op | {CLOCK_NAME} ms/step | calls/step |\n|---|---|---|")
    for key, (sec, calls) in sorted(table.items(), key=lambda kv: -kv[1][0]):
        if sec / steps * 1e3 >= 0.05:
            print(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {sec / steps * 1e3:.2f} | {calls / steps:.0f} |")


def profile_torch(data, opts, steps):
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(THREADS)
    run = dcgan.build("torch", data, opts)
    run(3)
    t = CLOCK()
    run(steps)
    print(f"\nPyTorch: {(CLOCK() - t) / steps * 1e3:.1f} {CLOCK_NAME} ms per step (not profiled)")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run(steps)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1, help="BLAS / pool threads (read before imports)")
    ap.add_argument("--torch", action="store_true")
    ap.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    args = ap.parse_args(argv)
    opts = Options(data_dir=args.data_dir)
    data = dcgan.GAN.load(opts)
    profile_zerodl(data, opts, args.steps)
    if args.torch:
        profile_torch(data, opts, args.steps)


if __name__ == "__main__":
    main()
