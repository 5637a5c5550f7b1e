"""Map-style data sets: ``Dataset`` and ``TensorDataset``."""

from __future__ import annotations

import numpy as np

__all__ = ["Dataset", "TensorDataset", "as_array", "collate"]


def as_array(x) -> np.ndarray:
    """An ndarray for ``x``; zerodl Tensors (anything with ``.numpy()``) are unwrapped."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "numpy") and callable(x.numpy):
        return np.asarray(x.numpy())
    return np.asarray(x)


def collate(samples, where: str = "collate") -> tuple:
    """Stack a list of samples into a tuple of arrays, one per field.

    A sample is a tuple/list of fields or a single field (then a 1-tuple is returned).
    """
    if not samples:
        return ()
    first = samples[0]
    if isinstance(first, (tuple, list)):
        n_fields = len(first)
        for s in samples:
            if not isinstance(s, (tuple, list)) or len(s) != n_fields:
                raise ValueError(
                    f"{where}: every sample must have the same number of fields; "
                    f"got {n_fields} and {len(s) if isinstance(s, (tuple, list)) else 1}"
                )
        columns = zip(*samples)
    else:
        columns = [samples]
    out = []
    for i, col in enumerate(columns):
        arrs = [as_array(c) for c in col]
        try:
            out.append(np.stack(arrs))
        except ValueError as e:
            shapes = sorted({a.shape for a in arrs}, key=str)
            raise ValueError(
                f"{where}: cannot stack field {i} of a batch: samples have different shapes {shapes}"
            ) from e
    return tuple(out)


# the names other modules used before these were public
_as_array = as_array
_collate = collate


class Dataset:
    """Base class of map-style data sets.

    Subclasses implement ``__len__`` (number of samples) and ``__getitem__(i)``
    returning one sample: a tuple of fields such as ``(x, t)``, or a single
    array. :class:`DataLoader` stacks the samples of a batch field by field.

    A subclass may also override :meth:`get_batch` to build a whole batch
    at once (vectorised), which the loader then uses instead of a Python loop.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def get_batch(self, indices) -> tuple:
        """Return the samples at ``indices`` (1-D int array) stacked field by field.

        Returns a tuple of arrays, each of shape ``(len(indices), *field_shape)``.
        The default calls ``self[i]`` for every index.
        """
        return collate([self[int(i)] for i in indices], f"{type(self).__name__}.get_batch")


class TensorDataset(Dataset):
    """A data set of arrays that share their first dimension (the samples).

    ``TensorDataset(x, t)[i]`` is ``(x[i], t[i])``. Arrays are kept as given
    (no copy for ndarrays); zerodl Tensors are unwrapped to their data.

    Parameters
    ----------
    *arrays : array_like
        At least one, each of shape ``(N, ...)`` with the same ``N``.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        arrs = tuple(as_array(a) for a in arrays)
        for k, a in enumerate(arrs):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: array {k} is a scalar (shape ()); every array needs a first "
                    "dimension that indexes the samples"
                )
        n = {a.shape[0] for a in arrs}
        if len(n) != 1:
            shapes = ", ".join(str(a.shape) for a in arrs)
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension (number of samples); "
                f"got shapes {shapes}"
            )
        self.arrays = arrs

    @property
    def tensors(self) -> tuple:
        """The arrays (PyTorch's name)."""
        return self.arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        """Fancy-index every array with ``indices``: one NumPy call per array, no Python loop.

        ``indices`` may also be a ``slice``. The result is always a fresh array
        (never a view into the data set), so modifying a batch in place is safe.
        """
        if isinstance(indices, slice):
            return tuple(a[indices].copy() for a in self.arrays)
        return tuple(a[indices] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"
