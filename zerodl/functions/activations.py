"""Activations: step, sigmoid, tanh, relu, leaky_relu, gelu, softmax, log_softmax, identity.

Each op saves what its backward needs (usually the output ``y``, which the graph holds
anyway, so saving it costs no memory) and never upcasts float32 to float64.
"""
import math

import numpy as np

from ..core import Function, Tensor, as_tensor, get_array_module
from ._util import array as _array, fast_module, floating as _floating, over_batch, sigmoid as _sigmoid
from ._util import softmax_rows as _softmax_rows
from .shape import _axis_arg

__all__ = ["step", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softmax", "log_softmax", "identity"]


def _check_axis(op, x, axis):
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an input of shape {tuple(x.shape)}")


class Sigmoid(Function):
    """``y = 1 / (1 + exp(-x))`` (stable: see ``_sigmoid``). Backward ``gx = gy * y * (1 - y)``."""

    def forward(self, x):
        self.y = _sigmoid(_floating(x))
        return self.y

    def backward(self, gy):
        y = self.y
        g = 1 - y
        g *= y
        g *= gy
        return g


class Tanh(Function):
    """``y = tanh(x)``; backward ``gx = gy * (1 - y**2)``."""

    def forward(self, x):
        self.y = _array(get_array_module(x).tanh(_floating(x)))
        return self.y

    def backward(self, gy):
        g = _array(self.y * self.y)
        get_array_module(g).subtract(1, g, out=g)
        g *= gy
        return g


def _flat_kernels(*arrays):
    """``_fast_pointwise`` when an element-wise kernel may run on these arrays: NumPy float
    arrays of one dtype laid out alike, C-contiguous or channels-last images, so that every
    batch slice of each is one flat run in memory (``ravel(order="K")``, a view)."""
    a = arrays[0]
    if not (a.ndim and type(a) is np.ndarray and a.dtype in (np.float32, np.float64)
            and all(type(b) is np.ndarray and b.dtype == a.dtype and b.strides == a.strides for b in arrays)
            and (a.flags.c_contiguous or (a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous))):
        return None
    return fast_module("functions._fast_pointwise")


def _flat(a, s):
    """The batch slice ``s`` of an array _flat_kernels accepted, as a flat view."""
    return a[s].ravel(order="K")


class ReLU(Function):
    """``y = max(x, 0)``. The book's picture: a switch that passes the gradient where x > 0
    and blocks it elsewhere; the switch (mask) is ``y > 0``, read from the saved output.
    """

    def forward(self, x):
        xp = get_array_module(x)
        # NumPy's maximum against a scalar runs a slow (non-SIMD) loop; a zero sample
        # broadcast over the batch axis is small and fast (docs/benchmarks.md).
        # (zeros_like keeps x's memory layout, so a channels-last x gives a channels-last y)
        if x.ndim < 2 or x.dtype.kind != "f":
            self.y = _array(xp.maximum(x, 0))
            return self.y
        zero = xp.zeros_like(x[0])
        y = self.y = xp.empty_like(x)
        over_batch(lambda s: xp.maximum(x[s], zero, out=y[s]), x)
        return y

    def backward(self, gy):
        # bool -> float cast, then an in-place float product: faster than ``gy * mask``,
        # whose mixed-dtype loop casts in small buffers.
        y = self.y
        if y.ndim < 2:
            g = _array((y > 0).astype(gy.dtype))
            g *= gy
            return g
        g = get_array_module(gy).empty_like(y, dtype=gy.dtype)
        fast = _flat_kernels(y, gy, g)
        if fast is not None:  # one pass: see _fast_pointwise
            over_batch(lambda s: fast.relu_grad(_flat(y, s), _flat(gy, s), _flat(g, s)), y)
            return g

        def piece(s):
            xp = get_array_module(y)
            xp.greater(y[s], 0, out=g[s], casting="unsafe")
            g[s] *= gy[s]

        over_batch(piece, y)
        return g


class LeakyReLU(Function):
    """``y = x`` for x > 0, ``slope * x`` otherwise; backward ``gy`` or ``slope * gy``.

    For the usual 0 <= slope <= 1 both directions are mask-free (``max(x, slope * x)`` and
    ``gy * max(x > 0, slope)``), faster than ``where`` on random signs (docs/benchmarks.md).
    """

    def __init__(self, slope=0.01):
        self.slope = float(slope)  # a Python float: a NumPy float64 would upcast float32 input

    def forward(self, x):
        xp = get_array_module(x)
        x = _floating(x)
        self.x = x
        y = np.empty_like(x) if type(x) is np.ndarray else None  # x's layout (channels-last stays so)
        fast = _flat_kernels(x, y) if y is not None else None
        if fast is not None:  # one pass, on the batch's pieces: see _fast_pointwise
            over_batch(lambda s: fast.leaky_relu(_flat(x, s), self.slope, _flat(y, s)), x)
            return y
        y = _array(x * self.slope)
        if 0 <= self.slope <= 1:
            return xp.maximum(x, y, out=y)
        return xp.where(x > 0, x, y)

    def backward(self, gy):
        xp = get_array_module(gy)
        s = self.slope
        x = self.x
        gx = np.empty_like(x, dtype=gy.dtype) if type(x) is np.ndarray else None
        fast = _flat_kernels(x, gy, gx) if gx is not None else None
        if fast is not None:
            over_batch(lambda p: fast.leaky_relu_grad(_flat(x, p), _flat(gy, p), s, _flat(gx, p)), x)
            return gx
        if not 0 <= s <= 1:
            return xp.where(self.x > 0, gy, gy * s)
        g = _array((self.x > 0).astype(gy.dtype))
        xp.maximum(g, s, out=g)  # 1 where x > 0, else slope
        g *= gy
        return g


# ---- erf / erfc / the normal CDF, vectorised (NumPy has no erf) ----------------------------
# erfc(a) for a >= 0 is exp(-a^2) * Y(t) / (1 + 2a) with t = (a - K) / (a + K): Y is smooth on
# the whole of [0, inf) -> t in [-1, 1), and is a short Chebyshev series (the method of
# M. M. Shepherd and J. G. Laframboise, Math. Comp. 36 (1981) 249-253). The coefficients below
# were computed for zerodl with mpmath (50 digits) from 64-point Chebyshev interpolation of
# Y(t) = (1 + 2a) exp(a^2) erfc(a); the series is cut where terms fall below 3e-18, so the
# relative error of erfc is a few ulps in float64 (tests compare with math.erf / math.erfc).
# float32 uses the first 14 terms (truncation < 1e-9, below float32's resolution).
_K = 3.75
_ERFC_CHEB = (
    1.1775789345674017, -0.004590054580646478, -0.08424913336651792, 0.05920993999819189,
    -0.026658668435305753, 0.009074997670705265, -0.002413163540417608, 0.0004907758365258086,
    -6.916973302501207e-05, 4.13902798607301e-06, 7.74038306619849e-07, -2.1886401049234397e-07,
    1.076499946567091e-08, 4.521959811218287e-09, -7.754400208831351e-10, -6.318088340886684e-11,
    2.86879501093067e-11, 1.9455868545777347e-13, -9.65469674843344e-13, 3.25254814814874e-14,
    3.3478119482868056e-14, -1.864562880419313e-15, -1.2507950530688648e-15, 7.418235256624044e-17,
    5.068148904796111e-17, -2.2370566594359995e-18,
)
def _erfc_nonneg(a):
    """erfc(a) for an array ``a >= 0`` (float32 or float64; inf gives 0).

    Written with ``out=`` and three rotating buffers: five allocations in all, since on a
    small VM every fresh large array costs page faults.
    """
    xp = get_array_module(a)
    coef = _ERFC_CHEB if a.dtype.itemsize >= 8 else _ERFC_CHEB[:14]
    t = _array(a + _K)
    xp.divide(-2 * _K, t, out=t)
    t += 1  # t = (a - K) / (a + K), in [-1, 1]; 1 at a = inf
    t2 = _array(t + t)
    b0, b1, b2 = xp.empty_like(a), xp.zeros_like(a), xp.zeros_like(a)
    for c in coef[:0:-1]:  # Clenshaw recurrence: b_k = c_k + 2t b_{k+1} - b_{k+2}
        xp.multiply(t2, b1, out=b0)
        b0 -= b2
        b0 += c
        b0, b1, b2 = b2, b0, b1
    y = xp.multiply(t, b1, out=b0)
    y -= b2
    y += coef[0]  # Y(t)
    e = xp.multiply(a, a, out=t2)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    y *= e
    d = xp.multiply(a, 2, out=t)
    d += 1
    y /= d
    return y


def _normal_cdf(x):
    """Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt(2)) / 2, accurate in both tails."""
    xp = get_array_module(x)
    a = _array(xp.abs(x))
    a *= math.sqrt(0.5)
    r = _erfc_nonneg(a)
    r *= 0.5  # Phi(-|x|), in (0, 0.5]
    # Phi(x) = r for x <= 0 and 1 - r for x > 0: arithmetic with the 0/1 mask, faster than
    # masked assignment on random signs (docs/benchmarks.md).
    phi = xp.multiply(r, -2, out=a)
    phi += 1
    phi *= x > 0
    phi += r
    return phi


class GELU(Function):
    """Gaussian error linear unit, the exact form (PyTorch's default):
    ``y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))``;
    backward ``gx = gy * (Phi(x) + x * exp(-x**2 / 2) / sqrt(2 pi))``.
    """

    def forward(self, x):
        x = _floating(x)
        self.x = x
        self.phi = _normal_cdf(x)
        return _array(x * self.phi)

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        g = _array(x * x)
        g *= -0.5
        xp.exp(g, out=g)
        g *= x
        g *= 1 / math.sqrt(2 * math.pi)
        g += self.phi
        g *= gy
        return g


class Softmax(Function):
    """``y = exp(x - max) / sum(exp(x - max))`` along ``axis`` (stable for any logits).

    Backward: ``gx = y * (gy - sum(gy * y))``.
    """

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        _check_axis("softmax", x, self.axis)
        xp = get_array_module(x)
        if x.ndim and self.axis in (-1, x.ndim - 1):  # rows: in cache-sized blocks, on the pool
            x = _floating(x)
            y = self.y = _softmax_rows(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]))[0].reshape(x.shape)
            return y
        y = x - x.max(axis=self.axis, keepdims=True)
        y = _floating(y)
        xp.exp(y, out=y)
        y /= y.sum(axis=self.axis, keepdims=True)
        self.y = y
        return y

    def backward(self, gy):
        y = self.y
        gx = y * gy
        gx -= y * gx.sum(axis=self.axis, keepdims=True)
        return gx


