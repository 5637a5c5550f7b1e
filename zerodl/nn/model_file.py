"""Model files: architecture and weights in ONE safetensors file (``model.save`` / ``zd.load_model``).

They live in ``nn``, next to the module configuration they store, so that ``zerodl.io`` (the
file format itself: safetensors, atomic writes, checkpoints) needs nothing but ``core``.

Layout: the tensors are ``model.state_dict()`` (parameters and buffers by dotted name, e.g.
``0.W``, ``0.b``); the header metadata holds (all str, JSON where structured)::

    "format":         "zerodl.model/1"
    "architecture":   JSON of nn.module_to_config(model)   ({"class": ..., "config": {...}})
    "zerodl_version": "0.1.0"
    <extra keys>      passed to save_model by keyword, JSON-encoded unless str, e.g.
                      "input_shape": "[null, 784]", "classes": "[\"0\", \"1\", ...]",
                      "compile": "{\"loss\": \"cross_entropy\", \"metrics\": [\"accuracy\"]}"

``load_model`` rebuilds the module with ``nn.module_from_config`` and loads the weights with
``load_state_dict(strict=True)``; the model comes back in eval mode. Loading never runs code
beyond the constructors of registered ``nn.Module`` classes named in the architecture.

A file written by a facade above ``nn`` (``zerodl.keras``) names it in ``"facade"``; its model
classes register when it is imported, so ``load_model`` imports it first -- only names from
``FACADES``, never a module a file makes up.
"""
import importlib
import json
import warnings

from .._version import __version__
from ..io.safetensors_io import load, load_metadata, save
from ._config import is_module, module_from_config, module_to_config

__all__ = ["save_model", "load_model", "read_model_metadata", "MODEL_FORMAT"]

MODEL_FORMAT = "zerodl.model/1"
_RESERVED = ("format", "architecture", "zerodl_version")
FACADES = ("zerodl.keras", "zerodl.tflearn")  # packages whose model classes a file may name


def save_model(model, path, metadata=None, **extra):
    """Write ``model``'s architecture and weights to ``path`` (safetensors, atomic).

    Keyword ``extra`` entries (``input_shape=``, ``classes=``, ``compile=`` ...) and the
    ``metadata`` dict are stored in the header, JSON-encoded unless they are str; read them
    back with ``zerodl.io.load_metadata(path)``, ``nn.read_model_metadata(path)`` or
    ``load_model(path, with_metadata=True)``.
    """
    if not is_module(model):
        raise TypeError(f"save_model: expected an nn.Module, got {type(model).__name__}")
    arch = module_to_config(model)
    meta = dict(metadata or {})
    meta.update(extra)
    for k in _RESERVED:
        if k in meta:
            raise ValueError(f"save_model: metadata key {k!r} is reserved")
    if "compile" not in meta:
        compiled = _compile_info(model)
        if compiled:
            meta["compile"] = compiled
    meta.update(
        {
            "format": MODEL_FORMAT,
            "architecture": json.dumps(arch),
            "zerodl_version": __version__,
        }
    )
    save(model.state_dict(), path, metadata=meta)
    return path


def _compile_info(model):
    """Loss / metric names recorded by ``model.compile`` when they are plain names (else None)."""
    info = getattr(model, "_compile_config", None)
    if isinstance(info, dict):
        try:
            json.dumps(info)
            return info
        except TypeError:
            return None
    return None


def load_model(path, with_metadata=False, compile=True):
    """Rebuild the model saved at ``path`` (architecture + weights), in eval mode.

    With ``with_metadata=True`` returns ``(model, metadata)`` (the header's str -> str dict).
    With ``compile`` (the default) a model saved with ``compile={"loss": ..., "metrics": ...}``
    metadata is compiled again (a warning, not an error, if that fails).
    """
    weights, meta = load(path, with_metadata=True)
    fmt = meta.get("format", "")
    if "architecture" not in meta or not fmt.startswith("zerodl.model/"):
        if fmt.startswith("zerodl.checkpoint/"):
            hint = "it is a training checkpoint: build the model and use zerodl.io.load_checkpoint(path, model)"
        else:
            hint = "it holds weights only: build the model and call model.load_state_dict(zd.load(path))"
        raise ValueError(f"{path}: not a zerodl model file (no architecture in its metadata); {hint}")
    if fmt != MODEL_FORMAT:
        raise ValueError(f"{path}: model format {fmt!r} is newer than this zerodl understands ({MODEL_FORMAT})")
    try:
        arch = json.loads(meta["architecture"])
    except ValueError as e:
        raise ValueError(f"{path}: the architecture metadata is not valid JSON ({e})") from None
    facade = meta.get("facade")
    if facade is not None:
        if facade not in FACADES:
            raise ValueError(f"{path}: unknown facade {facade!r} in the metadata (known: {', '.join(FACADES)})")
        importlib.import_module(facade)  # registers the facade's model classes
    model = module_from_config(arch)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: the weights do not fit the architecture:\n{e}") from None
    model.eval()
    if compile and "compile" in meta:
        try:
            cfg = json.loads(meta["compile"])
            if isinstance(cfg, dict):
                model.compile(**{k: v for k, v in cfg.items() if k in ("optimizer", "loss", "metrics")})
        except Exception as e:  # noqa: BLE001 - a model that cannot be compiled still predicts
            warnings.warn(f"load_model: {path}: could not compile the model again ({e})", stacklevel=2)
    return (model, meta) if with_metadata else model


def read_model_metadata(path):
    """The metadata of a model file, with JSON values decoded where possible."""
    out = {}
    for k, v in load_metadata(path).items():
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out
