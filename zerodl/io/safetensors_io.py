"""``zd.save`` / ``zd.load``: flat dicts of arrays in the safetensors format, never pickle.

File format: a plain safetensors file (https://huggingface.co/docs/safetensors), written with
the ``safetensors`` package, so any safetensors reader (PyTorch's ``safetensors.torch``
included) reads what zerodl writes.

- Values: ndarrays (made C-contiguous and little-endian), Tensors/Parameters (their ``.data``;
  CuPy arrays are copied to the host), numbers (0-d arrays). dtypes: bool, (u)int8..64,
  float16/32/64. A ``str`` value is stored in the header metadata under ``"zerodl.str:<key>"``
  and given back as a ``str`` by ``load`` (this is how an optimizer's JSON hyper-parameters
  travel with its arrays); other readers simply see it as metadata.
- ``metadata``: a dict with str keys; str values are stored as they are, any other value is
  stored as its JSON text (``json.dumps``), so ``json.loads`` gives it back. Keys starting
  with ``zerodl.str:`` are reserved.
- ``load(path)`` returns ``dict[str, ndarray]`` (writable arrays, in file order);
  ``load(path, with_metadata=True)`` returns ``(dict, metadata)``; ``load_metadata(path)``
  reads only the header. ``.npz`` / ``.npy`` files (recognised by their content) are read with
  ``allow_pickle=False``.

Reading never runs code: a truncated, tampered or non-safetensors file, or an ``.npz``/``.npy``
holding pickled Python objects, is refused with a ``ValueError`` naming the file and the fault.

Checksum: ``save`` puts ``"zerodl.checksum": "crc32/1:<8 hex digits>"`` in the metadata, the
CRC-32 of the other metadata entries, of each tensor's name, dtype and shape, and of the tensor
bytes (in name order). ``load`` recomputes it and refuses a mismatch as a corrupted file
(zeroed or flipped bytes in the tensor section pass every structural check of the format, so
only a checksum can catch them). Files without the entry (older zerodl, other writers) load
unchecked. CRC-32 (zlib, a few GB/s) rather than a cryptographic hash: it is there to catch
damage, not an attacker, who could rewrite the checksum too; docs/reliability.md has the cost.
"""
import json
import os
import struct
import zipfile
import zlib

import numpy as np

from ..core.backend import as_numpy
from ..core.tensor import Tensor
from .atomic import atomic_write

__all__ = ["save", "load", "load_metadata"]

