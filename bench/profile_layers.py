"""Where a training step goes, layer by layer: GEMM, packing, col2im, pooling, activation,
copies, Python/autograd, against the GEMM floor and PyTorch's time for the same layer.

    python -m bench.profile_layers --workload W3|KCNN|KCNN-keras [--threads 1] [--steps 10]
                                   [--data-dir DIR] [--no-torch]

It times zerodl from the outside, so it keeps working when the ops inside change (a new conv
dispatch, Winograd, fused kernels):

- every ``Function`` subclass's own ``forward`` / ``backward`` is wrapped (exclusive time: what
  nested timers below saw is subtracted), and so is ``Function.__call__`` (the graph
  bookkeeping of each op: "Python/autograd");
- GEMMs are timed where NumPy is entered: ``numpy.matmul`` / ``dot`` / ``einsum`` /
  ``tensordot`` are patched, and so is ``ndarray @ ndarray`` (the ``nb_matrix_multiply`` slot
  of ``numpy.ndarray``, swapped through ctypes while profiling; a start-up check says so
  when that does not take and ``@`` GEMMs would land in their op's remainder);
- helpers in ``zerodl.functions`` found by name are timed as "packing / transforms"
  (``im2col``, ``pad``, ``widen``, ``transform_input``, ``transform_output``,
  ``transform_grad_output``, ``weight_transform``, ``weight_grad_transform``) or "col2im"
  (``col2im*``); a helper not in the list counts in its op's remainder (the "conv other"
  column: bias, copy-outs, fills);
- every leaf module's ``forward`` (a Keras layer's ``call``) is wrapped to know which layer an
  op belongs to; a block is a convolution and the layers after it up to the next one.

GEMM floor: every GEMM the block ran, replayed alone (same shapes and layouts, fresh operands,
best of 3). PyTorch: the same block (conv + ReLU + pool) forward and backward on an input of
the same shape, ``torch.set_num_threads`` as asked; ``--no-torch`` or no torch skips it.
The profiled step is slower than a plain one (the timers cost a few microseconds per op): the
plain step's time is printed beside it.
"""
from __future__ import annotations

import argparse
import ctypes
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = ("gemm", "packing", "col2im", "pooling", "activation", "copies", "conv other", "other ops",
           "python")
TITLES = {"gemm": "GEMM", "packing": "packing / transforms", "col2im": "col2im", "pooling": "pooling",
          "activation": "activation", "copies": "copies", "conv other": "conv other",
          "other ops": "other ops", "python": "Python/autograd"}
HELPERS = {"packing": re.compile(r"^(im2col|_?pad|widen|transform_input|transform_output|"
                                 r"transform_grad_output|weight_transform|weight_grad_transform)$"),
           "col2im": re.compile(r"^col2im")}
OUTSIDE = "loss, optimizer"


def op_category(name: str) -> str:
    n = name.lower()
    if "conv" in n or "winograd" in n:
        return "conv other"
    if "pool" in n:
        return "pooling"
    if any(a in n for a in ("relu", "sigmoid", "tanh", "gelu", "elu", "activation")):
        return "activation"
    if any(a in n for a in ("transpose", "reshape", "flatten", "getitem", "concat", "stack", "broadcast",
                            "copy", "permute", "view", "squeeze", "pad")):
        return "copies"
    return "other ops"


# --- the timer ----------------------------------------------------------------------------

class Recorder:
    """Exclusive seconds per (layer, category): a region's time minus its nested regions'."""

    def __init__(self):
        self.table = defaultdict(lambda: defaultdict(float))
        self.gemms = defaultdict(list)  # layer -> [signature of each GEMM call]
        self.stack = []  # open regions' nested-time accumulators
        self.layers = []  # the layer whose modules are running (innermost last)
        self.on = False

    def layer(self):
        return self.layers[-1] if self.layers else OUTSIDE

    def timed(self, fn, category, layer=None, gemm=False):
        rec, clock = self, time.perf_counter

        def wrapper(*args, **kwargs):
            if not rec.on:
                return fn(*args, **kwargs)
            where = layer(args) if layer else rec.layer()
            if layer:  # what runs inside (GEMMs, helpers) belongs to that layer too
                rec.layers.append(where)
            rec.stack.append(0.0)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = clock() - t0
                if layer:
                    rec.layers.pop()
                nested = rec.stack.pop()
                rec.table[where][category] += dt - nested
                if rec.stack:
                    rec.stack[-1] += dt
                if gemm:
                    rec.gemms[where].append(gemm_signature(args))

        wrapper.__wrapped__ = fn
        return wrapper


