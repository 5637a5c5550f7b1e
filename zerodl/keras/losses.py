"""``keras.losses``: Keras 3's loss classes and functions, ``loss(y_true, y_pred) -> scalar``.

Cross entropies on probabilities (``from_logits=False``, Keras's default) clip them to
[1e-7, 1 - 1e-7] as Keras does; when the model's output layer ends in the matching softmax /
sigmoid, ``fit`` hands the loss the logits instead (``head``) and uses zerodl's fused, stable
op, which has the same value. Sparse labels may be float or shaped (N, 1), as in Keras.
"""
import numpy as np

from .. import functions as F
from ..core import Tensor

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Huber", "get", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error",
           "mse", "mae"]

EPS = 1e-7


def _arr(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _as_target(y_true, y_pred):
    """Targets shaped as the predictions ((N,) against (N, 1) and back), float."""
    t = _arr(y_true).astype(_arr(y_pred).dtype, copy=False)
    if t.shape != tuple(y_pred.shape) and t.size == int(np.prod(y_pred.shape)):
        t = t.reshape(y_pred.shape)
    return t


class Loss:
    """Base: ``__call__(y_true, y_pred)``; ``head`` is the final activation whose logits the
    fused form takes (None: none), ``compute(y_pred, y_true, logits)`` the value."""

    head = None
    name = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in ("sum_over_batch_size", "mean", "auto", None):
            raise ValueError(f"{type(self).__name__}: only reduction='sum_over_batch_size' is supported")
        self.name = name or self.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not isinstance(y_pred, Tensor):
            y_pred = Tensor._wrap(np.asarray(y_pred, dtype=np.float32))
        return self.compute(y_pred, y_true, logits=False)

    def get_config(self):
        return {"name": self.name}


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, name=None, **kwargs):
        super().__init__(name, **kwargs)
        self.from_logits, self.ignore_class = from_logits, ignore_class
        self.head = None if from_logits else "softmax"

    def compute(self, y_pred, y_true, logits=False):
        t = _arr(y_true)
        C = y_pred.shape[-1]
        if t.ndim == y_pred.ndim and t.shape[-1] == 1:
            t = t.reshape(t.shape[:-1])
        if t.shape != tuple(y_pred.shape[:-1]):
            raise ValueError(f"{self.name}: labels of shape {_arr(y_true).shape} do not fit predictions of shape "
                             f"{tuple(y_pred.shape)} (expected {tuple(y_pred.shape[:-1])} or that with a trailing 1)")
        if not np.issubdtype(t.dtype, np.integer):
            if np.any(t != np.round(t)):
                raise ValueError(f"{self.name}: labels must be whole class numbers, got non-integer values")
            t = t.astype(np.int64)
        if y_pred.ndim != 2:
            y_pred, t = y_pred.reshape(-1, C), t.reshape(-1)
        if self.from_logits or logits:
            return F.softmax_cross_entropy(y_pred, t, ignore_index=self.ignore_class)
        onehot = np.eye(C, dtype=_arr(y_pred).dtype)[t]
        return _prob_ce(y_pred, onehot)


def _prob_ce(p, onehot):
    return -(F.log(F.clip(p, EPS, 1 - EPS)) * onehot).sum() / p.shape[0]


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None, **kwargs):
        super().__init__(name, **kwargs)
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)
        self.head = None if from_logits else "softmax"

    def compute(self, y_pred, y_true, logits=False):
        t = _as_target(y_true, y_pred)
        if t.shape != tuple(y_pred.shape):
            raise ValueError(f"{self.name}: targets of shape {t.shape} do not fit predictions of shape "
                             f"{tuple(y_pred.shape)} (one-hot targets; use SparseCategoricalCrossentropy for labels)")
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / t.shape[-1]
        C = y_pred.shape[-1]
        if y_pred.ndim != 2:
            y_pred, t = y_pred.reshape(-1, C), t.reshape(-1, C)
        if self.from_logits or logits:
            return F.softmax_cross_entropy(y_pred, t)
        return _prob_ce(y_pred, t)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None, **kwargs):
        super().__init__(name, **kwargs)
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)
        self.head = None if from_logits else "sigmoid"

    def compute(self, y_pred, y_true, logits=False):
        t = _as_target(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits or logits:
            return F.binary_cross_entropy_with_logits(y_pred, t)
        p = F.clip(y_pred, EPS, 1 - EPS)
        return -(F.log(p) * t + F.log(1 - p) * (1 - t)).mean()


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def compute(self, y_pred, y_true, logits=False):
        return F.mean_squared_error(y_pred, _as_target(y_true, y_pred))


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def compute(self, y_pred, y_true, logits=False):
        return F.mean_absolute_error(y_pred, _as_target(y_true, y_pred))


class Huber(Loss):
    name = "huber_loss"

    def __init__(self, delta=1.0, name=None, **kwargs):
        super().__init__(name, **kwargs)
        self.delta = float(delta)

    def compute(self, y_pred, y_true, logits=False):
        d = y_pred - _as_target(y_true, y_pred)
        a = F.where(_arr(d) > 0, d, -d)
        q = F.clip(a, 0.0, self.delta)
        return (0.5 * q * q + self.delta * (a - q)).mean()


class _Function(Loss):
    """A user's ``fn(y_true, y_pred) -> Tensor`` (its mean is the loss)."""

    def __init__(self, fn):
        super().__init__(getattr(fn, "__name__", "loss"))
        self.fn = fn

    def compute(self, y_pred, y_true, logits=False):
        out = self.fn(Tensor._wrap(_as_target(y_true, y_pred)), y_pred)
        return out.mean() if isinstance(out, Tensor) and out.ndim else out


_NAMES = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError, "huber": Huber, "huber_loss": Huber,
}


def get(spec):
    """A Loss from Keras's name (or class name), a Loss, a Loss class, or ``fn(y_true, y_pred)``."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, type) and issubclass(spec, Loss):
        return spec()
    if isinstance(spec, str):
        cls = _NAMES.get(spec) or next((c for c in _NAMES.values() if c.__name__ == spec), None)
        if cls is None:
            raise ValueError(f"unknown loss {spec!r}; choose one of {', '.join(sorted(_NAMES))}")
        return cls()
    fn = next((c for n, c in _NAMES.items() if globals().get(n) is spec), None)
    if fn is not None:
        return fn()
    if callable(spec):
        return _Function(spec)
    raise TypeError(f"loss must be a name, a keras.losses.Loss or a function, got {type(spec).__name__}")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return CategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return BinaryCrossentropy(from_logits=from_logits)(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError()(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError()(y_true, y_pred)


mse, mae = mean_squared_error, mean_absolute_error
