"""Keras model and weight files, in zerodl's safe format (safetensors; never pickle).

``model.save("m.keras")`` (or ``.safetensors``) writes the architecture (Keras-like JSON) and
the weights in one file that ``keras.models.load_model``, ``zd.load_model`` and ``zerodl
summary/evaluate/predict`` open. HDF5 (``.h5``) is refused: it is not what zerodl writes.
``save_weights`` / ``load_weights`` hold the weights only (``.weights.h5`` is mapped to a
safetensors file with the name the script gave, since Keras 3 requires that suffix).
"""
import os

from .. import io as zio
from .. import nn

__all__ = ["save_model", "save_weights", "load_weights"]

_H5 = (".h5", ".hdf5")


def _check_model_path(path, where):
    path = os.fspath(path)
    low = path.lower()
    if low.endswith(_H5):
        raise ValueError(f"{where}: HDF5 (.h5) files are not supported by zerodl.keras; save to "
                         f"'{os.path.splitext(path)[0]}.keras' (zerodl's safe format, which "
                         "keras.models.load_model and the zerodl command read)")
    if not low.endswith((".keras", ".safetensors")):
        raise ValueError(f"{where}: the file name must end in .keras or .safetensors, got {path!r}")
    return path


def save_model(model, path, overwrite=True):
    path = _check_model_path(path, "model.save")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"model.save: {path} exists (overwrite=False)")
    extra = {"facade": "zerodl.keras"}  # nn.load_model imports zerodl.keras for files naming it
    inputs = getattr(model, "inputs", None)
    if inputs and len(inputs) == 1:
        extra["input_shape"] = list(inputs[0].shape)
    nn.save_model(model, path, **extra)


def save_weights(model, path):
    path = os.fspath(path)
    if path.lower().endswith(_H5) and not path.lower().endswith(".weights.h5"):
        raise ValueError(f"model.save_weights: HDF5 files are not supported; use a name ending in .weights.h5 "
                         f"(stored safely as safetensors) or .safetensors, got {path!r}")
    # by position, in get_weights() order, as Keras matches weights to layers (names may differ)
    arrays = {f"w{i:04d}": w for i, w in enumerate(model.get_weights())}
    zio.save(arrays, path, metadata={"format": "zerodl.keras.weights/1"})


def load_weights(model, path):
    state = zio.load(os.fspath(path))
    if all(k.startswith("w") and k[1:].isdigit() for k in state):
        model.set_weights([state[k] for k in sorted(state)])
    else:  # a zerodl model file or state dict: by name
        model.load_state_dict(state, strict=True)