def gemm_signature(args):
    sig = []
    for a in args[:2]:
        a = np.asarray(a)
        transposed = a.ndim >= 2 and a.strides[-1] != a.itemsize and a.strides[-2] == a.itemsize
        sig.append((a.shape, transposed))
    return tuple(sig), np.asarray(args[0]).dtype.str


# --- patches ------------------------------------------------------------------------------

class Patches:
    """Every patch, undone by ``undo`` (also on error)."""

    def __init__(self):
        self.undo_list = []

    def set(self, owner, name, value):
        old = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, value)
        self.undo_list.append(lambda: setattr(owner, name, old))

    def undo(self):
        while self.undo_list:
            self.undo_list.pop()()


def _function_classes(base):
    seen, todo = [], [base]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _backward_layer(rec):
    return lambda args: getattr(args[0], "_prof_layer", OUTSIDE)


def patch_functions(rec, patches):
    from zerodl.core import Function

    call = Function.__call__

    def tagged_call(self, *inputs):
        if rec.on:
            self._prof_layer = rec.layer()
        return call(self, *inputs)

    patches.set(Function, "__call__", rec.timed(tagged_call, "python"))
    for cls in _function_classes(Function):
        cat = op_category(cls.__name__)
        if "forward" in cls.__dict__:
            patches.set(cls, "forward", rec.timed(cls.__dict__["forward"], cat))
        if "backward" in cls.__dict__:
            patches.set(cls, "backward", rec.timed(cls.__dict__["backward"], cat, layer=_backward_layer(rec)))


def patch_helpers(rec, patches):
    """Name-matched helpers of zerodl.functions (module functions and methods of its classes)."""
    found = []
    for modname, module in list(sys.modules.items()):
        if not modname.startswith("zerodl.functions") or module is None:
            continue
        for name, obj in list(vars(module).items()):
            if isinstance(obj, type) and obj.__module__ == modname:
                for attr, member in list(obj.__dict__.items()):
                    _patch_helper(rec, patches, obj, attr, member, found)
            elif callable(obj) and not isinstance(obj, type):  # its own, or imported from a sibling
                _patch_helper(rec, patches, module, name, obj, found)
    return found


def _patch_helper(rec, patches, owner, name, obj, found):
    for cat, pattern in HELPERS.items():
        if not pattern.match(name):
            continue
        if isinstance(obj, staticmethod):
            patches.set(owner, name, staticmethod(rec.timed(obj.__func__, cat)))
        elif callable(obj) and not isinstance(obj, type):
            patches.set(owner, name, rec.timed(obj, cat))
        else:
            return
        found.append(f"{getattr(owner, '__name__', owner)}.{name}")
        return


def patch_gemms(rec, patches):
    """numpy's GEMM entry points, and ``ndarray @ ndarray``; returns whether ``@`` is seen."""
    for name in ("matmul", "dot", "einsum", "tensordot"):
        patches.set(np, name, rec.timed(getattr(np, name), "gemm", gemm=name in ("matmul", "dot")))
    return _patch_matmul_operator(rec, patches)


_BINARY = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
_NB_MATRIX_MULTIPLY = 34  # index of nb_matrix_multiply in CPython's PyNumberMethods
_TP_AS_NUMBER = 12  # index of tp_as_number in PyTypeObject (pointer-sized fields)


def _patch_matmul_operator(rec, patches):
    if sys.implementation.name != "cpython":
        return False
    size = ctypes.sizeof(ctypes.c_void_p)
    numbers = ctypes.c_void_p.from_address(id(np.ndarray) + _TP_AS_NUMBER * size).value
    slot = ctypes.c_void_p.from_address(numbers + _NB_MATRIX_MULTIPLY * size)
    original_ptr = slot.value
    original = _BINARY(original_ptr)
    timed = rec.timed(lambda a, b: original(a, b), "gemm", gemm=True)

    def hook(a, b):
        try:
            return timed(a, b)
        except Exception:  # noqa: BLE001 - a ctypes callback cannot raise: let Python report it
            return NotImplemented

    callback = _BINARY(hook)
    slot.value = ctypes.cast(callback, ctypes.c_void_p).value

    def restore():
        slot.value = original_ptr
        callback  # noqa: B018 - kept alive until restored
    patches.undo_list.append(restore)
    before, rec.on = rec.on, True
    n = len(rec.gemms[OUTSIDE])
    _ = np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)
    rec.on = before
    seen = len(rec.gemms[OUTSIDE]) > n
    rec.gemms[OUTSIDE][n:] = []
    rec.table.pop(OUTSIDE, None)
    return seen