class LogSoftmax(Function):
    """``y = x - max - log(sum(exp(x - max)))`` along ``axis``.

    Backward: ``gx = gy - exp(y) * sum(gy)``.
    """

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        _check_axis("log_softmax", x, self.axis)
        xp = get_array_module(x)
        y = _floating(x - x.max(axis=self.axis, keepdims=True))
        y -= xp.log(xp.exp(y).sum(axis=self.axis, keepdims=True))
        self.y = y
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def step(x):
    """The perceptron's step function: 1 where x > 0, else 0, in x's dtype. Not differentiable."""
    x = as_tensor(x)
    return Tensor._wrap(_array((x.data > 0).astype(x.data.dtype)))


def sigmoid(x):
    """``1 / (1 + exp(-x))`` element-wise, without overflow; any shape -> the same shape."""
    return Sigmoid()(x)


def tanh(x):
    """Hyperbolic tangent element-wise; any shape -> the same shape."""
    return Tanh()(x)


def relu(x):
    """``max(x, 0)`` element-wise; any shape -> the same shape."""
    return ReLU()(x)


def leaky_relu(x, slope=0.01):
    """``x`` where x > 0, else ``slope * x``; any shape -> the same shape."""
    return LeakyReLU(slope)(x)


def gelu(x):
    """Exact GELU, ``x * Phi(x)`` with Phi the standard normal CDF (no tanh approximation)."""
    return GELU()(x)


def softmax(x, axis=-1, *, dim=None):
    """Softmax along ``axis`` (PyTorch's ``dim``; stable for any logits); any shape -> the same shape."""
    return Softmax(_axis_arg("softmax", axis, dim, -1))(x)


def log_softmax(x, axis=-1, *, dim=None):
    """``log(softmax(x))`` along ``axis`` (PyTorch's ``dim``), computed stably; any shape -> the same shape."""
    return LogSoftmax(_axis_arg("log_softmax", axis, dim, -1))(x)


def identity(x):
    """Returns ``x`` itself (as a Tensor): the output layer of a regression network."""
    return as_tensor(x)
