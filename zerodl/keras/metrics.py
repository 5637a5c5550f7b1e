"""``keras.metrics``: stateful metric objects (``update_state(y_true, y_pred)``, ``result()``,
``reset_state()``), means over samples, on NumPy arrays (predictions after the final
activation). ``"accuracy"`` resolves as Keras does, from the loss: sparse categorical,
categorical, binary (threshold 0.5) or exact equality."""
import numpy as np

from ..core import Tensor
from ..core.backend import as_numpy

__all__ = ["Metric", "Mean", "Accuracy", "SparseCategoricalAccuracy", "CategoricalAccuracy", "BinaryAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "TopKCategoricalAccuracy", "get"]


def _np(a):
    return as_numpy(a.data if isinstance(a, Tensor) else a)


class Metric:
    name = None
    needs_probs = True  # False: the same on logits as on softmax probabilities (argmax), so fit skips the softmax

    def __init__(self, name=None, dtype=None):
        self.name = name or self.name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0

    def values(self, y_true, y_pred):
        """Per-sample values (N,)."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        v = np.asarray(self.values(_np(y_true), _np(y_pred)), dtype=np.float64).reshape(len(_np(y_pred)), -1)
        self.total += float(v.mean(axis=1).sum())
        self.count += v.shape[0]

    def result(self):
        return self.total / self.count if self.count else 0.0

    def __call__(self, y_true, y_pred):
        m = type(self)()
        m.update_state(y_true, y_pred)
        return m.result()


def _labels(y_true, y_pred):
    t = y_true
    if t.ndim == y_pred.ndim and t.shape[-1] == 1 and y_pred.shape[-1] != 1:
        t = t[..., 0]
    return t.astype(np.int64)


class SparseCategoricalAccuracy(Metric):
    name = "sparse_categorical_accuracy"
    needs_probs = False

    def values(self, y_true, y_pred):
        return y_pred.argmax(axis=-1) == _labels(y_true, y_pred)


class CategoricalAccuracy(Metric):
    name = "categorical_accuracy"
    needs_probs = False

    def values(self, y_true, y_pred):
        return y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)


class BinaryAccuracy(Metric):
    name = "binary_accuracy"

    def __init__(self, name=None, dtype=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        return (y_pred > self.threshold) == (y_true.reshape(y_pred.shape) > 0.5)


class TopKCategoricalAccuracy(Metric):
    """1 when the true class (one-hot targets) is among the ``k`` highest predictions."""

    name = "top_k_categorical_accuracy"
    needs_probs = False

    def __init__(self, k=5, name=None, dtype=None):
        self.k = int(k)
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        top = np.argsort(-y_pred, axis=-1)[..., :self.k]
        return (top == y_true.argmax(axis=-1)[..., None]).any(axis=-1)


class Accuracy(Metric):
    name = "accuracy"

    def values(self, y_true, y_pred):
        return y_pred == y_true.reshape(y_pred.shape)


class MeanSquaredError(Metric):
    name = "mean_squared_error"

    def values(self, y_true, y_pred):
        return (y_pred - y_true.reshape(y_pred.shape)) ** 2


class MeanAbsoluteError(Metric):
    name = "mean_absolute_error"

    def values(self, y_true, y_pred):
        return np.abs(y_pred - y_true.reshape(y_pred.shape))


class RootMeanSquaredError(MeanSquaredError):
    name = "root_mean_squared_error"

    def result(self):
        return float(np.sqrt(super().result()))


class Mean(Metric):
    """The running mean of the values given to ``update_state(values)``."""

    name = "mean"

    def update_state(self, values, sample_weight=None):
        v = np.asarray(_np(values), dtype=np.float64).reshape(-1)
        self.total += float(v.sum())
        self.count += v.size


_NAMES = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy, "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "root_mean_squared_error": RootMeanSquaredError,
    "rmse": RootMeanSquaredError, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
}
_ACCURACY_FOR_LOSS = {
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy, "categorical_crossentropy": CategoricalAccuracy,
    "binary_crossentropy": BinaryAccuracy,
}


def get(spec, loss=None):
    """A fresh Metric from a name (``"accuracy"``/``"acc"`` chosen by the loss), a Metric
    (copied, so each output has its own state) or a class; the log name is the name as given."""
    if isinstance(spec, TopKCategoricalAccuracy):
        return TopKCategoricalAccuracy(k=spec.k, name=spec.name)
    if isinstance(spec, Metric):
        return type(spec)(name=spec.name)
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if isinstance(spec, str):
        if spec in ("accuracy", "acc"):
            cls = _ACCURACY_FOR_LOSS.get(getattr(type(loss), "name", None), None)
            if cls is None:
                cls = BinaryAccuracy if getattr(loss, "head", None) == "sigmoid" else Accuracy
            return cls(name=spec)
        cls = _NAMES.get(spec) or next((c for c in _NAMES.values() if c.__name__ == spec), None)
        if cls is None:
            raise ValueError(f"unknown metric {spec!r}; choose one of accuracy, {', '.join(sorted(_NAMES))}")
        return cls(name=spec)
    if callable(spec):
        return _FunctionMetric(spec)
    raise TypeError(f"metric must be a name, a keras.metrics.Metric or a function, got {type(spec).__name__}")


class _FunctionMetric(Metric):
    def __init__(self, fn, name=None):
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def values(self, y_true, y_pred):
        out = self.fn(y_true, y_pred)
        return _np(out) * np.ones(len(y_pred))

    def __call__(self, y_true, y_pred):
        return self.fn(y_true, y_pred)
