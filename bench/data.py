"""Benchmark data: a tiny gz/plain IDX reader for MNIST, synthetic stand-ins of the same
shapes when the files are absent, and a seeded synthetic corpus for the language model.

Kept independent of ``zerodl.data`` on purpose, so that the harness and its PyTorch and
NumPy peers run before (and regardless of) the framework under test.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_SIZES = {"train": 60_000, "test": 10_000}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in .gz) into an ndarray."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic {raw[:4].hex()})")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim)
    return data.reshape(shape)


def _find(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / (name + ".gz"), data_dir / name):
        if candidate.is_file():
            return candidate
    return None


@dataclass
class ImageData:
    """MNIST-shaped data: images float32 (N, 1, 28, 28) in [0, 1], labels int64 (N,)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    source: str


def mnist_source(data_dir: str | None) -> str | None:
    """The folder holding all four MNIST files, or None."""
    if not data_dir:
        return None
    d = Path(data_dir)
    names = [n for pair in MNIST_FILES.values() for n in pair]
    return str(d) if all(_find(d, n) for n in names) else None


def load_mnist(data_dir: str | None, seed: int = 0) -> ImageData:
    """Real MNIST from ``data_dir`` (the four IDX files, gzipped or not), or synthetic arrays
    of the same shapes and dtypes when the folder or a file is missing.

    The training set is shuffled once with ``seed`` so that every framework sees the same
    batches in the same order (consecutive slices, no per-epoch shuffling in the timed loop).
    """
    rng = np.random.default_rng(seed)
    found = mnist_source(data_dir)
    arrays = {}
    for split, (img_name, lbl_name) in MNIST_FILES.items():
        if found:
            images = read_idx(_find(Path(found), img_name))
            labels = read_idx(_find(Path(found), lbl_name))
        else:
            n = MNIST_SIZES[split]
            images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
            labels = rng.integers(0, 10, size=n)
        if split == "train":
            order = rng.permutation(len(images))
            images, labels = images[order], labels[order]
        x = images.astype(np.float32).reshape(len(images), 1, 28, 28)
        x *= np.float32(1 / 255)
        arrays[split] = (x, labels.astype(np.int64))
    source = f"MNIST from {found}" if found else "synthetic (seeded random arrays of MNIST's shapes)"
    return ImageData(*arrays["train"], *arrays["test"], source=source)


def make_corpus(vocab: int, n_tokens: int, seed: int = 0) -> np.ndarray:
    """A fixed synthetic corpus: seeded uniform random token ids, int64."""
    return np.random.default_rng(seed).integers(0, vocab, size=n_tokens, dtype=np.int64)
