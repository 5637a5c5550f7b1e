"""``keras.Sequential``: a stack of layers, given as a list or with ``add``.

With an input shape (``keras.Input(shape=...)`` first, an ``InputLayer``, or ``input_shape=``
on the first layer) the layers are built at once and ``summary()`` works before ``fit``;
otherwise they are built at the first call, from the data.
"""
from ...core import Tensor
from ..layers.base import KerasTensor, Layer, unique_name
from ..layers.core import Input, InputLayer
from .functional import layer_from_config
from .model import Model

__all__ = ["Sequential", "KerasSequential"]


class KerasSequential(Model):
    """Exported as ``Sequential``. (The Python class is named ``KerasSequential`` because
    zerodl's module registry goes by class name and ``Sequential`` is ``nn.Sequential`` there.)"""

    _is_model = True
    keras_class = "Sequential"

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name or unique_name("sequential"), trainable=trainable)
        self.__dict__["_stack"] = []
        self.__dict__["_input"] = None  # symbolic input once the input shape is known
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            if layer.node is None or not isinstance(layer.node.layer, InputLayer):
                raise TypeError("Sequential.add: a tensor can only be added as the model's keras.Input")
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input is not None:
                raise ValueError("Sequential.add: an Input / InputLayer must come first")
            self.__dict__["_input"] = layer.output
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a keras layer, got {type(layer).__name__}")
        if layer.name in self._modules:
            raise ValueError(f"Sequential.add: a layer named {layer.name!r} is already in the model")
        if not self._stack and self._input is None and layer._input_shape_arg is not None:
            self.__dict__["_input"] = Input(shape=layer._input_shape_arg)
        self._stack.append(layer)
        self.add_module(layer.name, layer)
        if self._input is not None:
            self._trace()

    def pop(self):
        layer = self._stack.pop()
        del self._modules[layer.name]
        self.__dict__.pop(layer.name, None)
        return layer

    def _trace(self):
        """Symbolic pass from the input: builds the new layers and records output shapes."""
        x = self._input
        for layer in self._stack:
            x = layer(x)
        self.built = True
        self._out_shape = x.shape

    def _build_from(self, x):
        if self._input is None:
            shape = tuple(x.shape[1:])
            self.__dict__["_input"] = Input(shape=shape, dtype="int64" if "int" in str(x.dtype) else None)
            self._trace()

    def build(self, input_shape=None):
        if input_shape is not None and self._input is None:
            self.__dict__["_input"] = Input(shape=tuple(input_shape)[1:])
            self._trace()
        return self

    @property
    def layers(self):
        return list(self._stack)

    @property
    def inputs(self):
        return [self._input] if self._input is not None else None

    def call(self, x, training=None):
        for layer in self._stack:
            x = layer(x)
        return x

    def forward(self, x, training=None, **kwargs):
        if not self.built:
            self._build_from(x if isinstance(x, Tensor) else Tensor._wrap(x))
        for layer in self._stack:
            x = layer(x)
        return x

    def _call_outputs(self, xs, logits_for=()):
        x = xs[0]
        if not self.built:
            self._build_from(x)
        last = len(self._stack) - 1
        for i, layer in enumerate(self._stack):
            x = layer.pre_activation(x) if (i == last and logits_for) else layer(x)
        return [x]

    def fusable_outputs(self, heads):
        last = self._stack[-1] if self._stack else None
        ok = last is not None and heads[0] and getattr(last, "activation", None) == heads[0] \
            and hasattr(last, "pre_activation")
        return [0] if ok else []

    def get_config(self):
        layers = [{"class_name": type(la).__name__, "config": la.get_config()} for la in self._stack]
        shape = list(self._input.shape[1:]) if self._input is not None else None
        dtype = self._input.dtype if self._input is not None else None
        return {"name": self.name, "layers": layers, "input_shape": shape, "input_dtype": dtype}

    @classmethod
    def from_config(cls, config):
        model = cls(name=config.get("name"))
        if config.get("input_shape") is not None:
            model.add(Input(shape=tuple(config["input_shape"]), dtype=config.get("input_dtype")))
        for spec in config["layers"]:
            model.add(layer_from_config(spec))
        return model


Sequential = KerasSequential
