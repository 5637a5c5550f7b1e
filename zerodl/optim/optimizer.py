"""``Optimizer``: the base class. Parameters, param groups, per-parameter state, state_dict.

Subclasses implement ``_step_group(group)``, which updates ``p.data`` IN PLACE from ``p.grad``
for every parameter of one group (skipping those whose ``grad`` is None or whose
``requires_grad`` is False). The update never writes into ``p.grad`` (a gradient array may be
shared by several tensors, or be a read-only broadcast view); scratch space comes from
``self._buffer(like)``, one reusable array per (shape, dtype), so a step allocates nothing
once the state exists. State arrays have the parameter's dtype (float32 stays float32).

state_dict format (flat, so ``zd.save`` / checkpoints store it directly)
-----------------------------------------------------------------------
``opt.state_dict()`` returns a flat ``dict[str, ndarray | str]``::

    {
      "optimizer": '<JSON string>',         # see below
      "state.<i>.<name>": ndarray,          # per-parameter arrays, e.g. state.0.exp_avg
      ...
    }

``<i>`` is the parameter's position in the flattened parameter list (group 0's parameters
first, in order, then group 1's ...), as PyTorch's integer ids. The JSON string holds every
scalar::

    {"format": "zerodl.optim/1", "class": "Adam",
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, 2, 3]}],
     "state": {"0": {"step": 12}, "1": {"step": 12}, ...}}   # non-array per-parameter state

Array names follow PyTorch: ``momentum_buffer`` (SGD), ``v`` (Momentum), ``sum`` (AdaGrad),
``square_avg`` / ``momentum_buffer`` / ``grad_avg`` (RMSprop), ``exp_avg`` / ``exp_avg_sq`` /
``max_exp_avg_sq`` (Adam, AdamW). ``load_state_dict`` accepts that dict (also with
"optimizer" already parsed into a dict), checks the class and the parameter counts and shapes,
and copies the arrays into the parameters' dtype and array module: the next ``step()`` is
then bit-for-bit the one the saved optimizer would have taken.
"""
import json
import math
import numbers

import numpy as np

from ..core.backend import as_numpy, get_array_module, is_array
from ..core.config import enable_grad
from ..core.tensor import Tensor

_FORMAT = "zerodl.optim/1"


class _Required:
    def __repr__(self):
        return "<required>"


required = _Required()


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if is_array(o):
        return as_numpy(o).tolist()
    raise TypeError(f"optimizer state_dict: value {o!r} of type {type(o).__name__} is not JSON-able")


