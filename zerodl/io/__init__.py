"""``zerodl.io``: safe files. safetensors only (never pickle), every write atomic.

- ``save(state, path, metadata=None)`` / ``load(path, with_metadata=False)`` /
  ``load_metadata(path)``: flat dicts of arrays (``safetensors_io``).
- ``save_checkpoint(path, model, optimizer=None, epoch=None, extra=None)`` /
  ``load_checkpoint(path, model, optimizer=None)``: resumable training state (``checkpoint``).
- ``atomic_write(path, bytes | str | callback)`` / ``atomic_open(path, mode)``: the atomic
  writer everything above uses; callbacks, CSV logs and the CLI use it too (``atomic``).

``io`` needs only ``core`` (see docs/architecture.md): model files, which store an ``nn``
architecture, are ``zerodl.nn.save_model`` / ``zerodl.nn.load_model`` (``zd.load_model``).
"""
from .atomic import atomic_open, atomic_write
from .checkpoint import load_checkpoint, save_checkpoint
from .safetensors_io import load, load_metadata, save

__all__ = [
    "save",
    "load",
    "load_metadata",
    "save_checkpoint",
    "load_checkpoint",
    "atomic_write",
    "atomic_open",
]



def __getattr__(name):
    # No import here: only a pointer for code written before model files moved.
    if name in ("save_model", "load_model", "read_model_metadata"):
        raise AttributeError(f"zerodl.io.{name} moved to zerodl.nn.{name} (a model file stores an nn "
                             "architecture; zerodl.io needs only zerodl.core)")
    raise AttributeError(f"module 'zerodl.io' has no attribute {name!r}")
