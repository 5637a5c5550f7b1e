"""Data preparation for ``fit`` / ``evaluate`` / ``predict``: arrays, Datasets and DataLoaders
turned into converted ``(x, y)`` batches (see the "Data" entry of ``zerodl.train.api``'s docstring).

- :func:`fit_data`: the training loader, a per-batch converter, the probe inputs for the dry
  forward, and the validation source (``validation_data`` or ``validation_split``).
- :func:`eval_source`: a zero-argument callable giving the converted batches of ``(x, y)``.
- :func:`convert_x` / :func:`convert_y`: one array to the model's input / target dtype
  (:func:`float_dtype`, :func:`takes_ids`), moved to the model's device (:func:`device_xp`).
"""
import math

import numpy as np

from .. import data
from ..core import Tensor, get_default_dtype, get_rng
from ..core.backend import get_array_module, is_array
from ..data.dataset import collate
from .guards import check_finite

__all__ = ["fit_data", "eval_source", "convert_x", "convert_y", "float_dtype", "takes_ids", "device_xp"]


def _is_arraylike(x):
    return is_array(x) or isinstance(x, (Tensor, list))


def _first_leaf(model):
    m = model
    for _ in range(100):
        kids = list(m.children()) if hasattr(m, "children") else []
        if not kids:
            return m
        m = kids[0]
    return m


def takes_ids(model):
    """Whether the model's first layer takes integer ids (an Embedding)."""
    try:
        dt = model._input_dtype()
    except Exception:  # noqa: BLE001 - a model without the hook
        dt = None
    if dt is not None:
        return np.dtype(dt).kind in "iu"
    return type(_first_leaf(model)).__name__ == "Embedding"


def float_dtype(model):
    for p in model.parameters():
        dt = p.data.dtype
        if dt.kind == "f":
            return dt
    return get_default_dtype()


def device_xp(model):
    for p in model.parameters():
        return get_array_module(p.data)
    return np


def _raw(a):
    if isinstance(a, Tensor):
        return a.data
    if is_array(a):
        return a
    return np.asarray(a)


def convert_x(a, fdt, ids, where):
    a = _raw(a)
    kind = a.dtype.kind
    if ids and kind in "iu":
        return a if a.dtype == np.int64 else a.astype(np.int64)
    if kind in "fbiu":
        return a if a.dtype == fdt else a.astype(fdt)
    raise TypeError(f"{where}: inputs must be numeric arrays, got dtype {a.dtype}")


def convert_y(a, fdt, loss, where):
    a = _raw(a)
    kind = a.dtype.kind
    if kind in "iub" and not (loss is not None and loss.float_targets):
        return a if a.dtype == np.int64 else a.astype(np.int64)
    if kind in "fiub":
        return a if a.dtype == fdt else a.astype(fdt)
    raise TypeError(f"{where}: targets must be numeric arrays, got dtype {a.dtype}")


def _check_lengths(x, y, where):
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{where}: x and y need a first (sample) dimension; got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(
            f"{where}: x and y have different numbers of samples: x has {len(x)} (shape {x.shape}), "
            f"y has {len(y)} (shape {y.shape})"
        )


def _split_batch(batch, where):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    n = len(batch) if isinstance(batch, (tuple, list)) else 1
    raise ValueError(f"{where}: the data must yield (x, y) pairs; got {n} field(s) per sample")


