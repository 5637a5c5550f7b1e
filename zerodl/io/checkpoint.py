"""Training checkpoints: model, optimizer, epoch and RNG state in ONE safetensors file.

Tensors (prefixes keep the parts apart)::

    model.<name>           model.state_dict() (parameters and buffers)
    optimizer.<name>       the optimizer's state_dict() arrays ("optimizer.state.0.exp_avg", ...)
    rng.numpy_legacy.key   the 624 uint32 words of NumPy's legacy generator (np.random)

Header metadata (str; JSON where structured)::

    "format":     "zerodl.checkpoint/1"
    "epoch":      JSON (int or null)
    "extra":      JSON of the caller's ``extra`` (any JSON-able value, e.g. a DataLoader state)
    "rng":        JSON {"zerodl": zerodl.core.get_rng_state(), "numpy_legacy": {pos, has_gauss,
                  cached_gaussian}, "python": [version, [625 ints], gauss_next]}
    "optimizer.optimizer":  the optimizer's JSON hyper-parameters (its state_dict's str entry)
    "scheduler":  JSON of scheduler.state_dict() when a scheduler is given

``load_checkpoint`` restores all of it, so a resumed run draws the same random numbers and
takes the same optimizer steps as one that was never interrupted (the data order too, when the
DataLoader's ``state_dict()`` is passed in ``extra`` and restored by the caller).
"""
import json
import random as _pyrandom

import numpy as np

from ..core import random as _zrandom
from .safetensors_io import _STR_PREFIX, load, save

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "zerodl.checkpoint/1"


def _rng_snapshot():
    name, key, pos, has_gauss, cached = np.random.get_state()
    py = _pyrandom.getstate()
    meta = {
        "zerodl": _zrandom.get_rng_state(),
        "numpy_legacy": {"bit_generator": name, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": [py[0], list(py[1]), py[2]],
    }
    return meta, np.asarray(key, dtype=np.uint32)


def _rng_restore(meta, key, path, generators=None):
    """Set the generators to the saved state. ``generators`` (zerodl's, NumPy's legacy, Python's)
    default to the process's own; scratch ones check a state without changing anything."""
    z, legacy, py_rng = generators or (None, np.random, _pyrandom)
    try:
        if "zerodl" in meta:
            if z is None:
                _zrandom.set_rng_state(meta["zerodl"])
            else:
                z.bit_generator.state = meta["zerodl"]
        leg = meta.get("numpy_legacy")
        if leg is not None and key is not None:
            legacy.set_state((leg["bit_generator"], key, leg["pos"], leg["has_gauss"], leg["cached_gaussian"]))
        py = meta.get("python")
        if py is not None:
            py_rng.setstate((py[0], tuple(py[1]), py[2]))
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ValueError(f"{path}: cannot restore the random generators' state ({e})") from None


def _check_rng(meta, key, path):
    """Raise as ``_rng_restore`` would, on scratch generators (nothing changes)."""
    _rng_restore(meta, key, path, (np.random.default_rng(), np.random.RandomState(), _pyrandom.Random()))


def save_checkpoint(path, model, optimizer=None, epoch=None, extra=None, scheduler=None):
    """Write a training checkpoint (see the module docstring) to ``path``, atomically."""
    tensors = {}
    meta = {"format": CHECKPOINT_FORMAT}
    if model is not None:
        for k, v in model.state_dict().items():
            tensors["model." + k] = v
    if optimizer is not None:
        for k, v in optimizer.state_dict().items():
            if isinstance(v, str):
                meta["optimizer." + k] = v
            else:
                tensors["optimizer." + k] = v
    rng_meta, key = _rng_snapshot()
    tensors["rng.numpy_legacy.key"] = key
    meta["rng"] = json.dumps(rng_meta)
    meta["epoch"] = json.dumps(epoch)
    try:
        meta["extra"] = json.dumps(extra)
    except TypeError as e:
        raise TypeError(f"save_checkpoint: extra must be JSON-able ({e})") from None
    if scheduler is not None:
        meta["scheduler"] = json.dumps(scheduler.state_dict())
    save(tensors, path, metadata=meta)
    return path


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True, strict=True):
    """Restore a checkpoint written by ``save_checkpoint`` into ``model`` (and ``optimizer``,
    ``scheduler``), and the random generators unless ``restore_rng=False``.

    Returns ``{"epoch": ..., "extra": ..., "metadata": {...}}``. All or nothing: the file (its
    checksum included) and the random generators' state are checked first, and if the model,
    optimizer or scheduler then refuses its part, the parts already loaded are put back, so a
    failed call leaves everything as it was. A mismatch raises ``ValueError`` (the model's
    ``load_state_dict`` raises ``RuntimeError`` listing missing/unexpected keys).
    """
    tensors, meta = load(path, with_metadata=True)
    fmt = meta.get("format", "")
    if not fmt.startswith("zerodl.checkpoint/"):
        raise ValueError(
            f"{path}: not a zerodl checkpoint (format {fmt!r}); model files load with zd.load_model, "
            "weight files with model.load_state_dict(zd.load(path))"
        )
    if fmt != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: checkpoint format {fmt!r} is not understood by this zerodl ({CHECKPOINT_FORMAT})")
    parts = {"model": {}, "optimizer": {}, "rng": {}}
    for k, v in tensors.items():
        head, _, rest = k.partition(".")
        if head not in parts or not rest:
            raise ValueError(f"{path}: unexpected tensor {k!r} in a checkpoint")
        parts[head][rest] = v
    for k, v in meta.items():
        if k.startswith("optimizer."):
            parts["optimizer"][k[len("optimizer."):]] = v
    if optimizer is not None and not parts["optimizer"]:
        raise ValueError(f"{path}: the checkpoint holds no optimizer state, but an optimizer was given")
    if scheduler is not None and "scheduler" not in meta:
        raise ValueError(f"{path}: the checkpoint holds no scheduler state, but a scheduler was given")
    try:
        rng = json.loads(meta["rng"]) if "rng" in meta else {}
        epoch = json.loads(meta["epoch"]) if "epoch" in meta else None
        extra = json.loads(meta["extra"]) if "extra" in meta else None
        sched = json.loads(meta["scheduler"]) if "scheduler" in meta else None
    except ValueError as e:
        raise ValueError(f"{path}: corrupt checkpoint metadata ({e})") from None

    key = parts["rng"].get("numpy_legacy.key")
    if restore_rng:
        _check_rng(rng, key, path)
    # The model goes last: its load_state_dict checks every key and shape before it copies.
    undo = []
    try:
        if optimizer is not None:
            undo.append((optimizer, optimizer.state_dict()))
            try:
                optimizer.load_state_dict(parts["optimizer"])
            except (ValueError, KeyError, TypeError, IndexError) as e:
                raise ValueError(f"{path}: the optimizer state does not fit: {e}") from None
        if scheduler is not None:
            undo.append((scheduler, scheduler.state_dict()))
            scheduler.load_state_dict(sched)
        if model is not None:
            model.load_state_dict(parts["model"], strict=strict)
    except BaseException:
        for obj, state in reversed(undo):
            obj.load_state_dict(state)
        raise
    if restore_rng:
        _rng_restore(rng, key, path)
    user_meta = {k: v for k, v in meta.items() if not k.startswith(("optimizer.", _STR_PREFIX))}
    return {"epoch": epoch, "extra": extra, "metadata": user_meta}
