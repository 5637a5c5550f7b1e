"""How a module describes itself and is rebuilt: constructor recording, the class registry,
``module_to_config`` / ``module_from_config``.

Every ``Module`` subclass is registered by class name when it is defined (the latest
definition of a name wins), and its ``__init__`` is wrapped so that the outermost
constructor call records its arguments when they are JSON-able: that record is the default
``get_config()``. A model file (``nn.model_file``) stores ``module_to_config(model)`` and
rebuilds with ``module_from_config``, which only ever calls constructors of registered classes.
"""
import copy
import functools
import inspect

from ..core.jsonable import to_jsonable

__all__ = ["module_to_config", "module_from_config", "get_module_class"]

# Every Module subclass (and Module itself), by class name.
_REGISTRY = {}


def register(cls, record=True):
    """Register ``cls`` under its name and (``record``) make its constructor record its arguments."""
    _REGISTRY[cls.__name__] = cls
    init = cls.__dict__.get("__init__")
    if record and init is not None and not getattr(init, "_zerodl_records_config", False):
        cls.__init__ = _recording_init(init)
    return cls


def _record_arguments(sig, self, args, kwargs):
    """``(config, problem)``: the JSON-able call arguments, and why they are not enough (or None)."""
    try:
        bound = sig.bind(self, *args, **kwargs)
    except TypeError:
        return None, "the constructor was called with invalid arguments"
    bound.apply_defaults()
    config, problem = {}, None
    for i, (name, value) in enumerate(bound.arguments.items()):
        if i == 0:  # self
            continue
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                problem = f"it takes *{name}"
            continue
        items = value.items() if kind is inspect.Parameter.VAR_KEYWORD else ((name, value),)
        for k, v in items:
            try:
                config[k] = to_jsonable(v, strict=True)
            except TypeError:
                problem = f"argument {k}={v!r:.60} is not JSON-able"
    return config, problem


def _recording_init(init):
    sig = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_init_config") is None:  # the outermost constructor records
            d["_init_config"] = _record_arguments(sig, self, args, kwargs)
        init(self, *args, **kwargs)

    __init__._zerodl_records_config = True
    return __init__


def recorded_config(module):
    """The default ``get_config()``: the recorded constructor arguments (a deep copy)."""
    recorded = module.__dict__.get("_init_config")
    if recorded is None:
        return {}
    config, problem = recorded
    if problem is not None:
        raise TypeError(
            f"{type(module).__name__}.get_config: cannot describe this module by its constructor "
            f"arguments ({problem}); override get_config() and from_config()"
        )
    return copy.deepcopy(config)


def get_module_class(name):
    """The Module subclass registered under ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(
            f"unknown module class {name!r}: define or import it before loading (known: {known})"
        ) from None


def is_module(obj):
    """``isinstance(obj, nn.Module)``, without importing ``module.py`` (which imports this file)."""
    return isinstance(obj, _REGISTRY["Module"])


def module_to_config(module):
    """``{"class": name, "config": module.get_config()}`` (JSON-able)."""
    if not is_module(module):
        raise TypeError(f"module_to_config: expected an nn.Module, got {type(module).__name__}")
    return {"class": type(module).__name__, "config": module.get_config()}


def module_from_config(config):
    """Rebuild a module from ``module_to_config``'s dict (new, freshly initialised weights)."""
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"module_from_config: expected {{'class': name, 'config': {{...}}}}, got {config!r:.100}")
    cls = get_module_class(config["class"])
    return cls.from_config(dict(config.get("config") or {}))
