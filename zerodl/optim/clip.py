"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (PyTorch's semantics).

The gradients are scaled by rebinding ``p.grad`` to the scaled array rather than by writing into
the old one: autograd may hand the SAME array to two leaves (``a + b`` gives both ``a`` and
``b`` the output's gradient) or a read-only broadcast view, and scaling such an array in place
would scale a shared gradient twice or fail. Seen from ``p.grad`` the effect is PyTorch's.
"""
import math

from ..core.backend import get_array_module
from ..core.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if getattr(p, "grad", None) is not None]


def clip_grad_norm_(params, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients so that their total norm is at most ``max_norm``; return the total
    norm (a float) measured BEFORE clipping.

    The total norm is the ``norm_type``-norm of all gradients taken together as one vector
    (``float('inf')`` for the max-abs norm). When it exceeds ``max_norm`` every gradient is
    multiplied by ``max_norm / (total_norm + 1e-6)``, as PyTorch does.
    """
    params = _grads(params)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not params:
        return 0.0
    if norm_type == math.inf:
        total = max(float(abs(p.grad).max()) if p.grad.size else 0.0 for p in params)
    elif norm_type == 2.0:
        s = 0.0
        for p in params:
            g = p.grad.ravel()
            s += float(g @ g)
        total = math.sqrt(s)
    else:
        s = 0.0
        for p in params:
            xp = get_array_module(p.grad)
            s += float(xp.sum(xp.abs(p.grad) ** norm_type))
        total = s ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, so "
            "they cannot be clipped; pass error_if_nonfinite=False to scale them anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad = p.grad * p.grad.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into ``[-clip_value, clip_value]``."""
    c = float(clip_value)
    for p in _grads(parameters):
        p.grad = get_array_module(p.grad).clip(p.grad, -c, c)
