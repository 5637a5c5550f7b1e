"""Attention and masks for padded sequences: ``scaled_dot_product_attention``, ``masked_mean``.

Layout (batch first; ``...`` are any further batch axes, e.g. heads)::

    q  (N, ..., Tq, D)    queries            mask  broadcastable to (N, ..., Tq, Tk),
    k  (N, ..., Tk, D)    keys                     True where query i may attend to key j
    v  (N, ..., Tk, Dv)   values             out   (N, ..., Tq, Dv)
                                             weights (N, ..., Tq, Tk), each row sums to 1
"""
import math

import numpy as np

from ..core import Function, Tensor, as_tensor, get_array_module, get_rng
from ._util import normalize_axis

__all__ = ["scaled_dot_product_attention", "masked_mean"]


def _swap(a):
    return a.swapaxes(-1, -2)


class ScaledDotProductAttention(Function):
    """Softmax attention as ONE node: scores, mask, softmax, dropout and the weighted sum.

    forward::

        S = scale * q @ k^T                  (scale = 1/sqrt(D) unless given)
        S[~mask] = -inf
        A = softmax(S, axis=-1)              (a row with no allowed key gets A = 0)
        out = dropout(A) @ v                 (dropout: A * M / (1 - p), M ~ Bernoulli(1 - p))

    backward, with Ad = dropout(A) and gA the gradient reaching the returned weights::

        gv  = Ad^T @ gout
        gA' = (gout @ v^T) * M / (1 - p) + gA
        gS  = A * (gA' - sum(gA' * A, axis=-1))           (0 where masked)
        gq  = scale * gS @ k,   gk = scale * gS^T @ q

    inputs (q, k, v) -> outputs (out, A)
    """

    def __init__(self, mask, scale, dropout_p):
        self.mask, self.scale, self.p = mask, scale, dropout_p

    def forward(self, q, k, v):
        xp = get_array_module(q)
        S = q @ _swap(k)
        S *= q.dtype.type(self.scale)
        mask = self.mask
        if mask is not None:
            S = xp.where(mask, S, -xp.inf)
        m = S.max(axis=-1, keepdims=True)
        if mask is not None:
            m[~xp.isfinite(m)] = 0  # a fully masked row: exp(-inf) = 0 everywhere
        S -= m
        A = xp.exp(S, out=S)
        total = A.sum(axis=-1, keepdims=True)
        if mask is not None:
            total[total == 0] = 1
        A /= total
        Ad = A
        if self.p:
            keep = get_rng().random(A.shape) >= self.p
            self.drop = xp.asarray(keep * (1 / (1 - self.p))).astype(A.dtype, copy=False)
            Ad = A * self.drop
        self.saved = (q, k, v, A, Ad)
        return Ad @ v, A

    def backward(self, gout, gA):
        q, k, v, A, Ad = self.saved
        xp = get_array_module(A)
        gv = _swap(Ad) @ gout if self.needs_grad(2) else None
        gS = None
        if self.needs_grad(0) or self.needs_grad(1):
            g = gout @ _swap(v)
            if self.p:
                g *= self.drop
            g += gA
            gS = g
            gS -= (g * A).sum(axis=-1, keepdims=True)
            gS *= A
            gS *= xp.asarray(self.scale, dtype=gS.dtype)
        gq = gS @ k if self.needs_grad(0) else None
        gk = _swap(gS) @ q if self.needs_grad(1) else None
        return gq, gk, gv


def _attention_shapes(q, k, v):
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(
            "scaled_dot_product_attention: q, k and v must be (N, ..., T, D) with the same number of "
            f"axes, got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if q.shape[:-2] != k.shape[:-2] or k.shape[:-1] != v.shape[:-1] or q.shape[-1] != k.shape[-1]:
        raise ValueError(
            "scaled_dot_product_attention: expected q (N, ..., Tq, D), k (N, ..., Tk, D), "
            f"v (N, ..., Tk, Dv) with equal batch axes, got q {tuple(q.shape)}, k {tuple(k.shape)}, "
            f"v {tuple(v.shape)}"
        )


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, scale=None, return_weights=False):
    """``softmax(q @ k^T * scale, masked) @ v``: q (N, ..., Tq, D), k (N, ..., Tk, D), v (N, ..., Tk, Dv).

    ``mask``: boolean, broadcastable to (N, ..., Tq, Tk), True where attention is allowed
    (PyTorch's ``attn_mask`` of dtype bool); a query whose keys are all masked gets zero
    weights and a zero output. ``dropout_p`` drops attention weights (in training: pass 0
    otherwise). ``scale`` defaults to ``1 / sqrt(D)``; ``scale=1.0`` is the book's plain dot
    product. Returns out (N, ..., Tq, Dv), and also the weights (N, ..., Tq, Tk) (before dropout,
    differentiable) with ``return_weights=True``.
    """
    q = as_tensor(q)
    k, v = as_tensor(k, q), as_tensor(v, q)
    _attention_shapes(q, k, v)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
    xp = get_array_module(q.data)
    if mask is not None:
        mask = xp.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.dtype != bool:
            raise TypeError(
                f"scaled_dot_product_attention: mask must be boolean (True = attend), got dtype {mask.dtype}"
            )
        scores = q.shape[:-1] + (k.shape[-2],)
        try:
            ok = np.broadcast_shapes(mask.shape, scores) == scores
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"scaled_dot_product_attention: mask of shape {tuple(mask.shape)} does not broadcast to "
                f"the scores' shape {tuple(scores)}"
            )
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    out, weights = ScaledDotProductAttention(mask, scale, float(dropout_p))(q, k, v)
    return (out, weights) if return_weights else out


class MaskedMean(Function):
    """Mean of x over ``axis`` counting only the positions where ``mask`` is True.

    ``y = sum(x * w, axis)`` with ``w = mask / count`` (count = allowed positions of each
    output, at least 1); backward ``gx = gy * w`` (broadcast back over ``axis``).
    """

    def __init__(self, w, axis, keepdims):
        self.w, self.axis, self.keepdims = w, axis, keepdims

    def forward(self, x):
        return (x * self.w).sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        if not self.keepdims:
            gy = get_array_module(gy).expand_dims(gy, self.axis)
        return gy * self.w


def masked_mean(x, mask, axis=None, keepdims=False):
    """Mean of ``x`` over ``axis`` (None: all) where ``mask`` (boolean, broadcastable to x) is True.

    For padded sequences: ``masked_mean(losses (N, T), lengths_mask (N, T))`` is the mean over
    the real tokens, ``masked_mean(h (N, T, H), mask[..., None], axis=1)`` mean-pools each
    sequence over its own length. A group with no True entry has mean 0.
    """
    x = as_tensor(x)
    xp = get_array_module(x.data)
    mask = xp.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_mean: mask must be boolean, got dtype {mask.dtype}")
    try:
        full = xp.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(f"masked_mean: mask of shape {tuple(mask.shape)} does not broadcast to x of shape "
                         f"{tuple(x.shape)}") from None
    axes = normalize_axis(axis, x.ndim)
    count = xp.maximum(full.sum(axis=axes, keepdims=True), 1)
    w = full / count.astype(x.dtype)
    return MaskedMean(w.astype(x.dtype, copy=False), axes, bool(keepdims))(x)