_STR_PREFIX = "zerodl.str:"
_DTYPES = {
    "BOOL": np.dtype(bool),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
}
_ITEMSIZE = {"BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "C64": 8, **{k: v.itemsize for k, v in _DTYPES.items()}}
_SAVABLE = {v.name for v in _DTYPES.values()}
_MAX_HEADER = 100_000_000  # the safetensors limit
CHECKSUM_KEY = "zerodl.checksum"
_CHECKSUM_TAG = "crc32/1:"


def checksum(arrays, metadata):
    """The ``"crc32/1:..."`` checksum of ``arrays`` (name -> C-contiguous little-endian ndarray)
    and ``metadata`` (str -> str, without the checksum entry itself)."""
    names = sorted(arrays)
    layout = [sorted(metadata.items()), [[k, arrays[k].dtype.str, list(arrays[k].shape)] for k in names]]
    crc = zlib.crc32(json.dumps(layout, separators=(",", ":")).encode("utf-8"))
    for k in names:
        a = arrays[k]
        if a.size:
            crc = zlib.crc32(a.reshape(-1).view(np.uint8), crc)
    return f"{_CHECKSUM_TAG}{crc:08x}"


def _verify_checksum(path, arrays, raw_meta):
    """Raise if the file's checksum entry does not match its contents (no entry: nothing to check)."""
    meta = dict(raw_meta or {})
    stored = meta.pop(CHECKSUM_KEY, None)
    if stored is None:
        if any(v.startswith(_CHECKSUM_TAG) for v in meta.values()):  # the entry's key was damaged
            raise _corrupted(path, "its checksum entry is damaged")
        return
    tensors = {k: v for k, v in arrays.items() if not isinstance(v, str)}
    if stored != checksum(tensors, meta):
        raise _corrupted(path, "its contents do not match the checksum stored in it")


def _corrupted(path, why):
    return _bad(path, f"the file is corrupted: {why} (damaged on disk or in a copy); "
                      "restore it from a backup or write it again")


def _as_array(key, value):
    if isinstance(value, Tensor):
        value = value.data  # Tensor / Parameter
    if isinstance(value, (bytes, bytearray)):
        raise TypeError(f"save: value of {key!r} is bytes; store an np.uint8 array (np.frombuffer) instead")
    arr = as_numpy(value)
    if arr.dtype.name not in _SAVABLE:
        raise TypeError(
            f"save: cannot store {key!r} of dtype {arr.dtype}: safetensors holds bool, (u)int8-64 and "
            "float16/32/64 arrays (no Python objects, strings or complex numbers)"
        )
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return arr


def _encode_metadata(metadata, where="save"):
    out = {}
    if metadata is None:
        return out
    if not isinstance(metadata, dict):
        raise TypeError(f"{where}: metadata must be a dict of str -> str, got {type(metadata).__name__}")
    for k, v in metadata.items():
        if not isinstance(k, str):
            raise TypeError(f"{where}: metadata keys must be str, got {k!r}")
        if k.startswith(_STR_PREFIX) or k == CHECKSUM_KEY:
            raise ValueError(f"{where}: metadata key {k!r} is reserved (keys {CHECKSUM_KEY!r} and "
                             f"{_STR_PREFIX!r}... are zerodl's own)")
        if isinstance(v, str):
            out[k] = v
        else:
            try:
                out[k] = json.dumps(v)
            except TypeError as e:
                raise TypeError(f"{where}: metadata value of {k!r} is neither str nor JSON-able ({e})") from None
    return out


def to_bytes(state, metadata=None):
    """The safetensors bytes of ``state`` (see ``save``) without writing a file."""
    import safetensors.numpy

    if not isinstance(state, dict):
        raise TypeError(f"save: expected a dict of name -> array (a state_dict), got {type(state).__name__}")
    meta = _encode_metadata(metadata)
    arrays = {}
    for k, v in state.items():
        if not isinstance(k, str):
            raise TypeError(f"save: keys must be str, got {k!r}")
        if k == "__metadata__":
            raise ValueError("save: '__metadata__' is reserved by the safetensors format; use metadata=")
        if isinstance(v, str):
            meta[_STR_PREFIX + k] = v
        else:
            arrays[k] = _as_array(k, v)
    meta[CHECKSUM_KEY] = checksum(arrays, meta)
    return safetensors.numpy.save(arrays, metadata=meta)


def save(state, path, metadata=None):
    """Write ``state`` (a flat dict name -> array/Tensor) to ``path`` as safetensors, atomically."""
    data = to_bytes(state, metadata)
    atomic_write(path, data)
    return path


# ----- reading -----------------------------------------------------------------------------
def _bad(path, what):
    return ValueError(f"{os.fspath(path)}: {what}")


def _read_header(path, f, size):
    """Parse and check a safetensors header; return (header dict, data start offset)."""
    if size < 8:
        raise _bad(path, f"not a safetensors file: only {size} bytes (the 8-byte header length is missing)")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER:
        raise _bad(path, f"not a safetensors file (or corrupt): it declares a {n}-byte header")
    if 8 + n > size:
        raise _bad(
            path,
            f"truncated or not a safetensors file: the header declares {n} bytes but only {size - 8} follow",
        )
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(path, f"corrupt safetensors header (not valid JSON: {e}); the file was damaged or tampered with") from None
    if not isinstance(header, dict):
        raise _bad(path, "corrupt safetensors header (not a JSON object)")
    data_len = size - 8 - n
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise _bad(path, "corrupt safetensors header: __metadata__ must map str to str")
            continue
        try:
            dtype, shape, (start, stop) = info["dtype"], info["shape"], info["data_offsets"]
            count = 1
            for s in shape:
                count *= int(s)
            nbytes = count * _ITEMSIZE[dtype]
        except (KeyError, TypeError, ValueError):
            raise _bad(path, f"corrupt safetensors header: bad entry for tensor {name!r}: {info!r}") from None
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start <= stop):
            raise _bad(path, f"corrupt safetensors header: bad data offsets for tensor {name!r}")
        if stop - start != nbytes:
            raise _bad(
                path,
                f"corrupt safetensors header: tensor {name!r} of dtype {dtype} and shape {shape} needs "
                f"{nbytes} bytes but its offsets span {stop - start} (tampered?)",
            )
        end = max(end, stop)
    if end > data_len:
        raise _bad(path, f"truncated file: the tensors need {end} bytes of data but only {data_len} are present")
    if end < data_len:
        raise _bad(path, f"corrupt safetensors file: {data_len - end} unexpected bytes after the tensors (tampered?)")
    return header, 8 + n


