"""``model.summary()``: the table Keras 3 prints (box-drawing rules, ``name (Type)``, output
shapes with None for the batch, parameter counts with thousands separators, a ``Connected
to`` column for functional models that are not a plain chain, and the totals with their size
in bytes as float32)."""
import numpy as np

from ..layers.core import InputLayer

__all__ = ["print_summary", "summary_text"]

_WIDE = (31, 22, 13)  # column contents of the 3-column table, as Keras at its default width
_CONNECTED = (19, 17, 10, 17)


def _bytes(n):
    b = float(n * 4)
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.2f} {unit}"
        b /= 1024


def _shape(s):
    if s is None:
        return "?"
    if isinstance(s, list):
        return "[" + ", ".join(_shape(x) for x in s) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def _wrap(text, width):
    """Greedy wrap on spaces (Keras/rich break ``concatenate (Concatenate)`` the same way)."""
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    lines.append(cur)
    return lines


def _params(layer):
    try:
        return f"{layer.count_params():,}"
    except ValueError:
        return "0 (unbuilt)"


def _rows(model):
    connected = hasattr(model, "_nodes") and not _is_chain(model)
    rows = []
    if hasattr(model, "_nodes"):
        names = {}
        for node in model._nodes:
            layer = node.layer
            if isinstance(layer, InputLayer) and not connected and len(model._inputs) == 1:
                rows.append((f"{layer.name} ({type(layer).__name__})", _shape(layer.shape), "0", "-"))
                continue
            ins = []
            for t in node.inputs:
                ins.append(f"{t.node.layer.name}[{names.get(id(t.node), 0)}][{t.index}]")
            names[id(node)] = 0
            shape = [o.shape for o in node.outputs]
            rows.append((f"{layer.name} ({_type(layer)})", _shape(shape[0] if len(shape) == 1 else shape),
                         _params(layer) if not isinstance(layer, InputLayer) else "0", ", ".join(ins) or "-"))
    else:
        for layer in model.layers:
            rows.append((f"{layer.name} ({_type(layer)})", _shape(layer.output_shape), _params(layer), ""))
    return rows, connected


def _type(layer):
    return getattr(layer, "keras_class", None) or type(layer).__name__


def _is_chain(model):
    if len(model._inputs) != 1 or len(model._outputs) != 1:
        return False
    return all(len(n.inputs) <= 1 and not n.nested for n in model._nodes)


def summary_text(model):
    rows, connected = _rows(model)
    widths = _CONNECTED if connected else _WIDE
    heads = ("Layer (type)", "Output Shape", "Param #", "Connected to")[:len(widths)]
    right = {2}

    def rule(left, mid, end, ch):
        return left + mid.join(ch * (w + 2) for w in widths) + end

    def line(cells, bar):
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for k in range(height):
            parts = []
            for i, (col, w) in enumerate(zip(wrapped, widths)):
                text = col[k] if k < len(col) else ""
                parts.append(" " + (text.rjust(w) if i in right else text.ljust(w)) + " ")
            out.append(bar + bar.join(parts) + bar)
        return out

    out = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━")]
    out += line(heads, "┃")
    out.append(rule("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        if i:
            out.append(rule("├", "┼", "┤", "─"))
        out += line(r[:len(widths)], "│")
    out.append(rule("└", "┴", "┘", "─"))
    total = trainable = 0
    for layer in model._all_layers():
        if not layer.built:
            continue
        total += sum(int(np.prod(np.shape(w))) for w in layer.weights)
        trainable += sum(int(np.prod(np.shape(w))) for w in layer.trainable_weights) if model.trainable else 0
    out.append(f" Total params: {total:,} ({_bytes(total)})")
    out.append(f" Trainable params: {trainable:,} ({_bytes(trainable)})")
    out.append(f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable)})")
    return "\n".join(out)


def print_summary(model, print_fn=print):
    print_fn(summary_text(model))
