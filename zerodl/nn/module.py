"""``Module``: the bookkeeping every layer and model shares.

Attributes that are ``Parameter``s or ``Module``s are registered, in the order they are set;
``register_buffer`` adds arrays that are state but not learnable (BatchNorm's running stats).
Beside it, not in it: how a module describes itself and is rebuilt (``nn._config``: constructor
recording, the class registry), model files (``nn.model_file``: ``Module.save``), layer
argument checks (``nn._checks``). The Keras-style training methods (``compile``, ``fit``,
``evaluate``, ``predict``, ``summary``) are installed on ``Module`` by ``zerodl.train``, which
``import zerodl`` (and so ``import zerodl.nn``) always loads.
"""
import contextlib

import numpy as np

from ..core import Tensor, enable_grad, get_default_dtype, no_grad
from ..core.backend import as_numpy, get_array_module, is_array
from . import _config, _copying
from ._checks import IncompatibleKeys, check_state_keys
from ._config import get_module_class, module_from_config, module_to_config
from ._device import move_module
# Old private names that modules of nn still import from here:
from ._checks import as_input as _as_input, positive_int as _positive_int, shape_str as _shape_str  # noqa: F401,E501
from .model_file import save_model
from .parameter import Parameter

__all__ = ["Module", "module_to_config", "module_from_config", "get_module_class"]


def _indent(text, n=2):
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * n + line for line in lines[1:]])




