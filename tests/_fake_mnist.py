"""Small MNIST-shaped IDX files made from the embedded 8x8 digits (tests never need real MNIST)."""
import os

import numpy as np

from zerodl.data import datasets
from zerodl.data.idx import write_idx

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def digits_as_mnist(n_train=1400, n_test=397):
    """(x_train uint8 (n, 28, 28), t_train, x_test, t_test): digits scaled up 3x, centred."""
    x, t = datasets.digits()
    big = np.kron(x.astype(np.float32), np.ones((3, 3), np.float32)) * (255 / 16)
    img = np.zeros((len(x), 28, 28), np.uint8)
    img[:, 2:26, 2:26] = big.round().astype(np.uint8)
    return img[:n_train], t[:n_train], img[n_train:n_train + n_test], t[n_train:n_train + n_test]


def write_fake_mnist(folder, n_train=1400, n_test=397):
    """Write the four IDX files under their usual names into ``folder``; returns the arrays."""
    os.makedirs(folder, exist_ok=True)
    arrays = digits_as_mnist(n_train, n_test)
    for name, arr in zip(NAMES, arrays):
        write_idx(os.path.join(folder, name), arr.astype(np.uint8))
    return arrays
