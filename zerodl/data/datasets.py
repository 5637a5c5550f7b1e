"""Ready-made data sets.

=========================  =============================================================
``mnist()``                handwritten digits, images uint8 (N, 28, 28), labels int64 (N,)
``fashion_mnist()``        Zalando's clothing images, same format as MNIST
``digits()``               UCI 8x8 digits (embedded), images uint8 (1797, 8, 8) in 0..16
``spiral()``               the book's / DeZero's 2-D spiral, x float32 (N, 2), t int64 (N,)
``airline_passengers()``   Box & Jenkins monthly airline passengers, float32 (144,)
``kjv_bible(split)``       the King James Bible, verses (list of str), fixed train/valid/test
=========================  =============================================================

MNIST and Fashion-MNIST are read from the four IDX files under their usual
names (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``), gzipped (``.gz``) or
not. They are looked for in ``root`` if given, else in ``$ZERODL_DATA``, and
then in the cache (``$ZERODL_CACHE/<name>/`` or ``~/.cache/zerodl/<name>/``).
Inside a folder, a sub-folder named after the data set (``mnist``,
``fashion-mnist`` or ``fashion_mnist``) is tried first, so one ``ZERODL_DATA``
folder can hold both. Missing files are downloaded (with ``download=True``)
from public mirrors into ``root`` or the cache, checked against known MD5
checksums and renamed into place only once verified.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
from importlib import resources
from pathlib import Path

import numpy as np

from . import download as _download
from .corpus import kjv_bible
from .idx import read_idx
from .seq_tasks import addition, dates  # noqa: F401  (book 2's generated tasks)

__all__ = ["mnist", "fashion_mnist", "digits", "spiral", "airline_passengers", "kjv_bible", "FASHION_MNIST_CLASSES"]

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

_SPLIT_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_ALL_FILES = _SPLIT_FILES[True] + _SPLIT_FILES[False]
_EXPECTED_N = {True: 60000, False: 10000}

# Accepted checksums of downloaded files. ``gz``: MD5 of the .gz file as published on the
# mirrors (plus those of the re-gzipped copies seen in the wild); ``raw``: MD5 of the
# uncompressed IDX content, which does not depend on how the file was compressed.
_MNIST = {
    "title": "MNIST",
    "folders": ("mnist",),
    "mirrors": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "gz": {
        "train-images-idx3-ubyte": {"f68b3c2dcbeaaa9fbdd348bbdeb94873", "c7dfcf1bfd3481a40f7b3aedbdbd083c"},
        "train-labels-idx1-ubyte": {"d53e105ee54ea40749a09fcbcd1e9432", "d289298a347a2cc65765a3c81043ba88"},
        "t10k-images-idx3-ubyte": {"9fb629c4189551a2d022fa330f9573f3", "ecff87aa27c74fbc2c1f97e89c19221d"},
        "t10k-labels-idx1-ubyte": {"ec29112dd5afa0611ce80d1b7f02629c", "a38049bc042dc6e683842a84160daae1"},
    },
    "raw": {
        "train-images-idx3-ubyte": {"6bbc9ace898e44ae57da46a324031adb"},
        "train-labels-idx1-ubyte": {"a25bea736e30d166cdddb491f175f624"},
        "t10k-images-idx3-ubyte": {"2646ac647ad5339dbf082846283269ea"},
        "t10k-labels-idx1-ubyte": {"27ae3e4e09519cfbb04c329615203637"},
    },
}
_FASHION = {
    "title": "Fashion-MNIST",
    "folders": ("fashion-mnist", "fashion_mnist"),
    "mirrors": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    "gz": {
        "train-images-idx3-ubyte": {"8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
        "train-labels-idx1-ubyte": {"25c81989df183df01b3e8a0aad5dffbe"},
        "t10k-images-idx3-ubyte": {"bef4ecab320f06d8554ea6380940ec79"},
        "t10k-labels-idx1-ubyte": {"bb300cfdad3c16e7a12a480ee83cd310"},
    },
    "raw": {},
}


def _candidate_folders(spec, root) -> list[Path]:
    """Folders to search, in order (each given folder's data-set sub-folder first)."""

    def expand(folder: Path) -> list[Path]:
        return [folder / sub for sub in spec["folders"]] + [folder]

    if root is not None:
        return expand(Path(root).expanduser())
    out = []
    env = os.environ.get("ZERODL_DATA")
    if env:
        out += expand(Path(env).expanduser())
    out.append(_download.cache_dir(spec["folders"][0]))
    return out


def _find(folder: Path, base: str) -> Path | None:
    for name in (base, base + ".gz"):
        p = folder / name
        if p.is_file():
            return p
    return None


def _find_split(folders, bases):
    """The first folder holding all of ``bases`` (plain or .gz): their paths, or None."""
    for folder in folders:
        paths = [_find(folder, b) for b in bases]
        if all(paths):
            return paths
    return None


def _offline_help(spec, fn, target: Path) -> str:
    files = ", ".join(b + ".gz" for b in _ALL_FILES)
    return (
        f"To use {spec['title']} offline, put the four IDX files ({files}; gzipped or not) "
        f"into {target}, or into any folder FOLDER and call {fn}(root=FOLDER) "
        f"or set the environment variable ZERODL_DATA=FOLDER."
    )


def _validate_idx_file(expect_ndim):
    def check(path):
        a = read_idx(path)
        if a.dtype != np.uint8 or a.ndim != expect_ndim:
            raise ValueError(f"expected a uint8 IDX array with {expect_ndim} dimensions, got {a.dtype} {a.shape}")

    return check


def _load_mnist_like(spec, fn, root, train, download):
    train = bool(train)
    bases = _SPLIT_FILES[train]
    folders = _candidate_folders(spec, root)
    paths = _find_split(folders, bases)
    if paths is None:
        looked = ", ".join(str(f) for f in folders)
        wanted = " and ".join(f"{b}[.gz]" for b in bases)
        target = Path(root).expanduser() if root is not None else _download.cache_dir(spec["folders"][0])
        if not download:
            raise FileNotFoundError(
                f"{fn}: the {spec['title']} {'training' if train else 'test'} files {wanted} were not "
                f"found (looked in: {looked}) and download=False. " + _offline_help(spec, fn, target)
            )
        paths = []
        try:
            for base in bases:
                have = _find(target, base)
                if have is None:
                    have = _download.download_verified(
                        base + ".gz",
                        target,
                        spec["mirrors"],
                        md5s=spec["gz"].get(base, ()),
                        raw_md5s=spec["raw"].get(base, ()),
                        validate=_validate_idx_file(3 if "images" in base else 1),
                    )
                paths.append(have)
        except OSError as e:
            raise FileNotFoundError(
                f"{fn}: the {spec['title']} {'training' if train else 'test'} files {wanted} were not "
                f"found (looked in: {looked}) and downloading them failed: {e}\n"
                + _offline_help(spec, fn, target)
            ) from e
    img_path, lbl_path = paths
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{fn}: {img_path} should hold uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{fn}: {lbl_path} should hold uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"{fn}: {img_path} holds {images.shape[0]} images but {lbl_path} holds "
            f"{labels.shape[0]} labels (shapes {images.shape} and {labels.shape})"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{fn}: {lbl_path} holds label {int(labels.max())}; labels must be 0..9")
    if spec is _FASHION and _is_mnist_labels(labels, train):
        raise ValueError(
            f"{fn}: {lbl_path} holds the MNIST digit labels, not Fashion-MNIST's; "
            "keep the two data sets in different folders (e.g. FOLDER/mnist and FOLDER/fashion-mnist)"
        )
    return images, labels.astype(np.int64)


def _is_mnist_labels(labels: np.ndarray, train: bool) -> bool:
    """True if ``labels`` is exactly MNIST's label file (by the MD5 of its IDX bytes)."""
    if labels.shape[0] != _EXPECTED_N[train]:
        return False
    h = hashlib.md5(bytes([0, 0, 8, 1]) + int(labels.shape[0]).to_bytes(4, "big"))
    h.update(labels.tobytes())
    return h.hexdigest() in _MNIST["raw"][_SPLIT_FILES[train][1]]


def mnist(root=None, train=True, download=True):
    """The MNIST handwritten digits (LeCun, Cortes and Burges).

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder with the IDX files (or with a ``mnist`` sub-folder holding them).
        Default: ``$ZERODL_DATA``, then the cache ``~/.cache/zerodl/mnist``.
    train : bool
        The 60000 training images (True) or the 10000 test images (False).
    download : bool
        Download missing files (into ``root`` if given, else the cache).

    Returns
    -------
    images : numpy.ndarray
        uint8 of shape (N, 28, 28), values 0..255.
    labels : numpy.ndarray
        int64 of shape (N,), values 0..9.

    Raises
    ------
    FileNotFoundError
        Files missing and ``download=False``, or the download failed; the
        message says which files to put in which folder.
    ValueError
        A file is corrupt (truncated, wrong magic, wrong shapes).
    """
    return _load_mnist_like(_MNIST, "mnist", root, train, download)


def fashion_mnist(root=None, train=True, download=True):
    """Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando Research), MNIST's drop-in replacement.

    Same parameters, file names and return values as :func:`mnist`; the
    sub-folder tried inside ``root``/``$ZERODL_DATA`` is ``fashion-mnist`` (or
    ``fashion_mnist``) and the cache is ``~/.cache/zerodl/fashion-mnist``.
    Class names are in ``FASHION_MNIST_CLASSES``.

    Returns
    -------
    images : numpy.ndarray
        uint8 of shape (N, 28, 28).
    labels : numpy.ndarray
        int64 of shape (N,), values 0..9.
    """
    return _load_mnist_like(_FASHION, "fashion_mnist", root, train, download)


def _package_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("_files", name).read_bytes()


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    text = gzip.decompress(_package_file("digits.csv.gz")).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65) or table.min() < 0 or table[:, :64].max() > 16 or table[:, 64].max() > 9:
        raise ValueError(f"digits: the embedded digits.csv.gz is damaged (table of shape {table.shape})")
    images = table[:, :64].astype(np.uint8).reshape(1797, 8, 8)
    labels = table[:, 64].copy()
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def digits():
    """The UCI optical-recognition 8x8 handwritten digits, as bundled by scikit-learn.

    Embedded in the package (no download). Each pixel counts the "on" pixels
    of a 4x4 block of a 32x32 bitmap, so values are 0..16, not 0..255:
    divide by 16 to get [0, 1].

    Returns
    -------
    images : numpy.ndarray
        uint8 of shape (1797, 8, 8), values 0..16.
    labels : numpy.ndarray
        int64 of shape (1797,), values 0..9.
    """
    images, labels = _digits_arrays()
    return images.copy(), labels.copy()


