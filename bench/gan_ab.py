"""The DCGAN step (bench/workloads/dcgan.py, key GAN) of several zerodl versions and PyTorch,
side by side in one process: CPU milliseconds per step, medians, as ratios.

    python -m bench.gan_ab [--revs REV ...] [--numpy-too] [--layers] [--reps 14] [--steps 10] [--data-dir DIR]

Each REV (a git commit of this repository, ``WORKTREE`` for the files as they are) is exported
to a temporary folder and imported as ``zerodl`` in turn, its models built and warmed up; the
rounds then run every version and PyTorch once each, in a shuffled order, so a machine shared
with other jobs disturbs all of them alike (CPU time, not wall time, for the same reason).
``--numpy-too`` adds, for every REV, the same tree with its Numba kernels switched off (what
``ZERODL_NUMBA=0`` does, per tree). ``--layers`` times the step's four stride-2 convolutions instead (the workload's widths),
each forward + backward at batch 64 as the step runs them. One BLAS thread; unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
in the command, as for every benchmark here.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before any BLAS library is loaded

import argparse  # noqa: E402
import importlib  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.workloads import dcgan  # noqa: E402
from bench.workloads.base import Options  # noqa: E402


def _export(rev: str, dest: Path) -> Path:
    """zerodl/ and examples/ of ``rev`` under dest (the worktree's files for WORKTREE)."""
    dest.mkdir(parents=True)
    if rev == "WORKTREE":
        for part in ("zerodl", "examples"):
            subprocess.run(["cp", "-r", str(ROOT / part), str(dest)], check=True)
        subprocess.run(["find", str(dest), "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"], check=True)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "zerodl", "examples"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _numpy_only(tree: Path) -> None:
    """Switch a tree's Numba kernels off (its loader then always answers None)."""
    util = tree / "zerodl" / "functions" / "_util.py"
    if util.exists():
        text = util.read_text()
        util.write_text(text.replace('os.environ.get("ZERODL_NUMBA", "1") != "0"', "False"))


def _build(tree: Path, data, opts, layers):
    """Import ``tree``'s zerodl (and its examples/dcgan.py); its GAN step runner, or with
    ``layers`` its runners of the step's convolutions."""
    for name in [m for m in sys.modules if m == "zerodl" or m.startswith("zerodl.") or m in ("dcgan", "_common")]:
        del sys.modules[name]
    sys.path[:0] = [str(tree), str(tree / "examples")]
    saved = dcgan.EXAMPLES
    try:
        dcgan.EXAMPLES = tree / "examples"
        runs = _layer_runs(importlib.import_module("zerodl"), False) if layers else [dcgan.build("zerodl", data, opts)]
        for run in runs:
            run(3)  # warm-up (and the kernels' compilation)
    finally:
        dcgan.EXAMPLES = saved
        del sys.path[:2]
    return runs


# The step's stride-2 convolutions at the workload's widths: name, input shape, weight shape,
# transposed, input needs a gradient
_G, _D = dcgan.G_WIDTH, dcgan.D_WIDTH
LAYERS = [(f"D1 Conv2d(1, {_D}), x without grad", (64, 1, 28, 28), (_D, 1, 4, 4), False, False),
          (f"D2 Conv2d({_D}, {2 * _D})", (64, _D, 14, 14), (2 * _D, _D, 4, 4), False, True),
          (f"G1 ConvTranspose2d({_G}, {_G // 2})", (64, _G, 7, 7), (_G, _G // 2, 4, 4), True, True),
          (f"G2 ConvTranspose2d({_G // 2}, 1)", (64, _G // 2, 14, 14), (_G // 2, 1, 4, 4), True, True)]


def _layer_runs(zd_or_torch, is_torch):
    """One runner per layer (forward, then backward of ones), in zerodl or PyTorch."""
    rng = np.random.default_rng(0)
    runs = []
    for _, xs, ws, transposed, x_grad in LAYERS:
        x = rng.standard_normal(xs).astype(np.float32)
        W = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = np.zeros(ws[1] if transposed else ws[0], np.float32)
        if is_torch:
            F = zd_or_torch.nn.functional
            op, make, ones = (F.conv_transpose2d if transposed else F.conv2d), zd_or_torch.tensor, zd_or_torch.ones
        else:
            F = zd_or_torch.functions
            op, make, ones = (F.conv_transpose2d if transposed else F.conv2d), zd_or_torch.tensor, np.ones

        def run(n, x=x, W=W, b=b, op=op, make=make, ones=ones, x_grad=x_grad):
            for _ in range(n):
                y = op(make(x, requires_grad=x_grad), make(W, requires_grad=True), make(b, requires_grad=True),
                       stride=2, padding=1)
                y.backward(ones(tuple(y.shape), dtype=np.float32) if ones is np.ones else ones(y.shape))
        runs.append(run)
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--revs", nargs="+", default=["main", "WORKTREE"])
    ap.add_argument("--numpy-too", action="store_true")
    ap.add_argument("--layers", action="store_true")
    ap.add_argument("--reps", type=int, default=14)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    args = ap.parse_args(argv)
    opts = Options(data_dir=args.data_dir)
    data = dcgan.GAN.load(opts)
    names, runs = [], []  # runs[k]: one runner per measured thing (the step, or each layer)
    with tempfile.TemporaryDirectory(prefix="zerodl-gan-ab-") as tmp:
        for i, rev in enumerate(args.revs):
            variants = [(rev, False)] + ([(rev + " (NumPy only)", True)] if args.numpy_too else [])
            for k, (name, numpy_only) in enumerate(variants):
                tree = _export(rev, Path(tmp) / f"{i}_{k}")
                if numpy_only:
                    _numpy_only(tree)
                names.append(name)
                runs.append(_build(tree, data, opts, args.layers))
        torch = importlib.import_module("torch")
        torch.set_num_threads(1)
        names.append("PyTorch")
        runs.append(_layer_runs(torch, True) if args.layers else [dcgan.build("torch", data, opts)])
        for run in runs[-1]:
            run(3)
        times = [[[] for _ in r] for r in runs]
        rnd = random.Random(0)
        for _ in range(args.reps):
            order = list(range(len(runs)))
            rnd.shuffle(order)
            for k in order:
                for j, run in enumerate(runs[k]):
                    t = time.process_time()
                    run(args.steps)
                    times[k][j].append((time.process_time() - t) / args.steps * 1e3)
    med = [[statistics.median(t) for t in per] for per in times]
    what = [name for name, *_ in LAYERS] if args.layers else ["GAN step"]
    print(f"{args.reps} rounds of {args.steps}, CPU ms per call (median), load average {os.getloadavg()}")
    for j, thing in enumerate(what):
        print(f"\n{thing}\n| zerodl version | CPU ms | × first | × PyTorch |\n|---|---|---|---|")
        for name, m in zip(names, med):
            print(f"| {name} | {m[j]:.2f} | {m[j] / med[0][j]:.3f} | {m[j] / med[-1][j]:.3f} |")


if __name__ == "__main__":
    main()
