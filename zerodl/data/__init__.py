"""zerodl.data: data sets, loaders and array helpers (NumPy and the standard library only).

- :class:`Dataset`, :class:`TensorDataset`, :class:`DataLoader` (seeded, resumable shuffling)
- :mod:`datasets`: ``mnist``, ``fashion_mnist``, ``digits``, ``spiral``, ``airline_passengers``
- :func:`train_test_split`, :func:`to_categorical`, :func:`make_windows`
- :mod:`idx`: ``read_idx`` / ``write_idx`` for the IDX files of MNIST-like data sets
"""

from . import datasets, idx
from .dataset import Dataset, TensorDataset
from .loader import DataLoader
from .utils import make_windows, to_categorical, train_test_split

__all__ = [
    "Dataset",
    "TensorDataset",
    "DataLoader",
    "datasets",
    "idx",
    "train_test_split",
    "to_categorical",
    "make_windows",
]
