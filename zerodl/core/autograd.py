"""The backward pass: reverse topological order over the recorded ``Function`` nodes.

Iterative (no recursion, so a 20,000-op chain is fine). Gradients are raw arrays, never
graph nodes, which keeps the hot path to the arrays' own arithmetic. This module knows
arrays only: it reads the graph through the tensors' ``data`` / ``grad`` / ``creator`` /
``requires_grad`` attributes and never imports ``tensor.py`` (``Tensor.backward`` unwraps a
Tensor ``grad`` before calling :func:`backward`).
"""
from .backend import get_array_module


def _topological_order(root):
    """Functions reachable from ``root`` (a Function), producers before consumers."""
    order = []
    seen = {id(root)}
    stack = [(root, iter(root.inputs))]
    while stack:
        f, pending = stack[-1]
        for x in pending:
            c = x.creator
            if c is not None and id(c) not in seen:
                if c.inputs is None:
                    raise RuntimeError(
                        "backward: trying to go through the graph a second time (its buffers "
                        "were freed); pass retain_graph=True to the first backward() call"
                    )
                seen.add(id(c))
                stack.append((c, iter(c.inputs)))
                break
        else:
            stack.pop()
            order.append(f)
    return order


def _accumulate_leaf(t, g, owned):
    """Store ``g`` into ``t.grad`` (or add it). ``owned``: ids of arrays already given out as grads.

    A leaf's ``.grad`` must be its own writable array (optimizers and clipping update it in
    place), so a view (such as a read-only broadcast view from ``sum``'s backward) or an
    array already handed to another leaf (``Add`` passes one gradient to both inputs) is
    copied first. Fresh results of the ops (the common case) are stored as they are.
    """
    data = t.data
    if g.shape != data.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} for a tensor of shape {data.shape}")
    if t.grad is not None:
        # Never add in place: the old ``.grad`` may be held elsewhere by the user.
        g = t.grad + g
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
    elif g.dtype != data.dtype:
        g = g.astype(data.dtype)
    elif g.base is not None or id(g) in owned:  # a view (broadcast views are read-only) or shared
        g = g.copy()
    if not g.ndim:  # ops on 0-d arrays give NumPy scalars; .grad is always an array
        g = get_array_module(data).asarray(g)
    owned.add(id(g))
    t.grad = g


def backward(t, grad=None, retain_graph=False):
    if not t.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under zd.no_grad())"
        )
    xp = get_array_module(t.data)
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"backward: output of shape {t.data.shape} is not a scalar; pass grad= an array "
                "of that shape, or reduce it first (for example loss.sum() or loss.mean())"
            )
        grad = xp.ones_like(t.data)
    else:
        grad = xp.asarray(grad, dtype=t.data.dtype)
        if grad.shape != t.data.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has shape {t.data.shape}")

    # ids of arrays given to leaves as ``.grad`` (the caller's ``grad`` counts: never alias it)
    owned = {id(grad)}
    f = t.creator
    if f is None:
        _accumulate_leaf(t, grad, owned)
        return
    if f.inputs is None:
        raise RuntimeError(
            "backward: trying to go through the graph a second time (its buffers were freed); "
            "pass retain_graph=True to the first backward() call"
        )

    # id(tensor) -> [tensor, grad]; holding the tensor keeps its id unique while in use.
    grads = {id(t): [t, grad]}
    for f in reversed(_topological_order(f)):
        outputs = f.outputs
        if len(outputs) == 1:  # the common case, inlined: this loop runs for every op
            o = outputs[0]()
            entry = grads.pop(id(o), None) if o is not None else None
            if entry is None:
                gxs = ()
            else:
                if o.retains_grad:
                    o.grad = entry[1] if o.grad is None else o.grad + entry[1]
                gxs = f.backward(entry[1])
                if type(gxs) is not tuple:
                    gxs = (gxs,)
        else:
            gxs = _backward_multi(f, grads)
        for x, gx in zip(f.inputs, gxs):
            if gx is None or not x.requires_grad:
                continue
            if x.creator is None:
                _accumulate_leaf(x, gx, owned)
                continue
            entry = grads.get(id(x))
            if entry is None:
                grads[id(x)] = [x, gx]
            else:
                entry[1] = entry[1] + gx
        if not retain_graph:
            f.release()


def _take_grad(ref, grads):
    """Pop the gradient that reached output ``ref()``; keep it on the tensor if asked to."""
    o = ref()
    entry = grads.pop(id(o), None) if o is not None else None
    if entry is None:
        return None
    if o.retains_grad:
        o.grad = entry[1] if o.grad is None else o.grad + entry[1]
    return entry[1]


def _backward_multi(f, grads):
    """Run ``f.backward`` for an op with several outputs; a tuple with one entry per input."""
    gys = [_take_grad(ref, grads) for ref in f.outputs]
    if all(g is None for g in gys):
        return ()
    gxs = f.backward(*f._fill_missing(gys))
    return gxs if type(gxs) is tuple else (gxs,)
