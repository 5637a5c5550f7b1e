"""Numerical gradients (central differences) and gradient checks of backward against them.

Checks are meant for float64 (``zd.tensor(x, dtype=np.float64)``, or build a layer inside
``with zd.default_dtype(np.float64):``); float32 works with a larger ``eps`` and tolerances.

A function ``f`` whose output is not a scalar is reduced to one with a fixed random
projection ``L = sum(f(...) * R)``, R drawn from a generator with a fixed seed (so every
call of ``f`` is reduced with the same R): the gradient of L checks every entry of the
Jacobian at once, weighted by R, where ``f(...).sum()`` would miss errors that cancel.
"""
from dataclasses import dataclass, field

import numpy as np

from ..core import Tensor, as_numpy, get_array_module, no_grad

__all__ = ["numerical_grad", "gradient_check", "GradCheckResult"]

_PROJECTION_SEED = 20240610


def _projection(shape, dtype):
    """The fixed random weights R that reduce a non-scalar output: ``L = sum(y * R)``."""
    return np.random.default_rng(_PROJECTION_SEED).standard_normal(shape).astype(dtype)


def _as_input(x):
    """Inputs as Tensors: arrays keep their dtype; floating arrays become checked leaves."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x) if not hasattr(x, "dtype") else x
    return Tensor(arr, dtype=arr.dtype, requires_grad=arr.dtype.kind == "f")


def _scalar(y):
    """f's output as a float64 number (projected when it is not a scalar)."""
    data = as_numpy(y.data if isinstance(y, Tensor) else y)
    if data.size == 1:
        return float(data.reshape(()))
    return float(np.sum(data.astype(np.float64) * _projection(data.shape, np.float64)))


def _default_eps(dtype):
    return 1e-6 if np.dtype(dtype).itemsize >= 8 else 1e-3


def _numerical_one(f, args, t, eps):
    """Central differences of ``L(f(*args))`` with respect to the tensor ``t``, entry by entry."""
    xp = get_array_module(t.data)
    original = t.data
    work = xp.array(original, copy=True)  # contiguous, writable; ``original`` is never touched
    flat = work.reshape(-1)
    grad = np.zeros(work.size, dtype=np.float64)
    t.data = work
    try:
        with no_grad():
            for i in range(flat.size):
                v = flat[i].item()
                flat[i] = v + eps
                hi = float(flat[i])
                fp = _scalar(f(*args))
                flat[i] = v - eps
                lo = float(flat[i])
                fm = _scalar(f(*args))
                flat[i] = v
                grad[i] = (fp - fm) / (hi - lo)  # the actual step, after rounding to the dtype
    finally:
        t.data = original
    return grad.reshape(original.shape)


def numerical_grad(f, *inputs, eps=None, params=()):
    """Central-difference gradients of ``f(*inputs)``: a list of float64 ndarrays, one per input.

    ``f`` takes the inputs (Tensors, or arrays which are wrapped keeping their dtype) and
    returns a Tensor; a non-scalar output is reduced with a fixed random projection (see the
    module's notes). ``eps`` defaults to 1e-6 for float64 inputs and 1e-3 for float32.
    Non-floating inputs (class indices, ids) get ``None``. ``params``: more tensors (for
    example ``model.parameters()``) used inside ``f``; their gradients follow the inputs'.
    """
    args = [_as_input(x) for x in inputs]
    grads = []
    for t in list(args) + list(params):
        if t.data.dtype.kind != "f":
            grads.append(None)
            continue
        grads.append(_numerical_one(f, args, t, _default_eps(t.data.dtype) if eps is None else eps))
    return grads


@dataclass
class GradCheckResult:
    """What ``gradient_check`` found.

    ``ok``: every checked gradient matches, ``|analytic - numeric| <= atol + rtol * |numeric|``
    element-wise. ``max_abs_error`` / ``max_rel_error``: the largest errors over all checked
    tensors (relative error ``|a - n| / max(|a|, |n|)``, 0 where both are 0). ``errors``: one
    ``(max_abs, max_rel)`` pair per checked tensor (inputs then params), ``None`` for one
    not checked. ``analytic`` / ``numeric``: the gradients compared.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    errors: list = field(default_factory=list)
    analytic: list = field(default_factory=list, repr=False)
    numeric: list = field(default_factory=list, repr=False)

    def __bool__(self):
        return self.ok


def gradient_check(f, *inputs, atol=1e-6, rtol=1e-4, eps=None, params=()):
    """Compare the gradients from ``backward`` with central differences.

    ``f(*inputs) -> Tensor``. Inputs may be Tensors or arrays: floating arrays become leaves
    that require grad; an input Tensor with ``requires_grad=False`` (and any integer input)
    is a constant and is not checked. ``params``: more tensors used inside ``f`` whose
    gradients are checked too (for a layer: ``params=list(layer.parameters())``).
    Returns a :class:`GradCheckResult` (truthy when the check passed).

    ``f`` is called many times and must be deterministic (re-seed inside it for dropout).
    """
    args = [_as_input(x) for x in inputs]
    checked = list(args) + list(params)
    saved = [t.grad for t in checked]
    for t in checked:
        t.grad = None
    y = f(*args)
    if not isinstance(y, Tensor):
        raise TypeError(f"gradient_check: f must return a Tensor, got {type(y).__name__}")
    if not y.requires_grad:
        raise RuntimeError("gradient_check: f's output does not depend on any input that requires grad")
    data = as_numpy(y.data)
    if data.size == 1:
        y.backward()
    else:
        y.backward(_projection(data.shape, data.dtype))
    analytic = []
    for t in checked:
        if not t.requires_grad:
            analytic.append(None)
        else:
            g = t.grad
            analytic.append(np.zeros(t.shape) if g is None else as_numpy(g).astype(np.float64))
    for t, g in zip(checked, saved):
        t.grad = g

    numeric = []
    for t, a in zip(checked, analytic):
        if a is None:
            numeric.append(None)
            continue
        step = _default_eps(t.data.dtype) if eps is None else eps
        numeric.append(_numerical_one(f, args, t, step))

    ok, max_abs, max_rel, errors = True, 0.0, 0.0, []
    for a, n in zip(analytic, numeric):
        if a is None:
            errors.append(None)
            continue
        diff = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        e_abs = float(diff.max()) if diff.size else 0.0
        e_rel = float(rel.max()) if rel.size else 0.0
        errors.append((e_abs, e_rel))
        max_abs, max_rel = max(max_abs, e_abs), max(max_rel, e_rel)
        ok = ok and bool(np.all(diff <= atol + rtol * np.abs(n)))
    return GradCheckResult(ok, max_abs, max_rel, errors, analytic, numeric)