def patch_modules(rec, patches, blocks):
    """Wrap each leaf module so that ops know their block; blocks: [(name, [modules])]."""
    for name, modules in blocks:
        for m in modules:
            attr = "call" if hasattr(type(m), "call") and "zerodl.keras" in type(m).__module__ else "forward"
            fn = getattr(m, attr)

            m.__dict__[attr] = rec.timed(fn, "python", layer=lambda args, _name=name: _name)
            patches.undo_list.append(lambda m=m, attr=attr: m.__dict__.pop(attr, None))


# --- the models ---------------------------------------------------------------------------

def _leaves(model):
    if hasattr(model, "_stack"):  # zerodl.keras Sequential
        return list(model._stack)
    return [m for m in model.modules() if not list(m.children())]


def conv_blocks(model):
    """[(block name, [leaf modules])]: each conv with the layers after it; the rest: 'dense head'."""
    blocks, current = [], None
    for m in _leaves(model):
        kind = type(m).__name__
        if kind.startswith("Conv"):
            current = [m]
            blocks.append((f"conv{len(blocks) + 1}", current))
        elif kind in ("Flatten", "Linear", "Dense") or current is None:
            if not blocks or blocks[-1][0] != "dense head":
                current = []
                blocks.append(("dense head", current))
            current.append(m)
        else:
            current.append(m)
    return blocks


def build(workload, data_dir, seed=0):
    """(model, channels_last, torch block specs, data) for a workload key."""
    import zerodl as zd
    import zerodl.nn as nn

    from bench.data import load_mnist
    from bench.workloads import deepconvnet, keras_cnn

    zd.manual_seed(seed)
    data = load_mnist(data_dir, seed)
    if workload == "W3":
        model = deepconvnet._layers(nn)
        specs = [[("conv", c_in, c_out, pad), ("relu",)] + ([("pool",)] if i % 2 else [])
                 for i, (c_in, c_out, pad, _) in enumerate(deepconvnet.CONV_SHAPES)]
        return model, False, specs, data
    if workload in ("KCNN", "KCNN-keras"):
        specs = [[("conv", c_in, c_out, 0), ("relu",)] + ([("pool",)] if pooled else [])
                 for (c_in, c_out, _), (_, pooled) in zip(keras_cnn.CONV_SHAPES, keras_cnn.CONVS)]
        if workload == "KCNN":
            return keras_cnn.nn_layers(nn), False, specs, data
        import zerodl.keras as keras
        return keras_cnn.keras_model(keras, softmax=False), True, specs, data
    raise SystemExit(f"profile_layers: unknown workload {workload!r} (W3, KCNN, KCNN-keras)")


# --- measuring ----------------------------------------------------------------------------

def replay_floor(signatures):
    """Seconds for these GEMMs run alone (each distinct one timed best of 3, times its count)."""
    counts = defaultdict(int)
    for s in signatures:
        counts[s] += 1
    total = 0.0
    for (operands, dtype), count in counts.items():
        arrays = []
        for shape, transposed in operands:
            if transposed:
                a = np.ones(shape[:-2] + (shape[-1], shape[-2]), dtype).swapaxes(-1, -2)
            else:
                a = np.ones(shape, dtype)
            arrays.append(a)
        out = np.matmul(*arrays)
        best = min(_clock(lambda: np.matmul(*arrays, out=out)) for _ in range(3))
        total += best * count
    return total


