"""The one table of optimizer names: ``compile(optimizer="adam")``, ``zerodl train --optimizer``
and ``zerodl.keras.optimizers.get("adam")`` all look names up here.

Two sets of defaults, one per face of zerodl:

- zerodl names (``compile``, the CLI): the ``zerodl.optim`` class of that name with its own
  defaults, which are PyTorch's (``SGD`` lr 1e-3, ``Adam``/``AdamW`` 1e-3 (AdamW weight decay
  1e-2), ``RMSprop`` 1e-2 with alpha 0.99, ``AdaGrad`` 1e-2; ``Momentum``, the book's, lr 0.01
  and momentum 0.9). ``create(name, params, lr=...)`` overrides any of them.
- Keras names (``zerodl.keras``): Keras 3's defaults, in Keras's argument names
  (``keras_defaults(name)``): ``SGD`` learning_rate 0.01, ``Adam`` 0.001 (epsilon 1e-7),
  ``AdamW`` 0.001 (weight_decay 0.004), ``RMSprop`` 0.001 (rho 0.9), ``Adagrad`` 0.001
  (initial_accumulator_value 0.1). The facade's optimizer classes have exactly these
  signature defaults (tests/test_optim_names.py checks it).
"""
from .adam import Adam, AdamW
from .adaptive import AdaGrad, RMSprop
from .sgd import SGD, Momentum

__all__ = ["OPTIMIZERS", "KERAS_DEFAULTS", "create", "resolve", "keras_defaults"]

# zerodl name -> class (its constructor's defaults are PyTorch's)
OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}

# Keras name -> Keras 3's defaults, in Keras's argument names
KERAS_DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "amsgrad": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}


def _unknown(name, known, where):
    prefix = f"{where}: " if where else ""
    return ValueError(f"{prefix}unknown optimizer {name!r}; choose one of {', '.join(known)}")


def resolve(name, where=None):
    """The ``zerodl.optim`` class for a zerodl name (case-insensitive), or a ValueError listing them."""
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise _unknown(name, OPTIMIZERS, where)
    return OPTIMIZERS[key]


def create(name, params, *, where=None, **overrides):
    """``resolve(name)(params, **overrides)``: PyTorch's defaults unless overridden. ``where``
    (``"compile"``) starts the error message for an unknown name."""
    return resolve(name, where)(params, **overrides)


def keras_defaults(name, where=None):
    """Keras 3's defaults for a Keras optimizer name (a copy), or a ValueError listing the names."""
    key = str(name).lower()
    if key not in KERAS_DEFAULTS:
        raise _unknown(name, KERAS_DEFAULTS, where)
    return dict(KERAS_DEFAULTS[key])
