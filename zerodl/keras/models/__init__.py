"""``keras.models``: Model, Sequential, load_model."""
import os

from ... import nn as _nn
from ..saving import _check_model_path
from .functional import Functional
from .model import Model
from .sequential import KerasSequential, Sequential

__all__ = ["Model", "Sequential", "Functional", "KerasSequential", "load_model"]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 - Keras's name
    """A model saved by ``model.save`` (a ``.keras`` / ``.safetensors`` zerodl model file)."""
    path = _check_model_path(os.fspath(filepath), "keras.models.load_model")
    model = _nn.load_model(path, compile=compile)
    if not isinstance(model, Model):
        raise ValueError(f"keras.models.load_model: {path} holds a zerodl nn model ({type(model).__name__}), "
                         "not a Keras one; open it with zd.load_model")
    return model
