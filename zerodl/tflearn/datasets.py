"""``tflearn.datasets.mnist.load_data(one_hot=False)``: (X, Y, testX, testY), X float in [0, 1]
of shape (N, 784), from zerodl's MNIST reader (``$ZERODL_DATA`` or the download cache)."""
import sys

import numpy as np

from ..data import datasets as _datasets
from .data_utils import to_categorical

__all__ = ["mnist"]


def _load_data(data_dir=None, one_hot=False):
    out = []
    for train in (True, False):
        x, y = _datasets.mnist(root=data_dir if data_dir and data_dir != "mnist/" else None, train=train)
        out += [x.reshape(len(x), -1).astype(np.float32) / 255, to_categorical(y, 10) if one_hot else y]
    return tuple(out)


mnist = type(sys)("zerodl.tflearn.datasets.mnist")
mnist.load_data = _load_data