class _Subset:
    """The samples ``indices`` of a data set (for ``validation_split`` on a Dataset)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.dataset[int(self.indices[i])]

    def get_batch(self, idx):
        idx = self.indices[idx]
        gb = getattr(self.dataset, "get_batch", None)
        if gb is not None:
            return gb(idx)
        return collate([self.dataset[int(i)] for i in idx], "validation_split")


def _loader_batches(loader, convert_x, convert_y, where):
    for batch in loader:
        xb, yb = _split_batch(batch, where)
        yield convert_x(xb), convert_y(yb)


def _array_batches(x, y, batch_size):
    n = len(x)
    for i in range(0, n, batch_size):
        yield x[i:i + batch_size], y[i:i + batch_size]


def eval_source(model, state, x, y, batch_size, where):
    """A zero-argument callable giving an iterable of converted (x, y) batches."""
    fdt, ids = float_dtype(model), takes_ids(model)
    xp = device_xp(model)
    loss = state.loss

    def cx(a):
        a = convert_x(a, fdt, ids, where)
        return a if xp is np else xp.asarray(a)

    def cy(a):
        a = convert_y(a, fdt, loss, where)
        return a if xp is np else xp.asarray(a)

    if y is None and isinstance(x, (tuple, list)) and len(x) in (2, 3) and (isinstance(x, tuple) or all(
            is_array(a) or isinstance(a, Tensor) or a is None for a in x)):
        x, y = x[0], x[1]  # validation_data=(x_val, y_val[, sample_weight])
    if isinstance(x, data.DataLoader):
        if y is not None:
            raise ValueError(f"{where}: y must be None when x is a DataLoader")
        return lambda: _loader_batches(x, cx, cy, where)
    if isinstance(x, data.Dataset) and not _is_arraylike(x):
        if y is not None:
            raise ValueError(f"{where}: y must be None when x is a Dataset")
        loader = data.DataLoader(x, batch_size=batch_size)
        return lambda: _loader_batches(loader, cx, cy, where)
    if y is None:
        raise ValueError(f"{where}: y is missing; pass (x, y) arrays, or a Dataset / DataLoader of (x, y)")
    xa, ya = cx(x), cy(y)
    _check_lengths(xa, ya, where)
    return lambda: _array_batches(xa, ya, batch_size)


def fit_data(model, state, x, y, batch_size, shuffle, validation_data, validation_split):
    """(train loader, per-batch converter or None, probe inputs, validation source or None)."""
    where = "fit"
    fdt, ids = float_dtype(model), takes_ids(model)
    xp = device_xp(model)
    loss = state.loss
    if not (0.0 <= validation_split < 1.0):
        raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
    use_split = validation_split > 0 and validation_data is None

    def seed():
        return int(get_rng().integers(0, 2**63 - 1)) if shuffle else None

    # a TensorDataset of two arrays is handled as arrays (converted once, fast batches)
    if type(x) is data.TensorDataset and y is None and len(x.arrays) == 2:
        x, y = x.arrays

    val = None
    convert = None
    if isinstance(x, data.DataLoader):
        if y is not None:
            raise ValueError("fit: y must be None when x is a DataLoader (it yields (x, y) batches)")
        if use_split:
            raise ValueError("fit: validation_split cannot split a DataLoader; pass validation_data instead")
        loader = x
        probe_ds = x.dataset
    elif isinstance(x, data.Dataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__") and not _is_arraylike(x)
                                         and not isinstance(x, (tuple, dict, str))):
        if y is not None:
            raise ValueError("fit: y must be None when x is a Dataset (it yields (x, y) samples)")
        ds = x
        n = len(ds)
        if use_split:
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"fit: validation_split={validation_split} leaves an empty split of {n} samples")
            val_ds = _Subset(ds, np.arange(split_at, n))
            ds = _Subset(ds, np.arange(split_at))
            val = eval_source(model, state, data.DataLoader(val_ds, batch_size=batch_size), None, batch_size, where)
        loader = data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=seed())
        probe_ds = ds
    else:
        if isinstance(x, (tuple, dict)):
            raise TypeError("fit: x must be an array, a Dataset or a DataLoader (multi-input models are not supported)")
        if y is None:
            raise ValueError("fit: y is missing; pass fit(x, y) with arrays, or a Dataset / DataLoader of (x, y)")
        xa = convert_x(x, fdt, ids, where)
        ya = convert_y(y, fdt, loss, where)
        check_finite(xa, "x", where)
        check_finite(ya, "y", where)
        _check_lengths(xa, ya, where)
        n = len(xa)
        if n == 0:
            raise ValueError("fit: no training samples (x is empty)")
        if use_split:
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"fit: validation_split={validation_split} leaves an empty split of {n} samples")
            xv, yv = xa[split_at:], ya[split_at:]
            xa, ya = xa[:split_at], ya[:split_at]
            if xp is not np:
                xv, yv = xp.asarray(xv), xp.asarray(yv)
            val = lambda: _array_batches(xv, yv, batch_size)  # noqa: E731
        loader = data.DataLoader(data.TensorDataset(xa, ya), batch_size=batch_size, shuffle=shuffle, seed=seed())
        probe = xa[: min(len(xa), batch_size, 64)]
        if xp is not np:  # the model lives on a GPU: move each batch there
            probe = xp.asarray(probe)
            convert = lambda batch: (xp.asarray(batch[0]), xp.asarray(batch[1]))  # noqa: E731
        if validation_data is not None:
            val = eval_source(model, state, validation_data, None, batch_size, "fit (validation_data)")
        return loader, convert, probe, val

    def convert_batch(batch):  # Dataset / DataLoader batches are converted one by one
        xb, yb = _split_batch(batch, where)
        xb, yb = convert_x(xb, fdt, ids, where), convert_y(yb, fdt, loss, where)
        if xp is not np:
            xb, yb = xp.asarray(xb), xp.asarray(yb)
        return xb, yb

    if len(probe_ds) == 0:
        raise ValueError("fit: the training data set is empty")
    k = min(len(probe_ds), batch_size, 64)
    first = next(iter(data.DataLoader(probe_ds, batch_size=k)))
    probe = convert_batch(first)[0]
    if validation_data is not None:
        val = eval_source(model, state, validation_data, None, batch_size, "fit (validation_data)")
    return loader, convert_batch, probe, val