class Optimizer:
    """Base class of the optimizers: ``step()``, ``zero_grad()``, ``state_dict()``, ``.lr``.

    ``params`` is an iterable of Tensors/Parameters, of ``(name, param)`` pairs (as
    ``model.named_parameters()`` gives), or of param-group dicts
    (``[{"params": [...], "lr": 0.1}, {"params": [...]}]``); a group's missing
    hyper-parameters take the constructor's values.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}  # param -> dict of its state (arrays and scalars), created on first step
        self._scratch = {}
        name = type(self).__name__
        if isinstance(params, Tensor) or is_array(params):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors (for example model.parameters()), "
                "got a single tensor; wrap it in a list"
            )
        if isinstance(params, dict):  # one group, or {name: param} (dict(model.named_parameters()))
            params = [params] if "params" in params else list(params.values())
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    # ----- parameter groups -------------------------------------------------------------
    @property
    def param_groups(self):
        """The list of groups, each a dict with ``params`` and its hyper-parameters (live: setting
        ``group["lr"]`` changes that group's rate). Assigning a new list re-checks every group;
        the state of the parameters still present is kept."""
        return self._param_groups

    @param_groups.setter
    def param_groups(self, groups):
        old = getattr(self, "_param_groups", None)
        self._param_groups = []
        try:
            for g in groups:
                self.add_param_group(g)
        except Exception:
            self._param_groups = old
            raise
        kept = {id(p) for g in self._param_groups for p in g["params"]}
        self.state = {p: st for p, st in getattr(self, "state", {}).items() if id(p) in kept}

    def add_param_group(self, group):
        name = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a param group must be a dict with a 'params' entry, got {type(group).__name__}")
        group = dict(group)
        if "params" not in group:
            raise ValueError(f"{name}: param group {sorted(group)} has no 'params' entry")
        ps = group["params"]
        if isinstance(ps, Tensor):
            ps = [ps]
        elif isinstance(ps, dict):
            ps = list(ps.values())
        ps = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in ps]
        for p in ps:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be zerodl Tensors/Parameters, got {type(p).__name__}")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimise floating tensors, got one of dtype {p.data.dtype}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in ps}) != len(ps) or any(id(p) in seen for p in ps):
            raise ValueError(f"{name}: a parameter appears more than once (in one group or in two groups)")
        group["params"] = ps
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"{name}: param group does not give the required hyper-parameter {k!r}")
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate hyper-parameters (subclasses extend)."""
        name = type(self).__name__
        lr = group.get("lr")
        if not isinstance(lr, (int, float, np.floating, np.integer)) or isinstance(lr, bool) or not lr >= 0:
            raise ValueError(f"{name}: invalid learning rate {lr!r} (must be a number >= 0)")
        group["lr"] = float(lr)
        if "weight_decay" in group:
            self._check_nonnegative(group, "weight_decay")

    def _check_nonnegative(self, group, *keys):
        """A ValueError naming the optimizer, the key and the value unless each ``group[key]`` is a number >= 0."""
        for k in keys:
            v = group[k]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0:
                raise ValueError(f"{type(self).__name__}: invalid {k} {v!r} (must be a number >= 0)")

    def _with_weight_decay(self, g, d, wd):
        """``g + wd * d`` (the gradient of the L2 penalty added) in a scratch buffer; ``g`` if wd is 0."""
        if not wd:
            return g
        buf = self._buffer(d, 1)
        np.multiply(d, wd, out=buf)
        buf += g
        return buf

    # ----- learning rate ----------------------------------------------------------------
    @property
    def lr(self):
        """The learning rate of the first group; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        value = float(value)
        if not value >= 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {value!r}")
        for g in self.param_groups:
            g["lr"] = value

    # ----- the step ----------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) re-computes and
        returns the loss (with gradients enabled), as in PyTorch; its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError

    @staticmethod
    def _updates(group):
        """``(param, grad, data)`` for each parameter of ``group`` to update: it has a gradient
        and is not frozen (``requires_grad=False`` leaves a parameter alone)."""
        for p in group["params"]:
            g = p.grad
            if g is not None and p.requires_grad:
                yield p, g, p.data

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``grad = None``; with ``set_to_none=False``, zero them)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = get_array_module(p.grad).zeros_like(p.grad)

    def _buffer(self, like, slot=0):
        """A scratch array shaped like ``like`` (reused between parameters and steps)."""
        key = (like.shape, like.dtype, type(like), slot)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = get_array_module(like).empty(like.shape, like.dtype)
        return buf

    # ----- state_dict ---------------------------------------------------------------------
    def _flat_params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        """A flat dict of the optimizer's state: see the module docstring for the format."""
        index = {id(p): i for i, p in enumerate(self._flat_params())}
        groups, start = [], 0
        for g in self.param_groups:
            entry = {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items() if k != "params"}
            entry["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(entry)
        out = {}
        scalars = {}
        for p, st in self.state.items():
            i = index.get(id(p))
            if i is None:
                continue
            for k, v in st.items():
                if is_array(v):
                    out[f"state.{i}.{k}"] = v.copy()
                else:
                    scalars.setdefault(str(i), {})[k] = v
        head = {"format": _FORMAT, "class": type(self).__name__, "param_groups": groups, "state": scalars}
        return {"optimizer": json.dumps(head, default=_json_default), **out}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` (from this process or from a file through ``zd.load``)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "optimizer" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected the dict made by Optimizer.state_dict() "
                "(it has an 'optimizer' entry holding JSON)"
            )
        head = state_dict["optimizer"]
        if is_array(head):  # a str stored as a 0-d array by some other container
            head = str(as_numpy(head).item())
        if isinstance(head, (str, bytes)):
            try:
                head = json.loads(head)
            except ValueError as e:
                raise ValueError(f"{name}.load_state_dict: the 'optimizer' entry is not valid JSON ({e})") from None
        if not isinstance(head, dict) or not str(head.get("format", "")).startswith("zerodl.optim/"):
            raise ValueError(f"{name}.load_state_dict: the 'optimizer' entry is not a zerodl optimizer state")
        if head.get("class") != name:
            raise ValueError(f"{name}.load_state_dict: the state was saved by a {head.get('class')} optimizer")
        saved_groups = head["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        for i, (sg, g) in enumerate(zip(saved_groups, self.param_groups)):
            if len(sg["params"]) != len(g["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: param group {i} holds {len(sg['params'])} parameters in the "
                    f"state but {len(g['params'])} in this optimizer"
                )
        params = {}
        for sg, g in zip(saved_groups, self.param_groups):
            for idx, p in zip(sg["params"], g["params"]):
                params[int(idx)] = p

        new_state = {}
        for key, value in state_dict.items():
            if key == "optimizer":
                continue
            parts = key.split(".", 2)
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise ValueError(f"{name}.load_state_dict: unexpected entry {key!r}")
            i, field = int(parts[1]), parts[2]
            if i not in params:
                raise ValueError(f"{name}.load_state_dict: entry {key!r} names parameter {i}, which does not exist")
            p = params[i]
            value = getattr(value, "data", value) if isinstance(value, Tensor) else value
            arr = np.asarray(as_numpy(value))
            if arr.shape != p.data.shape and arr.ndim:
                raise ValueError(
                    f"{name}.load_state_dict: {key!r} has shape {arr.shape} but parameter {i} has shape {p.data.shape}"
                )
            xp = get_array_module(p.data)
            new_state.setdefault(p, {})[field] = xp.array(arr, dtype=p.data.dtype, copy=True)
        for i, scal in head.get("state", {}).items():
            i = int(i)
            if i not in params:
                raise ValueError(f"{name}.load_state_dict: the state names parameter {i}, which does not exist")
            new_state.setdefault(params[i], {}).update(scal)

        for sg, g in zip(saved_groups, self.param_groups):
            for k, v in sg.items():
                if k != "params":
                    g[k] = tuple(v) if isinstance(v, list) else v
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def zeros_like(a):
    """Zeros shaped and typed like ``a``, on ``a``'s array module (NumPy or CuPy)."""
    return np.zeros_like(a) if type(a) is np.ndarray else get_array_module(a).zeros_like(a)


def _bias_corrections(beta1, beta2, step):
    """``1 - beta1**t`` and ``sqrt(1 - beta2**t)`` (plain Python floats)."""
    return 1.0 - beta1**step, math.sqrt(1.0 - beta2**step)