def _clock(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def torch_block_seconds(spec, in_shape, first, threads, repeats=7):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    layers = []
    for item in spec:
        if item[0] == "conv":
            layers.append(nn.Conv2d(item[1], item[2], 3, padding=item[3]))
        elif item[0] == "relu":
            layers.append(nn.ReLU())
        else:
            layers.append(nn.MaxPool2d(2, 2))
    block = nn.Sequential(*layers)
    x = torch.randn(*in_shape, requires_grad=not first)
    gy = torch.randn(block(x).shape)

    def step():
        block.zero_grad()
        block(x).backward(gy)

    step()
    return statistics.median(_clock(step) for _ in range(repeats))


def profile(workload, threads, steps, warmup, data_dir, use_torch):
    import zerodl as zd
    import zerodl.optim as optim

    from bench.workloads.trainers import zerodl_train_step

    zd.set_num_threads(threads)
    model, nhwc, specs, data = build(workload, data_dir)
    x_all, t_all = data.x_train, data.t_train
    batch = 100

    def batch_at(i):
        s = slice((i * batch) % (len(x_all) - batch), (i * batch) % (len(x_all) - batch) + batch)
        x = x_all[s]
        return (x.reshape(len(x), 28, 28, 1) if nhwc else x), t_all[s]

    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for i in range(warmup):
        zerodl_train_step(model, optimizer, *batch_at(i))
    plain = []
    for i in range(steps):
        t0 = time.perf_counter()
        zerodl_train_step(model, optimizer, *batch_at(i))
        plain.append(time.perf_counter() - t0)

    rec, patches = Recorder(), Patches()
    blocks = conv_blocks(model)
    shapes = {}
    try:
        at_sign = patch_gemms(rec, patches)
        patch_functions(rec, patches)
        helpers = patch_helpers(rec, patches)
        patch_modules(rec, patches, blocks)
        optimizer.__dict__["step"] = rec.timed(optimizer.step, "other ops", layer=lambda args: OUTSIDE)
        patches.undo_list.append(lambda: optimizer.__dict__.pop("step", None))
        for name, modules in blocks:  # each block's input shape, for PyTorch's run
            first = modules[0]
            attr = "call" if "call" in first.__dict__ else "forward"
            inner = first.__dict__[attr]
            first.__dict__[attr] = (lambda x, *a, _in=inner, _n=name, **k:
                                    (shapes.setdefault(_n, tuple(x.shape)), _in(x, *a, **k))[1])
        profiled = []
        for i in range(steps):
            rec.on = True
            t0 = time.perf_counter()
            zerodl_train_step(model, optimizer, *batch_at(i))
            profiled.append(time.perf_counter() - t0)
            rec.on = False
    finally:
        patches.undo()
    return {"rec": rec, "blocks": blocks, "specs": specs, "shapes": shapes, "steps": steps,
            "plain": statistics.median(plain), "profiled": sum(profiled) / steps, "at_sign": at_sign,
            "helpers": helpers, "nhwc": nhwc, "threads": threads, "use_torch": use_torch}


def report(res, workload, command):
    rec, n = res["rec"], res["steps"]
    ms = lambda s: f"{1e3 * s / n:.2f}"  # noqa: E731 - per step, in ms
    head = ["Block", "Input"] + [TITLES[c] for c in COLUMNS] + ["Total", "GEMM floor", "PyTorch (same block)"]
    lines = [f"`{command}`", "",
             f"Plain step {1e3 * res['plain']:.1f} ms (median of {n}); profiled step "
             f"{1e3 * res['profiled']:.1f} ms (mean; ms per step below are from the profiled steps). "
             f"Threads: {res['threads']}. GEMMs through `@` seen: {'yes' if res['at_sign'] else 'NO'}. "
             f"Helpers timed by name: {', '.join(sorted(set(res['helpers']))) or 'none'}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    conv_names = [name for name, _ in res["blocks"] if name.startswith("conv")]
    totals = defaultdict(float)
    for name in [b for b, _ in res["blocks"]] + [OUTSIDE]:
        cells = rec.table.get(name, {})
        total = sum(cells.values())
        for c in COLUMNS:
            totals[c] += cells.get(c, 0.0)
        floor = replay_floor(rec.gemms.get(name, []))
        torch_ms = "—"
        if res["use_torch"] and name in conv_names and name in res["shapes"]:
            i = conv_names.index(name)
            shape = res["shapes"][name]
            if res["nhwc"]:
                shape = (shape[0], shape[3], shape[1], shape[2])
            torch_ms = f"{1e3 * torch_block_seconds(res['specs'][i], shape, i == 0, res['threads']):.2f}"
        shape = "×".join(map(str, res["shapes"].get(name, ()))) or "—"
        lines.append("| " + " | ".join([name, shape] + [ms(cells.get(c, 0.0)) for c in COLUMNS]
                                       + [ms(total), ms(floor), torch_ms]) + " |")
    whole = sum(totals.values())
    lines.append("| **timed, all blocks** | | " + " | ".join(ms(totals[c]) for c in COLUMNS)
                 + f" | {ms(whole)} | | |")
    lines.append(f"| **untimed** (autograd loop, Python between ops) | | "
                 + " | ".join("" for _ in COLUMNS) + f" | {1e3 * res['profiled'] - 1e3 * whole / n:.2f} | | |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.profile_layers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="KCNN", help="W3, KCNN (zerodl.nn) or KCNN-keras (zerodl.keras)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: $ZERODL_DATA; synthetic if none)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch's per-block times")
    args = p.parse_args(argv)
    import os
    data_dir = args.data_dir or os.environ.get("ZERODL_DATA")
    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("profile_layers: torch does not import: PyTorch's column skipped", file=sys.stderr)
            use_torch = False
    res = profile(args.workload, args.threads, args.steps, args.warmup, data_dir, use_torch)
    command = "python -m bench.profile_layers " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report(res, args.workload, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
