"""``keras.Model``: the base of Sequential, the functional ``Model(inputs, outputs)`` (which
``Model(...)`` returns when given inputs and outputs) and subclassed models (``call()``).

A model is a Keras ``Layer`` and an ``nn.Module``; its layers are registered sub-modules under
their Keras names, so ``state_dict`` keys read ``dense_1.kernel``. Training (``compile`` /
``fit`` / ``evaluate`` / ``predict``) comes from ``training.Trainer``; ``summary`` prints
Keras's table and returns None.
"""
import inspect

import numpy as np

from ... import nn
from ...core import Tensor
from ..layers.base import Layer, _snake, unique_name
from ..layers.core import InputLayer
from .. import saving
from . import summary as _summary
from .training import Trainer

__all__ = ["Model"]


class Model(Trainer, Layer):
    _is_model = True
    keras_class = "Model"

    functional_class = None  # set by functional.py: Model(inputs, outputs) makes one

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            return Layer.__new__(Model.functional_class)
        return Layer.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        super().__init__(trainable=trainable, name=name or unique_name(_snake(type(self).__name__)))
        self.__dict__["_zk"] = None  # compile state (training.Trainer)
        self.__dict__["stop_training"] = False
        self.__dict__["optimizer"] = None
        self.__dict__["history"] = None

    # ----- calling (subclassed models) -------------------------------------------------------
    def forward(self, inputs, training=None, **kwargs):
        if "training" in inspect.signature(self.call).parameters:
            kwargs["training"] = self.training if training is None else training
        if not self.built and isinstance(inputs, Tensor):  # for the file: rebuild by one call of this shape
            self.__dict__["_build_shape"] = [None] + [int(s) for s in inputs.shape[1:]]
        self.__dict__["built"] = True
        out = self.call(inputs, **kwargs)
        self.__dict__["_out_shape"] = (None,) + tuple(out.shape[1:]) if isinstance(out, Tensor) else None
        return out

    def _call_outputs(self, xs, logits_for=()):
        """Training/inference entry: inputs as a list, outputs as a list (see Functional)."""
        out = self(xs[0] if len(xs) == 1 else xs)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    @property
    def output_names(self):
        return ["output"]

    # ----- layers and weights ----------------------------------------------------------------
    @property
    def layers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"{self.name}.get_layer: index {index} out of range ({len(layers)} layers)")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[la.name for la in layers]}.")

    def _all_layers(self):
        """Every leaf Keras layer, in order (nested models expanded)."""
        out = []
        for layer in self.layers:
            out.extend(layer._all_layers() if isinstance(layer, Model) else [layer])
        return out

    @property
    def weights(self):
        return [w for layer in self._all_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._all_layers() for w in layer.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for layer in self._all_layers() for w in (layer.non_trainable_weights if self.trainable
                                                              else layer.weights)]

    def get_weights(self):
        return [np.array(w, copy=True) if not isinstance(w, Tensor) else w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Keras's ``get_weights()`` list (e.g. from real Keras, saved with ``numpy.savez``)."""
        weights = list(weights)
        need = sum(len(layer._weight_names) for layer in self._all_layers())
        if len(weights) != need:
            raise ValueError(f"{self.name}.set_weights: the model has {need} weight arrays, got {len(weights)}")
        i = 0
        for layer in self._all_layers():
            n = len(layer._weight_names)
            layer.set_weights(weights[i:i + n])
            i += n

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}.count_params: the model is not built yet; call it on data, or give "
                             "its first layer an input shape (keras.Input(shape=...))")
        return int(sum(np.prod(np.shape(w)) for w in self.weights))

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None, input_shape=None):
        """Print the table Keras prints (layer names and types, output shapes with None for the
        batch, parameter counts, totals). Returns None, as Keras. (``input_shape``: zerodl's
        summary argument, used by ``zerodl summary``; it builds an unbuilt Sequential.)"""
        if input_shape is not None and not self.built and hasattr(self, "build"):
            self.build((None,) + tuple(input_shape))
        _summary.print_summary(self, print_fn or print)

    def get_config(self):
        """A subclassed model: the arguments its constructor was called with (JSON-able), and
        the input shape of its first call (``from_config`` calls it once so the layers exist)."""
        config = nn.Module.get_config(self)
        if self.__dict__.get("_build_shape"):
            config["build_input_shape"] = self._build_shape
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        shape = config.pop("build_input_shape", None)
        model = cls(**config)
        if shape is not None:
            with model.switch_mode():
                model(np.zeros([1 if d is None else d for d in shape], dtype=model._dtype))
        return model

    # ----- files ------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, **kwargs):
        """zerodl's safe model file (``.keras`` or ``.safetensors``; ``.h5`` is refused)."""
        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        saving.save_weights(self, filepath)

    def load_weights(self, filepath):
        saving.load_weights(self, filepath)


def input_layers_of(model):
    return [m for m in model.layers if isinstance(m, InputLayer)]