class Module:
    """Base class of layers and models.

    Subclass it, create parameters and sub-modules in ``__init__`` and compute in ``forward``::

        class MLP(nn.Module):
            def __init__(self, hidden=100, classes=10):
                super().__init__()
                self.fc1 = nn.Linear(hidden)          # in_features inferred at the first call
                self.fc2 = nn.Linear(hidden, classes)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

    ``named_parameters()`` then yields ``fc1.W, fc1.b, fc2.W, fc2.b`` in that order.
    The constructor's arguments are recorded automatically (when JSON-able), so
    ``nn.module_from_config(nn.module_to_config(m))`` rebuilds ``MLP(hidden=100, classes=10)``.

    Lazy layers (``Linear(out_features)``, ``Conv2d(None, ...)``, ``BatchNorm1d()``) create
    their parameters at the first call: an optimizer made before then does not see them.
    Call ``model.build(input_shape)`` (a dry forward pass) or run one batch first.
    """

    training = True
    stop_training = False  # set by callbacks to end ``fit``
    copy = _copying.copy_module  # ``model.copy()``: independent weights, no grads (EMA, target nets)

    def __new__(cls, *args, **kwargs):
        # Registries exist before __init__, so a subclass that forgets super().__init__() works.
        self = object.__new__(cls)
        d = self.__dict__
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_modules"] = {}
        d["_init_config"] = None
        d["_dtype"] = get_default_dtype()
        d["training"] = True
        return self

    def __init__(self):
        pass

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _config.register(cls)

    # ----- registration ------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        params, modules, buffers = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params or name in modules:
            registry, kind, cls = (params, "a parameter", "nn.Parameter") if name in params else (
                modules, "a sub-module", "nn.Module")
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is {kind}: assign an {cls} (or None), "
                    f"not {type(value).__name__}"
                )
            registry[name] = None
        elif name in buffers:
            if value is not None and not is_array(value):
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)  # plain attribute (class properties work)
            return
        d[name] = value

    def __delattr__(self, name):
        d = self.__dict__
        for registry in (d["_parameters"], d["_modules"], d["_buffers"]):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def _register(self, registry, name, value):
        d = self.__dict__
        for other in ("_parameters", "_buffers", "_modules"):
            if other != registry:
                d[other].pop(name, None)
        d[registry][name] = value
        d[name] = value

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None to reserve the name and its place)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: expected an nn.Parameter or None, got {type(param).__name__}")
        self._register("_parameters", name, param)

    def register_buffer(self, name, array):
        """Register state that is saved in ``state_dict`` but is not a parameter (an ndarray or None)."""
        if array is not None and not is_array(array):
            array = array.data if isinstance(array, Tensor) else np.asarray(array)
        self._register("_buffers", name, array)

    def add_module(self, name, module):
        """Register ``module`` under ``name`` (``setattr`` does the same for valid identifiers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: expected an nn.Module or None, got {type(module).__name__}")
        self._register("_modules", name, module)

    # ----- traversal ---------------------------------------------------------------------
    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix=""):
        """``(dotted name, module)`` for this module (name ``prefix``) and all below it, once each."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{n}" if name else n, c) for n, c in m.named_children()]
            stack.extend(reversed(kids))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """``(dotted name, Parameter)`` in registration order, e.g. ``'0.W'``, ``'fc1.b'``.

        A parameter shared by two modules is yielded once.
        """
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for n, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{n}" if mname else n), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for n, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{n}" if mname else n), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ----- modes, gradients, dtypes --------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``mode=False``: evaluation) here and in every sub-module."""
        self.training = bool(mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout passes through, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self):
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag=True, *, requires_grad=None):
        """Freeze (False) or unfreeze every parameter (``requires_grad=`` as PyTorch spells it).
        Optimizers skip frozen parameters. Returns ``self``."""
        flag = flag if requires_grad is None else requires_grad
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def to(self, dtype_or_device):
        """Convert parameters and (floating) buffers in place; returns ``self``.

        ``model.to(np.float64)`` (also ``.double()``, ``.float()``), ``model.to("cpu")`` (a no-op
        on NumPy data) or ``model.to("cuda")`` (CuPy; a clear error when CuPy or a GPU is
        missing). Parameters keep their identity, so an optimizer made earlier still holds them.
        Lazy layers materialise later parameters in the new dtype.
        """
        return move_module(self, dtype_or_device)

    def cuda(self, device=None):
        """``self.to("cuda")`` (CuPy's current GPU)."""
        return move_module(self, "cuda", "Module.cuda")

    def cpu(self):
        """``self.to("cpu")``."""
        return move_module(self, "cpu", "Module.cpu")

    def double(self):
        """``self.to(np.float64)`` (gradient checks)."""
        return self.to(np.float64)

    def float(self):
        """``self.to(np.float32)``."""
        return self.to(np.float32)

    # ----- state ---------------------------------------------------------------------------
    def _named_state(self, prefix=""):
        # Parameters then buffers of each module, depth first, every name (shared ones too).
        for n, p in self._parameters.items():
            if p is not None:
                yield f"{prefix}{n}", self, "p", n, p.data
        for n, b in self._buffers.items():
            if b is not None:
                yield f"{prefix}{n}", self, "b", n, b
        for n, m in self._modules.items():
            if m is not None:
                yield from m._named_state(f"{prefix}{n}.")

    def state_dict(self):
        """A flat ``{dotted name: ndarray}`` of parameters and buffers (e.g. ``'0.W'``).

        As in PyTorch the arrays are the module's own (no copy): later training changes them.
        Copy them (``{k: v.copy() for k, v in sd.items()}``) to keep a snapshot.
        """
        return {name: arr for name, _, _, _, arr in self._named_state()}

    def load_state_dict(self, d, strict=True):
        """Copy the arrays of ``d`` (a state_dict) into this module's parameters and buffers, in place.

        Values are cast to each parameter's dtype. Shapes must match. With ``strict`` (the
        default) the keys must match exactly; a ``RuntimeError`` lists every missing,
        unexpected and mis-shaped key, and nothing is changed. Returns
        ``(missing_keys, unexpected_keys)``. Lazy layers not built yet take their sizes from
        the incoming arrays.
        """
        if not hasattr(d, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got {type(d).__name__}")
        state = {k: (v.data if isinstance(v, Tensor) else v) for k, v in d.items()}
        for name, m in self.named_modules():
            m._build_from_state(state, f"{name}." if name else "")
        own = {name: (m, kind, attr, arr) for name, m, kind, attr, arr in self._named_state()}
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        check_state_keys(type(self).__name__, {k: v[3].shape for k, v in own.items()}, state, strict)
        for k, (m, kind, attr, arr) in own.items():
            if k not in state:
                continue
            xp = get_array_module(arr)
            arr[...] = as_numpy(state[k]) if xp is np else xp.asarray(state[k])
        return IncompatibleKeys(missing, unexpected)

    def _build_from_state(self, state, prefix):
        """Lazy layers override this to create their parameters from incoming shapes."""

    # ----- serialisation protocol ------------------------------------------------------------
    def get_config(self):
        """JSON-able constructor arguments; by default those the constructor was called with.

        Override (with ``from_config``) for modules whose arguments are not JSON-able.
        """
        return _config.recorded_config(self)

    @classmethod
    def from_config(cls, config):
        """Build a module from ``get_config()``'s dict (default: ``cls(**config)``)."""
        return cls(**config)

    # ----- calling -----------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _input_dtype(self):
        """dtype of the dummy input ``build`` feeds (None: the parameters' floating dtype)."""
        return None

    @contextlib.contextmanager
    def switch_mode(self, training=False, grad=False):
        """Every module set to ``training`` (default: eval) and graph recording set to ``grad``
        (default: off) inside the block; on exit each module gets back its OWN mode (a
        sub-module left in eval stays in eval, unlike ``model.train(was)``). The one mechanism
        for a dry forward: ``build``, ``summary``, ``fit`` (its lazy build, and the whole loop),
        ``evaluate`` and ``predict`` use it."""
        modes = [(m, m.training) for m in self.modules()]
        for m, _ in modes:
            m.training = training
        try:
            with enable_grad() if grad else no_grad():
                yield self
        finally:
            for m, mode in modes:
                m.training = mode

    def _dry_input(self, input_shape, dtype=None):
        """Zeros of ``input_shape`` (None counts as 1), in the input's dtype, on the model's device."""
        shape = tuple(1 if s is None else int(s) for s in input_shape)
        dtype = dtype or self._input_dtype() or self._dtype
        first = next(self.parameters(), None)
        xp = get_array_module(first.data) if first is not None else np
        return Tensor._wrap(xp.zeros(shape, dtype=dtype))

    def build(self, input_shape, dtype=None):
        """Materialise lazy parameters with one dummy forward pass (under ``switch_mode()``).

        ``input_shape`` includes the batch dimension, as in Keras (``None`` entries count as
        1): ``model.build((None, 784))`` or ``model.build((1, 1, 28, 28))``. Returns ``self``.
        """
        x = self._dry_input(input_shape, dtype)
        with self.switch_mode():
            self(x)
        return self

    # ----- printing ------------------------------------------------------------------------------
    def extra_repr(self):
        """The text between the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        kids = [f"({n}): {_indent(repr(m))}" for n, m in self.named_children()]
        if not kids:
            return f"{type(self).__name__}({extra})"
        lines = (extra.split("\n") if extra else []) + kids
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    # ----- files ---------------------------------------------------------------------------------
    def save(self, path, **extra):
        """Architecture (JSON metadata) and weights in one safetensors file (``zd.load_model``)."""
        return save_model(self, path, **extra)


_config.register(Module, record=False)
