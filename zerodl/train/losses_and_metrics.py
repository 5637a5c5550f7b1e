"""Names given to ``compile(loss=..., metrics=[...])`` resolved to functions.

A loss is called on the model's training output (a Tensor) and the targets (a Tensor) and
returns a scalar Tensor; the order is ``loss(y_pred, y_true)`` as in ``zerodl.functions``
(``F.mean_squared_error(y, t)``), not Keras's ``(y_true, y_pred)``.

``head`` says which final activation a loss is fused with: ``"softmax"`` for the cross
entropies (``F.softmax_cross_entropy`` on logits), ``"sigmoid"`` for the binary cross entropy
(``F.binary_cross_entropy_with_logits``). When the model ends with that activation (``nn.Softmax``
/ ``nn.Sigmoid``, which is what Keras's ``Dense(..., activation="softmax")`` expands to), the fit
loop runs the model without it and feeds the logits to the fused loss (Keras's ``from_logits``),
which is both faster and numerically stable; ``predict`` still runs the whole model.

Metrics are computed on raw arrays of the same forward output (no second pass) and return
the batch mean as a Python float; the fit loop weights them by the batch size.
"""
import numpy as np

from .. import functions as F
from ..core import Tensor
from ..core.backend import get_array_module

__all__ = ["Loss", "Metric", "resolve_loss", "resolve_metric", "LOSS_NAMES", "METRIC_NAMES"]

# name -> canonical loss
LOSS_NAMES = {
    "cross_entropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "softmax_cross_entropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "sparse_categorical_cross_entropy": "cross_entropy",
    "ce": "cross_entropy",
    "mse": "mse",
    "mean_squared_error": "mse",
    "mae": "mae",
    "mean_absolute_error": "mae",
    "bce": "bce",
    "binary_crossentropy": "bce",
    "binary_cross_entropy": "bce",
    "binary_cross_entropy_with_logits": "bce",
}

# name -> canonical metric
METRIC_NAMES = {
    "accuracy": "accuracy",
    "acc": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "mae": "mae",
    "mean_absolute_error": "mae",
    "mse": "mse",
    "mean_squared_error": "mse",
    "rmse": "rmse",
    "root_mean_squared_error": "rmse",
}


class Loss:
    """A resolved loss: ``name`` (canonical or the callable's name), ``fn(y_pred, y_true)``,
    ``head`` (the final activation it fuses: ``"softmax"``, ``"sigmoid"`` or None) and
    ``kind`` (``"cross_entropy"``, ``"bce"``, ``"mse"``, ``"mae"`` or ``"custom"``)."""

    __slots__ = ("name", "fn", "head", "kind")

    def __init__(self, name, fn, head, kind):
        self.name, self.fn, self.head, self.kind = name, fn, head, kind

    @property
    def float_targets(self):
        """Whether targets should be floating (regression and binary losses)."""
        return self.kind in ("bce", "mse", "mae")

    def __repr__(self):
        return f"Loss({self.name!r}, head={self.head!r})"


def _match_target(p, t):
    """``t`` of shape (N,) against ``p`` of shape (N, 1): reshape (Keras does the same)."""
    if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
        return t.reshape(p.shape)
    return t


def _as_pred_dtype(p, t):
    td = t.data
    if td.dtype != p.data.dtype:
        t = Tensor._wrap(td.astype(p.data.dtype))
    return t


