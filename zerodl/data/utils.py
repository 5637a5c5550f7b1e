"""Array helpers: ``train_test_split``, ``to_categorical``, ``make_windows``."""

from __future__ import annotations

import math

import numpy as np

from ._rng import make_rng
from .dataset import _as_array

__all__ = ["train_test_split", "to_categorical", "make_windows"]


def train_test_split(*arrays, test_size=0.25, shuffle=True, seed=None):
    """Split arrays that share their first dimension into train and test parts.

    Parameters
    ----------
    *arrays : array_like
        One or more arrays of shape ``(N, ...)`` with the same ``N``.
    test_size : float or int
        A float in (0, 1) is the fraction of samples in the test part
        (rounded up, as scikit-learn does); an int is the number of test samples.
    shuffle : bool
        Shuffle before splitting. Without shuffling, the test part is the last
        ``n_test`` samples.
    seed : int, numpy.random.Generator or None
        Seed of the shuffle (None: from NumPy's global RNG).

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]`` (scikit-learn's order);
        ``a_train`` has shape ``(N - n_test, ...)`` and ``a_test`` ``(n_test, ...)``.
    """
    if not arrays:
        raise ValueError("train_test_split: needs at least one array")
    arrs = [_as_array(a) for a in arrays]
    for k, a in enumerate(arrs):
        if a.ndim == 0:
            raise ValueError(f"train_test_split: array {k} is a scalar (shape ()); arrays need a first dimension")
    lengths = {a.shape[0] for a in arrs}
    if len(lengths) != 1:
        shapes = ", ".join(str(a.shape) for a in arrs)
        raise ValueError(
            f"train_test_split: all arrays must have the same first dimension; got shapes {shapes}"
        )
    n = lengths.pop()
    if isinstance(test_size, (bool, np.bool_)):
        raise TypeError("train_test_split: test_size must be a float fraction or an int count, got a bool")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
        if not 0 < n_test < n:
            raise ValueError(
                f"train_test_split: test_size={n_test} samples must be between 1 and {n - 1} "
                f"for {n} samples"
            )
    elif isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a float test_size must be in (0, 1), got {test_size}")
        n_test = math.ceil(float(test_size) * n)
        if not 0 < n_test < n:
            raise ValueError(
                f"train_test_split: test_size={test_size} of {n} samples leaves "
                f"{n_test} test and {n - n_test} train samples; both must be at least 1"
            )
    else:
        raise TypeError(
            f"train_test_split: test_size must be a float fraction or an int count, got {type(test_size).__name__}"
        )
    if shuffle:
        perm = make_rng(seed, "train_test_split").permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
        parts = [(a[train_idx], a[test_idx]) for a in arrs]
    else:
        parts = [(a[: n - n_test], a[n - n_test :]) for a in arrs]
    out = []
    for tr, te in parts:
        out.extend((tr, te))
    return out


def to_categorical(y, num_classes=None) -> np.ndarray:
    """One-hot encode integer class labels.

    Parameters
    ----------
    y : array_like of int
        Labels of shape ``(N,)`` (or ``(N, 1)``, or any shape ``S``), values in
        ``[0, num_classes)``. Floats are accepted if integral.
    num_classes : int or None
        Number of classes ``C``; by default ``max(y) + 1``.

    Returns
    -------
    numpy.ndarray
        float32 of shape ``(N, C)`` (in general ``S + (C,)``, with a trailing
        dimension of size 1 dropped first, as Keras does).
    """
    y = _as_array(y)
    if y.dtype.kind == "b" or y.dtype.kind not in "iuf":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {y.dtype} (shape {y.shape})")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"to_categorical: labels must be whole numbers, got non-integral floats (shape {y.shape})")
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1).astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative, got min {y.min()} (shape {shape})")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    else:
        if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"to_categorical: num_classes must be a positive int, got {num_classes!r}")
        num_classes = int(num_classes)
        if y.size and y.max() >= num_classes:
            raise ValueError(
                f"to_categorical: label {int(y.max())} is out of range for num_classes={num_classes} "
                f"(labels must be in [0, {num_classes - 1}]; shape {shape})"
            )
    out = np.zeros((y.size, num_classes), dtype=np.float32)
    out[np.arange(y.size), y] = 1.0
    return out.reshape(shape + (num_classes,))


def make_windows(series, history, horizon=1):
    """Cut a time series into (input window, target window) pairs for forecasting.

    Sample ``i`` uses steps ``i .. i+history-1`` as input and the next
    ``horizon`` steps ``i+history .. i+history+horizon-1`` as target.

    Parameters
    ----------
    series : array_like
        Shape ``(T,)`` (one feature) or ``(T, F)``.
    history : int
        Input window length ``H >= 1``.
    horizon : int
        Target window length ``K >= 1``.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(N, H, F)`` with ``N = T - H - K + 1`` (``F = 1`` for a 1-D series).
    y : numpy.ndarray
        Shape ``(N, K)`` for a 1-D series, ``(N, K, F)`` for a 2-D one.

    Both keep the series' dtype and are fresh (writable, contiguous) arrays.
    """
    s = _as_array(series)
    if s.ndim not in (1, 2):
        raise ValueError(f"make_windows: series must have shape (T,) or (T, F), got shape {s.shape}")
    for name, v in (("history", history), ("horizon", horizon)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"make_windows: {name} must be a positive int, got {v!r}")
    history, horizon = int(history), int(horizon)
    T = s.shape[0]
    n = T - history - horizon + 1
    if n < 1:
        raise ValueError(
            f"make_windows: series of shape {s.shape} is too short for history={history} and "
            f"horizon={horizon}: it needs at least history + horizon = {history + horizon} time steps"
        )
    one_d = s.ndim == 1
    s2 = s[:, None] if one_d else s
    # windows[i] = s2[i : i + history + horizon], shape (n, F, history + horizon) from the view
    win = np.lib.stride_tricks.sliding_window_view(s2, history + horizon, axis=0)
    win = np.moveaxis(win, -1, 1)  # (n, history + horizon, F)
    X = np.ascontiguousarray(win[:, :history])
    y = np.ascontiguousarray(win[:, history:])
    if one_d:
        y = y[:, :, 0].copy()
    return X, y
