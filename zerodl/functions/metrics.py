"""Metrics: plain numbers computed from arrays (not differentiable)."""
from ..core import Tensor, as_numpy

__all__ = ["accuracy"]


def accuracy(y, t):
    """Fraction of correct predictions, a Python float in [0, 1].

    ``y``: scores (N, C) with C > 1 (the prediction is the argmax over the last axis), or
    labels (N,). Floating ``y`` without a class axis (or with C == 1) whose values all lie in
    [0, 1] is read as probabilities of the positive class and thresholded at 0.5.
    ``t``: int labels (N,) or one-hot (N, C). Scores of more dimensions, (N, T, C) with
    t (N, T), count every position.
    """
    y = as_numpy(y.data if isinstance(y, Tensor) else y)
    t = as_numpy(t.data if isinstance(t, Tensor) else t)
    if y.ndim >= 2 and y.shape[-1] > 1 and t.shape == y.shape:  # one-hot targets
        y, t = y.argmax(axis=-1), t.argmax(axis=-1)
    elif y.ndim == t.ndim + 1 and y.shape[-1] > 1:
        y = y.argmax(axis=-1)
    else:
        if y.ndim == t.ndim + 1 and y.shape[-1] == 1:  # (N, 1) against (N,)
            y = y[..., 0]
        elif t.ndim == y.ndim + 1 and t.shape[-1] == 1:
            t = t[..., 0]
        if y.dtype.kind == "f" and y.size and 0 <= y.min() and y.max() <= 1:
            y = y > 0.5
    if y.shape != t.shape:
        raise ValueError(
            f"accuracy: predictions of shape {tuple(y.shape)} and targets of shape {tuple(t.shape)} "
            "do not match (expected scores (N, C) or labels (N,), and targets (N,) or one-hot (N, C))"
        )
    if y.size == 0:
        raise ValueError("accuracy: empty batch")
    return float((y == t).mean())