def resolve_loss(loss):
    """``compile``'s ``loss`` argument -> :class:`Loss` (None stays None: no training)."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        kind = LOSS_NAMES.get(loss.lower())
        if kind is None:
            raise ValueError(
                f"compile: unknown loss {loss!r}; choose one of {sorted(set(LOSS_NAMES))} "
                "or pass a callable loss(y_pred, y_true) -> scalar Tensor"
            )
        if kind == "cross_entropy":
            return Loss(kind, F.softmax_cross_entropy, "softmax", kind)
        if kind == "bce":
            f = F.binary_cross_entropy_with_logits

            def bce(p, t):
                return f(p, _as_pred_dtype(p, _match_target(p, t)))

            return Loss(kind, bce, "sigmoid", kind)
        f = F.mean_squared_error if kind == "mse" else F.mean_absolute_error

        def regression(p, t):
            return f(p, _as_pred_dtype(p, _match_target(p, t)))

        regression.__name__ = kind
        return Loss(kind, regression, None, kind)
    if callable(loss):
        name = getattr(loss, "__name__", type(loss).__name__)
        return Loss(name, loss, None, "custom")
    raise TypeError(f"compile: loss must be a name or a callable, got {type(loss).__name__}")


# ----------------------------------------------------------------------------- metrics
def _softmax(z):
    return F.softmax(Tensor._wrap(z)).data


def _sigmoid(z):
    return F.sigmoid(Tensor._wrap(z)).data


def _xp(a):
    return np if type(a) is np.ndarray else get_array_module(a)


FINAL_ACTIVATIONS = {"softmax": _softmax, "sigmoid": _sigmoid}


def _dense_target(p, t):
    """Targets comparable element-wise with predictions ``p`` (class indices -> one-hot)."""
    if t.ndim == p.ndim - 1:
        if p.shape[-1] == 1:
            return t.reshape(p.shape)
        if t.dtype.kind in "iub":
            xp = _xp(t)
            return xp.eye(p.shape[-1], dtype=p.dtype)[t]
    return t


class Metric:
    """A resolved metric: ``name`` (the key in the logs, as given), ``fn(y_pred, y_true) -> float``
    on raw arrays, and ``needs_probs`` (computed on probabilities, i.e. after the final
    activation that the fit loop strips for a fused loss)."""

    __slots__ = ("name", "fn", "needs_probs")

    def __init__(self, name, fn, needs_probs):
        self.name, self.fn, self.needs_probs = name, fn, needs_probs

    def __repr__(self):
        return f"Metric({self.name!r})"


def _make_accuracy(logits_threshold):
    thr = 0.0 if logits_threshold else 0.5

    def accuracy(p, t):
        xp = _xp(p)
        if p.ndim >= 2 and p.shape[-1] > 1:  # categorical: argmax over classes
            pred = p.argmax(axis=-1)
            if t.ndim == p.ndim and t.shape[-1] == p.shape[-1]:  # one-hot (or probabilities) targets
                t = t.argmax(axis=-1)
            elif t.shape != pred.shape and t.size == pred.size:  # (N, 1) labels
                t = t.reshape(pred.shape)
            hits = pred == t
        else:  # binary: one output per sample
            hits = (p.reshape(-1) > thr) == (t.reshape(-1) > 0.5)
        return int(xp.count_nonzero(hits)) / hits.size

    return accuracy


def _mae(p, t):
    t = _dense_target(p, t)
    return float(abs(p - t).mean())


def _mse(p, t):
    t = _dense_target(p, t)
    d = p - t
    return float((d * d).mean())


def _rmse(p, t):
    return _mse(p, t) ** 0.5


def resolve_metric(metric, loss):
    """``compile``'s metric entry -> :class:`Metric`.

    ``loss`` (a :class:`Loss` or None) says whether outputs are logits: with ``"bce"`` the
    binary accuracy thresholds the logits at 0 (probability 0.5); otherwise at 0.5.
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        kind = METRIC_NAMES.get(metric.lower())
        if kind is None:
            raise ValueError(
                f"compile: unknown metric {metric!r}; choose one of {sorted(set(METRIC_NAMES))} "
                "or pass a callable metric(y_pred, y_true) -> float"
            )
        if kind == "accuracy":
            logits = loss is not None and loss.kind == "bce"
            return Metric(metric, _make_accuracy(logits), False)
        fn = {"mae": _mae, "mse": _mse, "rmse": _rmse}[kind]
        return Metric(metric, fn, True)
    if callable(metric):
        name = getattr(metric, "__name__", type(metric).__name__)

        def custom(p, t, _f=metric):
            v = _f(p, t)
            return float(v.data if isinstance(v, Tensor) else v)

        return Metric(name, custom, True)
    raise TypeError(f"compile: a metric must be a name or a callable, got {type(metric).__name__}")
