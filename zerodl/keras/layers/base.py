"""The Keras ``Layer``: an ``nn.Module`` with Keras's naming, lazy ``build``, weights API, and
calls on symbolic ``KerasTensor``s (the functional API) or on real data.

A layer called on a ``KerasTensor`` records a ``Node`` (which layer, on which symbolic inputs)
and returns symbolic outputs whose shapes are found by running the layer once on zeros (batch
of 1, eval mode, no_grad; an unknown non-batch size is probed with two values and reported
as None). Keras layers are NOT entered in ``nn``'s class registry (Keras's ``LSTM`` would
shadow ``nn.LSTM``); they have their own, ``LAYERS``, by Keras class name.
"""
import re

import numpy as np

from ... import functions as F
from ... import nn
from ...core import Tensor
from ...core.backend import as_numpy
from ...nn._config import _recording_init
from .. import initializers

__all__ = ["Layer", "KerasTensor", "Node", "LAYERS", "unique_name", "clear_session", "ACTIVATIONS"]

LAYERS = {}  # Keras class name -> class (load_model rebuilds layers from it)
_NAME_COUNTS = {}


def _snake(name):
    """Keras's ``to_snake_case``: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, SimpleRNN -> simple_rnn."""
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base):
    """``dense``, then ``dense_1``, ``dense_2``... as Keras numbers layers (per session)."""
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session():
    """Reset the layer-name counters (``keras.backend.clear_session()``)."""
    _NAME_COUNTS.clear()


def _silu(x):
    return x * F.sigmoid(x)


def _softplus(x):  # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)
    return F.relu(x) + F.log(1 + F.exp(-(F.relu(x) + F.relu(-x))))


def _elu(x):
    return F.where(x.data > 0, x, F.exp(F.clip(x, -80.0, 0.0)) - 1)


def _hard_sigmoid(x):
    return F.clip(x / 6.0 + 0.5, 0.0, 1.0)


ACTIVATIONS = {
    None: None, "linear": None, "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "softmax": F.softmax, "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "gelu": F.gelu, "elu": _elu,
    "silu": _silu, "swish": _silu, "softplus": _softplus, "hard_sigmoid": _hard_sigmoid,
    "log_softmax": F.log_softmax, "relu6": lambda x: F.clip(x, 0.0, 6.0),
}


def get_activation(spec, where):
    """(name for configs, function or None) from a Keras activation name or callable."""
    if spec is None or spec == "linear":
        return "linear", None
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"{where}: unknown activation {spec!r}; choose one of "
                             f"{', '.join(k for k in ACTIVATIONS if k)}")
        return spec, ACTIVATIONS[spec]
    if callable(spec):
        return getattr(spec, "__name__", "custom"), spec
    raise TypeError(f"{where}: activation must be a name or a callable, got {type(spec).__name__}")


