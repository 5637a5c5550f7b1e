"""``zerodl.io``: safe files. safetensors only (never pickle), every write atomic.

- ``save(state, path, metadata=None)`` / ``load(path, with_metadata=False)`` /
  ``load_metadata(path)``: flat dicts of arrays (``safetensors_io``).
- ``save_model(model, path, **extra)`` / ``load_model(path)``: architecture + weights
  (``model_file``).
- ``save_checkpoint(path, model, optimizer=None, epoch=None, extra=None)`` /
  ``load_checkpoint(path, model, optimizer=None)``: resumable training state (``checkpoint``).
- ``atomic_write(path, bytes | str | callback)`` / ``atomic_open(path, mode)``: the atomic
  writer everything above uses; callbacks, CSV logs and the CLI use it too (``atomic``).
"""
from .atomic import atomic_open, atomic_write
from .checkpoint import load_checkpoint, save_checkpoint
from .model_file import load_model, read_model_metadata, save_model
from .safetensors_io import load, load_metadata, save

__all__ = [
    "save",
    "load",
    "load_metadata",
    "save_model",
    "load_model",
    "read_model_metadata",
    "save_checkpoint",
    "load_checkpoint",
    "atomic_write",
    "atomic_open",
]
