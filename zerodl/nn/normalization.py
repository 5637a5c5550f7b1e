"""Batch and layer normalisation layers, over ``F.batch_norm`` / ``F.layer_norm`` (fused ops)."""
import numpy as np

from .. import functions as F
from ..core.backend import get_array_module
from ._checks import as_input, positive_int, shape_str
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    _ndim = 2
    _layout = "(N, C)"

    def __init__(self, num_features=None, eps=1e-5, momentum=0.1):
        super().__init__()
        name = type(self).__name__
        if num_features is not None:
            num_features = positive_int(num_features, "num_features (or None to infer it)", name)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1], got {momentum!r}")
        if eps <= 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        self.num_features = None
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.register_parameter("gamma", None)
        self.register_parameter("beta", None)
        self.register_buffer("running_mean", None)
        self.register_buffer("running_var", None)
        if num_features is not None:
            self._build(num_features, np)

    def _build(self, num_features, xp):
        self.num_features = num_features
        dt = self._dtype
        self.gamma = Parameter(xp.ones(num_features, dtype=dt), dtype=dt)
        self.beta = Parameter(xp.zeros(num_features, dtype=dt), dtype=dt)
        self.running_mean = xp.zeros(num_features, dtype=dt)
        self.running_var = xp.ones(num_features, dtype=dt)

    def _build_from_state(self, state, prefix):
        if self.gamma is None and prefix + "gamma" in state:
            self._build(int(np.shape(state[prefix + "gamma"])[0]), np)

    def _tag(self):
        return f"{type(self).__name__}({self.num_features if self.num_features is not None else '?'})"

    def forward(self, x):
        x = as_input(x)
        if x.ndim != self._ndim:
            raise ValueError(f"{self._tag()}: expected input of shape {self._layout}, got shape {shape_str(x.shape)}")
        if self.gamma is None:
            self._build(int(x.shape[1]), get_array_module(x))
        elif x.shape[1] != self.num_features:
            want = self._layout.replace("C", str(self.num_features))
            raise ValueError(
                f"{self._tag()}: expected {self.num_features} features, input of shape {want}, "
                f"got shape {shape_str(x.shape)}"
            )
        return F.batch_norm(
            x, self.gamma, self.beta, self.running_mean, self.running_var,
            self.training, momentum=self.momentum, eps=self.eps,
        )

    def get_config(self):
        if type(self).__init__ is not _BatchNorm.__init__:  # a subclass with its own arguments
            return super().get_config()
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over the batch axis of (N, C) input (the book's BatchNormalization).

    ``BatchNorm1d(num_features, eps=1e-5, momentum=0.1)``; ``num_features=None`` infers it.
    Training: normalise with the batch's mean and (biased) variance, then update
    ``running = (1 - momentum) * running + momentum * batch_stat`` in place (PyTorch's
    convention, the running variance from the unbiased batch variance). Evaluation
    (``model.eval()``): normalise with the running statistics.

    Parameters ``gamma`` (scale, ones) and ``beta`` (shift, zeros), shape (C,) - the book's
    names (PyTorch calls them ``weight`` / ``bias``). Buffers ``running_mean`` (zeros) and
    ``running_var`` (ones), shape (C,), saved in ``state_dict`` but not parameters.

    Shapes: input (N, C); output (N, C).
    """


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of (N, C, H, W) input (statistics over N, H and W).

    Same arguments, parameters (``gamma``, ``beta``) and buffers (``running_mean``,
    ``running_var``) as ``BatchNorm1d``.

    Shapes: input (N, C, H, W); output (N, C, H, W).
    """

    _ndim = 4
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the last axes of each sample (Ba et al. 2016; PyTorch's LayerNorm).

    ``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``:
    ``normalized_shape`` is an int (the feature axis) or a tuple of the trailing axes.
    ``y = (x - mean) / sqrt(var + eps) * gamma + beta``, mean and (biased) variance taken over
    those axes of each sample separately, in training and evaluation alike (no running stats).

    Parameters ``gamma`` (ones) and ``beta`` (zeros) of shape ``normalized_shape`` (PyTorch's
    ``weight`` / ``bias``, Keras's ``gamma`` / ``beta``); absent with ``elementwise_affine=False``
    (``beta`` also with ``bias=False``).

    Shapes: input (..., *normalized_shape), e.g. (N, T, D) with ``LayerNorm(D)``; output the same.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        dims = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not dims:
            raise ValueError("LayerNorm: normalized_shape must name at least one axis, got ()")
        self.normalized_shape = tuple(positive_int(d, "normalized_shape", "LayerNorm") for d in dims)
        if eps <= 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.use_bias = bool(bias) and self.elementwise_affine
        dt = self._dtype
        self.register_parameter("gamma", None)
        self.register_parameter("beta", None)
        if self.elementwise_affine:
            self.gamma = Parameter(np.ones(self.normalized_shape, dtype=dt), dtype=dt)
        if self.use_bias:
            self.beta = Parameter(np.zeros(self.normalized_shape, dtype=dt), dtype=dt)

    def forward(self, x):
        x = as_input(x)
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): expected input of shape (..., "
                f"{', '.join(map(str, self.normalized_shape))}), got shape {shape_str(x.shape)}"
            )
        return F.layer_norm(x, self.normalized_shape, self.gamma, self.beta, eps=self.eps)

    def get_config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.use_bias}

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