def spiral(n_per_class=100, n_classes=3, seed=0):
    """The two-dimensional spiral of "Deep Learning from Scratch" 2 and DeZero.

    Point ``i`` of class ``j`` has radius ``r = i / n_per_class`` and angle
    ``theta = 4 j + 4 r + 0.2 * noise`` (standard normal noise) and sits at
    ``(r sin(theta), r cos(theta))``. The points are then shuffled. The noise
    and the shuffle come from ``numpy.random.RandomState(seed)`` in DeZero's
    order, so ``spiral(seed=1984)`` is DeZero's ``get_spiral(train=True)``
    and ``seed=2020`` its test set.

    Returns
    -------
    x : numpy.ndarray
        float32 of shape (n_per_class * n_classes, 2).
    t : numpy.ndarray
        int64 of shape (n_per_class * n_classes,), class indices.
    """
    for name, v in (("n_per_class", n_per_class), ("n_classes", n_classes)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"spiral: {name} must be a positive int, got {v!r}")
    rs = np.random.RandomState(seed)
    n, c = int(n_per_class), int(n_classes)
    noise = rs.randn(c, n)  # DeZero draws one normal per point, class by class
    rate = np.arange(n) / n
    theta = np.arange(c)[:, None] * 4.0 + 4.0 * rate[None, :] + noise * 0.2
    x = np.empty((c, n, 2), dtype=np.float32)
    x[..., 0] = rate * np.sin(theta)
    x[..., 1] = rate * np.cos(theta)
    x = x.reshape(c * n, 2)
    t = np.repeat(np.arange(c, dtype=np.int64), n)
    perm = rs.permutation(c * n)
    return x[perm], t[perm]


@functools.lru_cache(maxsize=1)
def _airline_array():
    lines = _package_file("airline_passengers.csv").decode("ascii").split()
    if lines[0].strip() != "Month,Passengers" or len(lines) != 145:
        raise ValueError("airline_passengers: the embedded airline_passengers.csv is damaged")
    values = np.array([float(line.split(",")[1]) for line in lines[1:]], dtype=np.float32)
    values.flags.writeable = False
    return values


def airline_passengers():
    """Monthly totals of international airline passengers (thousands), 1949-01 to 1960-12.

    Box, Jenkins and Reinsel, "Time Series Analysis: Forecasting and Control",
    Series G. Embedded in the package (``_files/airline_passengers.csv``,
    columns ``Month,Passengers``).

    Returns
    -------
    numpy.ndarray
        float32 of shape (144,), starting 112, 118, 132 and ending 461, 390, 432.
    """
    return _airline_array().copy()
