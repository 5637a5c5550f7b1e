"""``summary(model, input_shape=None)``: the layer table, as Keras prints it.

One row per layer of an ``nn.Sequential`` (for other models: per child module that holds
parameters), with its name and type, output shape and parameter count, then the totals:
trainable parameters, and non-trainable ones (frozen parameters and buffers such as
BatchNorm's running statistics, which Keras counts as non-trainable too).

With ``input_shape`` (without the batch axis: ``(784,)`` or ``(1, 28, 28)``) a dry forward
pass of one zero sample runs under ``model.switch_mode()`` (eval, no graph): it materialises lazy layers and
records every row's output shape (``(None, 64)``: None stands for the batch). Without it,
shapes are ``?`` and layers whose size is still to be inferred show ``0 (unbuilt)``.
The table is printed and returned as a string.
"""
import numpy as np

from .. import nn
from ..core import Tensor

__all__ = ["summary"]


def _shape_of(out):
    if isinstance(out, Tensor) or hasattr(out, "shape"):
        shape = tuple(int(s) for s in out.shape)
        return "(" + ", ".join(["None"] + [str(s) for s in shape[1:]]) + ("," if len(shape) == 1 else "") + ")"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_of(o) for o in out) + "]"
    return "?"


def _counts(module):
    """(trainable, non-trainable, bytes) of a module's parameters and buffers (each once)."""
    trainable = frozen = nbytes = 0
    for p in module.parameters():
        if p.requires_grad:
            trainable += p.data.size
        else:
            frozen += p.data.size
        nbytes += p.data.nbytes
    for b in module.buffers():
        frozen += b.size
        nbytes += b.nbytes
    return trainable, frozen, nbytes


def _unbuilt(module):
    """A layer whose parameters are still to be created (lazy, not called yet)."""
    for m in module.modules():
        if any(p is None for p in m._parameters.values()) and not any(
            p is not None for p in m._parameters.values()
        ):
            return True
    return False


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024.0
    return f"{n:.2f} GB"  # pragma: no cover


def _dry_forward(model, input_shape, watched):
    """Run one zero sample through ``model``; ``{id(module): output shape}`` of ``watched``."""
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    x = model._dry_input((None,) + tuple(input_shape))
    shapes = {}
    patched = []
    for m in watched:
        if id(m) in shapes or "forward" in m.__dict__:
            continue
        shapes[id(m)] = "?"
        original = m.forward

        def hooked(*args, _orig=original, _key=id(m), **kwargs):
            out = _orig(*args, **kwargs)
            shapes[_key] = _shape_of(out)
            return out

        m.__dict__["forward"] = hooked
        patched.append(m)
    try:
        with model.switch_mode():
            out = model(x)
    finally:
        for m in patched:
            m.__dict__.pop("forward", None)
    return shapes, _shape_of(out)


def summary(model, input_shape=None, print_fn=print):
    """Print and return the layer table of ``model`` (see the module docstring)."""
    is_seq = isinstance(model, nn.Sequential)
    children = list(model.named_children())
    shapes, out_shape = {}, None
    if input_shape is not None:
        shapes, out_shape = _dry_forward(model, input_shape, [m for _, m in children])

    rows = []
    counters = {}
    any_unbuilt = False
    for name, m in children:
        tr, fr, _ = _counts(m)
        unbuilt = tr + fr == 0 and _unbuilt(m)
        if not is_seq and tr + fr == 0 and not unbuilt:
            continue  # other models: children that hold parameters only
        tname = type(m).__name__
        if is_seq:
            base = getattr(m, "name", None) if isinstance(getattr(m, "name", None), str) else tname.lower()
            k = counters.get(base, 0)
            counters[base] = k + 1
            label = base if k == 0 else f"{base}_{k}"
        else:
            label = name
        any_unbuilt |= unbuilt
        count = "0 (unbuilt)" if unbuilt else f"{tr + fr:,}"
        rows.append((f"{label} ({tname})", shapes.get(id(m), "?"), count))

    tr, fr, nbytes = _counts(model)
    itemsize = nbytes / (tr + fr) if tr + fr else 4
    head = ("Layer (type)", "Output Shape", "Param #")
    w0 = max([28] + [len(r[0]) for r in rows]) + 2
    w1 = max([22] + [len(r[1]) for r in rows]) + 2
    w2 = max([12] + [len(r[2]) for r in rows])
    width = w0 + w1 + w2
    lines = [f'Model: "{type(model).__name__}"', "_" * width,
             f"{head[0]:<{w0}}{head[1]:<{w1}}{head[2]:>{w2}}", "=" * width]
    for a, b, c in rows:
        lines.append(f"{a:<{w0}}{b:<{w1}}{c:>{w2}}")
    if not rows:
        lines.append("(no layers)")
    lines.append("=" * width)
    if out_shape is not None and not is_seq:
        lines.append(f"Output shape: {out_shape}")
    lines.append(f"Total params: {tr + fr:,} ({_human_bytes(nbytes)})")
    lines.append(f"Trainable params: {tr:,} ({_human_bytes(int(tr * itemsize))})")
    lines.append(f"Non-trainable params: {fr:,} ({_human_bytes(int(fr * itemsize))})")
    if any_unbuilt:
        lines.append("Some layers are not built yet (sizes inferred at the first call): "
                     "pass input_shape= to summary, or call the model once.")
    lines.append("_" * width)
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