class KerasTensor:
    """A symbolic tensor: ``shape`` (with None for the batch), ``dtype``, and the node that made it."""

    def __init__(self, shape, dtype="float32", node=None, index=0, name=None):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = dtype
        self.node, self.index, self.name = node, index, name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a list), giving ``outputs`` (a list);
    ``nested`` says whether the layer was given a list (merge layers) or one tensor."""

    _created = 0

    def __init__(self, layer, inputs, outputs, nested, kwargs=None):
        self.layer, self.inputs, self.outputs, self.nested = layer, inputs, outputs, nested
        self.kwargs = kwargs or {}
        Node._created += 1
        self.serial = Node._created  # creation order: ties in depth keep it, as Keras's listing


def _flat(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _probe(shape, fill):
    return tuple(1 if i == 0 else (fill if s is None else s) for i, s in enumerate(shape))


class Layer(nn.Module):
    """Base of every Keras layer. Subclasses implement ``build(input_shape)`` (create weights
    with ``add_weight``) and ``call(inputs)``; ``input_shape`` includes the batch axis (None)."""

    _is_model = False

    def __init_subclass__(cls, **kwargs):
        if cls.__dict__.get("_is_model", False) or (cls._is_model and not cls.__module__.startswith("zerodl.keras")):
            super().__init_subclass__(**kwargs)  # models (and users' subclassed models) are nn modules by name
            return
        object.__init_subclass__(**kwargs)  # a Keras layer: not in nn's registry (LSTM would shadow nn.LSTM)
        LAYERS[cls.__name__] = cls
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_zerodl_records_config", False):
            cls.__init__ = _recording_init(init)

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None,
                 batch_input_shape=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {', '.join(sorted(kwargs))}")
        d = self.__dict__
        d["name"] = name or unique_name(_snake(type(self).__name__))
        d["trainable"] = bool(trainable)
        d["built"] = False
        d["_weight_names"] = []  # in Keras's get_weights() order
        d["_inbound_nodes"] = []
        d["_out_shape"] = None
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        d["_input_shape_arg"] = tuple(input_shape) if input_shape is not None else None

    # ----- weights --------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", trainable=True):
        arr = initializers.get(initializer)(shape, dtype=self._dtype)
        if trainable:
            setattr(self, name, nn.Parameter(arr))
        else:
            self.register_buffer(name, arr)
        self._weight_names.append(name)
        return getattr(self, name)

    def _weight_arrays(self, names=None):
        out = []
        for n in names if names is not None else self._weight_names:
            w = getattr(self, n)
            out.append(w.data if isinstance(w, Tensor) else w)
        return out

    @property
    def weights(self):
        return self._weight_arrays()

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for n, w in zip(self._weight_names, self.weights) if n in self._parameters]

    @property
    def non_trainable_weights(self):
        tw = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in tw]

    def get_weights(self):
        """Copies of the weights, in Keras's order (kernel, recurrent_kernel, bias; BatchNorm:
        gamma, beta, moving_mean, moving_variance)."""
        return [as_numpy(w).copy() for w in self.weights]

    def set_weights(self, weights):
        names = self._weight_names
        if len(weights) != len(names):
            raise ValueError(f"{self.name}.set_weights: expected {len(names)} arrays ({', '.join(names)}), "
                             f"got {len(weights)}")
        for n, w in zip(names, weights):
            cur = getattr(self, n)
            arr = cur.data if isinstance(cur, Tensor) else cur
            w = np.asarray(w)
            if w.shape != arr.shape:
                raise ValueError(f"{self.name}.set_weights: {n} must have shape {arr.shape}, got {w.shape}")
            arr[...] = w

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}.count_params: the layer is not built yet (call it on data or an Input)")
        return int(sum(np.prod(w.shape) for w in self.weights))

    def __setattr__(self, name, value):
        if name == "trainable":
            self.__dict__["trainable"] = bool(value)
            for p in self._parameters.values():
                if p is not None:
                    p.requires_grad = bool(value)
            for m in self.modules():
                if m is not self and isinstance(m, Layer):
                    m.trainable = value
            return
        super().__setattr__(name, value)

    # ----- building and calling -------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for ``input_shape`` (batch axis included). Default: none."""

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.__dict__["built"] = True
            if not self.trainable:
                self.trainable = False

    def call(self, inputs):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def forward(self, inputs, **kwargs):
        shape = [tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple)) else tuple(inputs.shape)
        self._maybe_build(shape)
        out = self.call(inputs, **kwargs)
        self.__dict__["_out_shape"] = _batchless(out)
        return out

    def __call__(self, inputs, *args, **kwargs):
        d = self.__dict__
        if type(inputs) is Tensor and d["built"] and d["_out_shape"] is not None and not self._is_model:
            return self.call(inputs, *args, **kwargs)  # the hot path: a built layer on a tensor
        flat = _flat(inputs)
        if any(isinstance(t, KerasTensor) for t in flat):
            return self._symbolic_call(inputs, flat, kwargs)
        if not isinstance(inputs, (list, tuple)) and not isinstance(inputs, Tensor):
            inputs = Tensor._wrap(np.asarray(inputs, dtype=self._dtype)) if not _is_int(inputs) else inputs
        return self.forward(inputs, *args, **kwargs)

    def _symbolic_call(self, inputs, flat, kwargs):
        if not all(isinstance(t, KerasTensor) for t in flat):
            raise TypeError(f"{self.name}: mix of symbolic (keras.Input) and real inputs")
        nested = isinstance(inputs, (list, tuple))
        shapes = [t.shape for t in flat]
        self._maybe_build(shapes if nested else shapes[0])
        out = self.compute_output_shape(shapes if nested else shapes[0], [t.dtype for t in flat])
        multi = isinstance(out, list)
        outs = [KerasTensor(s, "float32") for s in (out if multi else [out])]
        node = Node(self, flat, outs, nested, kwargs)
        for i, t in enumerate(outs):
            t.node, t.index, t.name = node, i, self.name
        self._inbound_nodes.append(node)
        self.__dict__["_out_shape"] = out
        return outs if multi else outs[0]

    def compute_output_shape(self, input_shape, dtypes=("float32",)):
        """Output shape(s) with None for the batch: by running the layer on zeros (see the module
        docstring). Layers whose output shape is cheap to state may override it."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        results = []
        for fill in ((2, 3) if any(None in s[1:] for s in shapes) else (2,)):
            arrays = [Tensor._wrap(np.zeros(_probe(s, fill), dtype=np.int64 if "int" in str(dt) else self._dtype))
                      for s, dt in zip(shapes, list(dtypes) + ["float32"] * len(shapes))]
            with self.switch_mode():
                out = self.call(arrays if isinstance(input_shape, list) else arrays[0])
            results.append([tuple(o.shape) for o in _flat(out)])
        merged = [tuple(None if i == 0 or (len(results) > 1 and results[1][k][i] != d) else d
                        for i, d in enumerate(s)) for k, s in enumerate(results[0])]
        return merged if isinstance(out, (list, tuple)) else merged[0]

    # ----- description ------------------------------------------------------------------------
    @property
    def output_shape(self):
        return self._out_shape

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        config["name"] = self.name
        if not self.trainable:
            config["trainable"] = False
        return config

    def extra_repr(self):
        return f"name={self.name!r}"


def _batchless(out):
    if isinstance(out, (list, tuple)):
        return [(None,) + tuple(o.shape[1:]) for o in out]
    return (None,) + tuple(out.shape[1:])


def _is_int(x):
    return np.issubdtype(np.asarray(x).dtype, np.integer)
