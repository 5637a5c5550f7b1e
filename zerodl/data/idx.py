"""Reader and writer for the IDX format of MNIST-like data sets.

An IDX file is a big-endian header followed by a raw C-order payload::

    bytes 0-1   zero
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions (ndim)
    4 * ndim    the sizes of the dimensions, each a big-endian uint32
    payload     prod(sizes) items of the dtype, big-endian

Files may be gzip-compressed; :func:`read_idx` recognises gzip by its magic
bytes, whatever the file is called. Every check failure raises ``ValueError``
naming the file and what is wrong with it.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from ..io.atomic import atomic_write

__all__ = ["read_idx", "write_idx"]

# IDX dtype code -> numpy dtype as stored (big-endian).
_CODE_TO_DTYPE = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KIND_TO_CODE = {
    ("u", 1): 0x08,
    ("i", 1): 0x09,
    ("i", 2): 0x0B,
    ("i", 4): 0x0C,
    ("f", 4): 0x0D,
    ("f", 8): 0x0E,
}
_GZIP_MAGIC = b"\x1f\x8b"


def _open(path):
    """Open ``path`` for binary reading, decompressing gzip transparently."""
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb"), f
    return f, None


def _read_exact(f, buf: memoryview) -> int:
    """Fill ``buf`` from ``f``; return the number of bytes read (short at EOF)."""
    got = 0
    n = len(buf)
    while got < n:
        k = f.readinto(buf[got:])
        if not k:
            break
        got += k
    return got


def read_idx(path) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a NumPy array.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is detected from the content.

    Returns
    -------
    numpy.ndarray
        A writable array of shape ``dims`` (as stored in the header) in the
        native byte order; dtype uint8, int8, int16, int32, float32 or float64.

    Raises
    ------
    ValueError
        If the magic number, the dtype code or the header are wrong, if the
        payload is shorter or longer than the header says, or if the gzip
        stream is corrupt. The message names the file.
    """
    path = os.fspath(path)
    f, raw = _open(path)
    try:
        try:
            header = f.read(4)
            if len(header) < 4:
                raise ValueError(
                    f"read_idx: {path!r} is not an IDX file: it is only {len(header)} bytes long "
                    "(an IDX header needs at least 4)"
                )
            if header[0] != 0 or header[1] != 0:
                raise ValueError(
                    f"read_idx: {path!r} has a wrong magic number "
                    f"0x{header[:4].hex()} (an IDX file starts with two zero bytes, "
                    "a dtype code and the number of dimensions)"
                )
            code, ndim = header[2], header[3]
            if code not in _CODE_TO_DTYPE:
                raise ValueError(
                    f"read_idx: {path!r} has an unknown IDX dtype code 0x{code:02x} "
                    "(expected one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e)"
                )
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise ValueError(
                    f"read_idx: {path!r} is truncated inside its header: it declares {ndim} "
                    f"dimensions but holds only {len(dims_raw)} of {4 * ndim} header bytes for them"
                )
            dims = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
            dtype = _CODE_TO_DTYPE[code]
            count = int(np.prod(dims, dtype=np.int64)) if dims else 1
            nbytes = count * dtype.itemsize
            out = np.empty(count, dtype=dtype)
            got = _read_exact(f, memoryview(out).cast("B"))
            if got != nbytes:
                raise ValueError(
                    f"read_idx: {path!r} is truncated: its header says shape {dims} of "
                    f"{dtype.name} ({nbytes} payload bytes) but only {got} bytes follow"
                )
            if f.read(1):
                raise ValueError(
                    f"read_idx: {path!r} has trailing data after the {nbytes} payload bytes "
                    f"that its header (shape {dims}, {dtype.name}) declares"
                )
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise ValueError(f"read_idx: {path!r} is a corrupt or truncated gzip file: {e}") from e
    finally:
        f.close()
        if raw is not None:
            raw.close()
    out = out.reshape(dims)
    if out.dtype.byteorder not in ("=", "|"):
        out = out.astype(out.dtype.newbyteorder("="))
    return out


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or os.PathLike
    array : array_like
        Of dtype uint8, int8, int16, int32, float32 or float64, with at most
        255 dimensions each smaller than 2**32.

    The file is written to a temporary file in the same folder and renamed
    into place, so a crash never leaves a half-written file.
    """
    path = os.fspath(path)
    a = np.asarray(array)
    key = (a.dtype.kind, a.dtype.itemsize)
    if key not in _KIND_TO_CODE:
        raise ValueError(
            f"write_idx: dtype {a.dtype} cannot be stored in IDX "
            "(use uint8, int8, int16, int32, float32 or float64)"
        )
    if a.ndim > 255 or any(d >= 2**32 for d in a.shape):
        raise ValueError(f"write_idx: shape {a.shape} cannot be stored in an IDX header")
    code = _KIND_TO_CODE[key]
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder(">")).tobytes()
    def write(raw):
        if path.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
                g.write(header)
                g.write(payload)
        else:
            raw.write(header)
            raw.write(payload)

    atomic_write(path, write)