def _split_metadata(meta):
    meta = dict(meta or {})
    meta.pop(CHECKSUM_KEY, None)
    strings = {k[len(_STR_PREFIX):]: meta.pop(k) for k in list(meta) if k.startswith(_STR_PREFIX)}
    return meta, strings


def _load_safetensors(path):
    from safetensors import safe_open

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header, _ = _read_header(path, f, size)
    names = [k for k in header if k != "__metadata__"]
    names.sort(key=lambda k: header[k]["data_offsets"][0])
    for k in names:
        if header[k]["dtype"] not in _DTYPES:
            raise _bad(path, f"tensor {k!r} has dtype {header[k]['dtype']}, which NumPy cannot represent")
    try:
        with safe_open(os.fspath(path), framework="np") as f:
            arrays = {k: f.get_tensor(k) for k in names}
    except Exception as e:  # safetensors' SafetensorError and friends
        raise _bad(path, f"cannot read this safetensors file ({type(e).__name__}: {e})") from None
    for k, a in arrays.items():
        if not a.flags.writeable:
            arrays[k] = a.copy()
    _verify_checksum(path, arrays, header.get("__metadata__"))
    meta, strings = _split_metadata(header.get("__metadata__"))
    arrays.update(strings)
    return arrays, meta


def _pickle_refused(path, key):
    where = f"array {key!r}" if key is not None else "it"
    return _bad(
        path,
        f"refusing to load: {where} holds pickled Python objects, and unpickling can run arbitrary "
        "code. zerodl reads only plain numeric arrays (allow_pickle=False); re-save the data as "
        "numeric arrays, preferably with zd.save (safetensors)",
    )


def _load_npz(path):
    try:
        z = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _bad(path, f"not a valid .npz file ({e})") from None
    out = {}
    with z:
        for k in z.files:
            try:
                out[k] = z[k]
            except ValueError as e:
                if "pickle" in str(e).lower() or "object arrays" in str(e).lower():
                    raise _pickle_refused(path, k) from None
                raise _bad(path, f"cannot read array {k!r} ({e})") from None
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise _bad(path, f"corrupt .npz file: cannot read array {k!r} ({e})") from None
    return out, {}


def _load_npy(path):
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower() or "object arrays" in str(e).lower():
            raise _pickle_refused(path, None) from None
        raise _bad(path, f"not a valid .npy file ({e})") from None
    except (OSError, EOFError) as e:
        raise _bad(path, f"not a valid .npy file ({e})") from None
    return {"arr_0": arr}, {}


def _kind(path):
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    return "safetensors"


def load(path, with_metadata=False):
    """Read a file written by ``save`` (or any safetensors file; ``.npz``/``.npy`` too).

    Returns ``dict[str, ndarray]``, or ``(dict, metadata)`` when ``with_metadata=True``
    (metadata: dict of str -> str, JSON-encoded values included as text).
    """
    path = os.fspath(path)
    kind = _kind(path)
    if kind == "npz":
        arrays, meta = _load_npz(path)
    elif kind == "npy":
        arrays, meta = _load_npy(path)
    else:
        arrays, meta = _load_safetensors(path)
    return (arrays, meta) if with_metadata else arrays


def load_metadata(path):
    """The metadata (dict of str -> str) of a safetensors file, reading only its header."""
    path = os.fspath(path)
    if _kind(path) != "safetensors":
        return {}
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header, _ = _read_header(path, f, size)
    return _split_metadata(header.get("__metadata__"))[0]
