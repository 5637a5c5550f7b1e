"""PyTorch's functional losses (``torch.nn.functional``'s names, arguments and reductions).

``reduction`` is ``"mean"`` (the default), ``"sum"`` or ``"none"`` (one loss per element /
sample). As PyTorch, the class axis of ``cross_entropy`` / ``nll_loss`` is dim 1: input (N, C)
or (N, C, d1, ...) with int targets (N,) / (N, d1, ...), or probabilities of the input's shape.
The plain mean cases run the fused ops of ``zerodl.functions``; the others are compositions of
differentiable ops, so every argument has a gradient that matches PyTorch's.
"""
import numpy as np

from .. import functions as F
from ..core import Tensor, get_array_module
from ..functions.losses import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, _class_targets

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _input(op, x):
    if not isinstance(x, Tensor):
        x = F.identity(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating scores, got dtype {x.dtype}")
    return x


def _raw(t, like):
    t = t.data if isinstance(t, Tensor) else t
    return get_array_module(like.data).asarray(t)


def _classes_last(op, x, t):
    """(scores (M, C), flat int targets (M,) or probabilities (M, C), per-sample shape, is_index)."""
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dim, got a scalar")
    is_index = t.dtype.kind in "iu"
    in_shape = tuple(x.shape)
    want = in_shape[:1] + in_shape[2:] if is_index else in_shape
    if x.ndim == 1:  # one sample (C,): target () or (C,)
        want = () if is_index else in_shape
    if tuple(t.shape) != want:
        raise ValueError(
            f"{op}: input of shape {in_shape} and target of shape {tuple(t.shape)} do not match (int class "
            f"indices of shape {in_shape[:1] + in_shape[2:]}, or probabilities of the input's shape; the "
            "classes are dim 1, as in PyTorch)"
        )
    C = in_shape[1] if x.ndim > 1 else in_shape[0]
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)  # (N, d1, ..., C)
        if not is_index:
            t = get_array_module(t).moveaxis(t, 1, -1)
    sample_shape = want if is_index else tuple(x.shape[:-1]) if x.ndim > 1 else ()
    return x.reshape(-1, C), (t.reshape(-1) if is_index else t.reshape(-1, C)), sample_shape, is_index


def _weight(weight, C, op, like):
    if weight is None:
        return None
    w = _raw(weight, like).astype(like.dtype, copy=False)
    if w.shape != (C,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({C},), got {tuple(w.shape)}")
    return w


def _reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (denominator if denominator is not None else max(loss.size, 1))


def _nll_index(op, logp, t, weight, ignore_index, reduction, smoothing, out_shape):
    """The negative log likelihood of int targets ``t`` (M,) under log-probabilities (M, C)."""
    xp = get_array_module(logp.data)
    M, C = logp.shape
    keep = t != ignore_index
    _class_targets(op, logp.data, t, ignore_index)
    safe = xp.where(keep, t, 0)
    w = keep.astype(logp.dtype) if weight is None else weight[safe] * keep
    picked = logp[xp.arange(M), safe]
    nll = -picked * w
    denom = w.sum()
    loss = _reduce(nll, reduction, denom)
    if smoothing:
        row = logp if weight is None else logp * weight
        smooth = -row.sum(axis=-1) * keep.astype(logp.dtype)
        loss = loss * (1 - smoothing) + _reduce(smooth, reduction, denom) * (smoothing / C)
    return loss.reshape(out_shape) if reduction == "none" else loss


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):  # noqa: A002
    """``torch.nn.functional.cross_entropy``: log-softmax over dim 1, then the NLL of ``target``.

    ``weight`` (C,) scales each class (the mean then divides by the weights of the targets),
    ``ignore_index`` drops those targets, ``label_smoothing`` mixes the targets with the uniform
    distribution. Targets may also be probabilities of the input's shape.
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    x = _input(op, input)
    scores, t, out_shape, is_index = _classes_last(op, x, _raw(target, x))
    C = scores.shape[1]
    w = _weight(weight, C, op, x.data)
    if is_index:
        if w is None and not label_smoothing and reduction == "mean":  # the fused op
            ignore = ignore_index if bool((t == ignore_index).any()) else None
            return F.softmax_cross_entropy(scores, t, ignore_index=ignore)
        logp = F.log_softmax(scores, axis=-1)
        return _nll_index(op, logp, t, w, ignore_index, reduction, label_smoothing, out_shape)
    t = t.astype(x.dtype, copy=False)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / C
    if w is None and reduction == "mean":
        return F.softmax_cross_entropy(scores, t)
    logp = F.log_softmax(scores, axis=-1)
    per = -(logp * (t if w is None else t * w)).sum(axis=-1)
    loss = _reduce(per, reduction, per.shape[0])
    return loss.reshape(out_shape) if reduction == "none" else loss


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """``torch.nn.functional.nll_loss``: ``-input[n, target[n]]`` (input holds log-probabilities,
    class dim 1), weighted and reduced as ``cross_entropy``."""
    op = "nll_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    logp, t, out_shape, is_index = _classes_last(op, x, _raw(target, x))
    if not is_index:
        raise TypeError(f"nll_loss: target must hold int class indices, got dtype {t.dtype}")
    return _nll_index(op, logp, t, _weight(weight, logp.shape[1], op, x.data), ignore_index, reduction, 0.0, out_shape)


def _elementwise(op, input, target, reduction):
    _check_reduction(op, reduction)
    x = _input(op, input)
    t = target if isinstance(target, Tensor) and target.requires_grad else _raw(target, x)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} and target of shape {tuple(t.shape)} do not "
                         "match (reshape one of them; no broadcasting is done)")
    return x, (t if isinstance(t, Tensor) else t.astype(x.dtype, copy=False))


def mse_loss(input, target, reduction="mean"):  # noqa: A002
    """``torch.nn.functional.mse_loss``: ``(input - target) ** 2``, reduced."""
    x, t = _elementwise("mse_loss", input, target, reduction)
    if reduction == "mean":
        return F.mean_squared_error(x, t)
    d = x - t
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """``torch.nn.functional.l1_loss``: ``|input - target|``, reduced."""
    x, t = _elementwise("l1_loss", input, target, reduction)
    if reduction == "mean":
        return F.mean_absolute_error(x, t)
    return _reduce(F.abs(x - t), reduction)


def _weighted(loss, weight, reduction, like):
    if weight is not None:
        loss = loss * _raw(weight, like).astype(like.dtype, copy=False)
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """``torch.nn.functional.binary_cross_entropy`` on probabilities (logs clamped at -100)."""
    x, t = _elementwise("binary_cross_entropy", input, target, reduction)
    t = t.data if isinstance(t, Tensor) else t
    if weight is None and reduction == "mean":
        return F.binary_cross_entropy(x, t)
    return _weighted(BinaryCrossEntropy(t, mean=False)(x), weight, reduction, x.data)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):  # noqa: A002
    """``torch.nn.functional.binary_cross_entropy_with_logits``: the stable BCE of ``sigmoid(input)``;
    ``pos_weight`` (per class, broadcast over the last dim) weighs the positive targets."""
    x, t = _elementwise("binary_cross_entropy_with_logits", input, target, reduction)
    t = t.data if isinstance(t, Tensor) else t
    pw = None if pos_weight is None else _raw(pos_weight, x)
    if weight is None and reduction == "mean" and pw is None:
        return F.binary_cross_entropy_with_logits(x, t)
    return _weighted(BinaryCrossEntropyWithLogits(t, mean=False, pos_weight=pw)(x), weight, reduction, x.data)
