"""``tflearn.datasets.mnist.load_data(one_hot=False)``: (X, Y, testX, testY), X float32 in [0, 1]
of shape (N, 784), from zerodl's MNIST reader: ``data_dir`` when it holds the IDX files, else
``$ZERODL_DATA`` or zerodl's download cache (tflearn's default "mnist/" folder counts when it
has them)."""
import os

import numpy as np

from ...data import datasets
from ..data_utils import to_categorical

__all__ = ["load_data"]


def load_data(data_dir="mnist/", one_hot=False):
    root = data_dir if data_dir and os.path.isdir(data_dir) and os.listdir(data_dir) else None
    out = []
    for train in (True, False):
        x, y = datasets.mnist(root=root, train=train)
        out += [x.reshape(len(x), -1).astype(np.float32) / 255, to_categorical(y, 10) if one_hot else y]
    return tuple(out)
