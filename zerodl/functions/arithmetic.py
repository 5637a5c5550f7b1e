"""Arithmetic ops. Add passes the gradient through; Mul swaps its inputs (the book's picture).

Broadcasting is undone in backward with ``sum_to``.
"""
from ..core import Function, get_array_module
from ._util import sum_to


def _shapes_error(op, a, b):
    return ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together")


class Add(Function):
    def forward(self, x0, x1):
        self.shapes = (x0.shape, x1.shape)
        try:
            return x0 + x1
        except ValueError:
            raise _shapes_error("add", x0, x1) from None

    def backward(self, gy):
        return sum_to(gy, self.shapes[0]), sum_to(gy, self.shapes[1])


class Sub(Function):
    def forward(self, x0, x1):
        self.shapes = (x0.shape, x1.shape)
        try:
            return x0 - x1
        except ValueError:
            raise _shapes_error("sub", x0, x1) from None

    def backward(self, gy):
        g1 = -sum_to(gy, self.shapes[1]) if self.needs_grad(1) else None
        return sum_to(gy, self.shapes[0]), g1


class Mul(Function):
    def forward(self, x0, x1):
        self.x0, self.x1 = x0, x1
        try:
            return x0 * x1
        except ValueError:
            raise _shapes_error("mul", x0, x1) from None

    def backward(self, gy):
        x0, x1 = self.x0, self.x1
        g0 = sum_to(gy * x1, x0.shape) if self.needs_grad(0) else None
        g1 = sum_to(gy * x0, x1.shape) if self.needs_grad(1) else None
        return g0, g1


class Div(Function):
    def forward(self, x0, x1):
        self.x0, self.x1 = x0, x1
        try:
            return x0 / x1
        except ValueError:
            raise _shapes_error("div", x0, x1) from None

    def backward(self, gy):
        x0, x1 = self.x0, self.x1
        g0 = sum_to(gy / x1, x0.shape) if self.needs_grad(0) else None
        g1 = sum_to(-gy * x0 / (x1 * x1), x1.shape) if self.needs_grad(1) else None
        return g0, g1


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """``x ** c`` (c a tensor or a constant)."""

    def forward(self, x, c):
        self.x, self.c = x, c
        try:
            self.y = x**c
        except ValueError:
            raise _shapes_error("pow", x, c) from None
        return self.y

    def backward(self, gy):
        x, c = self.x, self.c
        gx = sum_to(gy * c * x ** (c - 1), x.shape) if self.needs_grad(0) else None
        gc = None
        if self.needs_grad(1):
            xp = get_array_module(x)
            gc = sum_to(gy * self.y * xp.log(xp.where(x > 0, x, 1)), c.shape)
        return gx, gc


class Exp(Function):
    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Abs(Function):
    """``|x|``; backward ``gy * sign(x)`` (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).abs(x)

    def backward(self, gy):
        return gy * get_array_module(gy).sign(self.x)


class Cast(Function):
    """``x`` in another floating dtype (``.float()``, ``.double()``); the gradient is cast back."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.in_dtype)


class Clone(Function):
    """A copy of ``x`` that stays in the graph (``.clone()``); the gradient passes through."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


class MatMul(Function):
    """``x @ W``; backward: ``gx = gy @ W.T``, ``gW = x.T @ gy`` (batched: over leading axes)."""

    def forward(self, x, W):
        if x.ndim == 0 or W.ndim == 0 or x.shape[-1] != W.shape[-2 if W.ndim > 1 else 0]:
            raise ValueError(f"matmul: cannot multiply {tuple(x.shape)} by {tuple(W.shape)}")
        self.x, self.W = x, W
        try:
            return x @ W
        except ValueError:  # batch axes that do not broadcast
            raise ValueError(f"matmul: cannot multiply {tuple(x.shape)} by {tuple(W.shape)}") from None

    def backward(self, gy):
        x, W = self.x, self.W
        if x.ndim == 2 and W.ndim == 2:
            gx = gy @ W.T if self.needs_grad(0) else None
            gW = x.T @ gy if self.needs_grad(1) else None
            return gx, gW
        # General case: promote 1-D operands to matrices, then undo broadcasting.
        x2 = x[None, :] if x.ndim == 1 else x
        W2 = W[:, None] if W.ndim == 1 else W
        g2 = gy
        if x.ndim == 1:
            g2 = g2[..., None, :] if W.ndim > 1 else g2
        if W.ndim == 1:
            g2 = g2[..., None]
        if x.ndim == 1 and W.ndim == 1:
            g2 = gy.reshape(1, 1)
        gx = gW = None
        if self.needs_grad(0):
            gx = sum_to(g2 @ W2.swapaxes(-1, -2), x2.shape).reshape(x.shape)
        if self.needs_grad(1):
            gW = sum_to(x2.swapaxes(-1, -2) @ g2, W2.shape).reshape(W.shape)
        return gx, gW


class Linear(Function):
    """The book's Affine layer, fused: ``y = x @ W + b`` with W of shape (in, out).

    x (..., in) -> y (..., out); backward: ``gx = gy @ W.T``, ``gW = x.T @ gy``, ``gb = sum(gy)``.
    """

    def forward(self, x, W, b=None):
        if W.ndim != 2 or x.ndim == 0 or x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"linear: cannot multiply input {tuple(x.shape)} by weight {tuple(W.shape)} "
                "(input (..., in_features), weight (in_features, out_features))"
            )
        self.x, self.W = x, W
        y = x @ W
        if b is not None:
            if b.shape != (W.shape[1],):
                raise ValueError(f"linear: bias of shape {tuple(b.shape)} does not match weight {tuple(W.shape)}")
            y += b
        return y

    def backward(self, gy):
        x, W = self.x, self.W
        gx = None
        if self.needs_grad(0):
            # NOTE: (N, T, out) @ W.T runs one small GEMM per sample; one (N*T, out) GEMM is faster.
            gx = gy @ W.T if gy.ndim == 2 else (gy.reshape(-1, gy.shape[-1]) @ W.T).reshape(x.shape)
        gW = gb = None
        if self.needs_grad(1):
            if x.ndim == 2:
                gW = x.T @ gy
            else:
                gW = x.reshape(-1, x.shape[-1]).T @ gy.reshape(-1, gy.shape[-1])
        if len(self.inputs) > 2 and self.needs_grad(2):
            gb = gy.sum(axis=tuple(range(gy.ndim - 1)))
        return gx, gW, gb


def add(x0, x1):
    """Element-wise ``x0 + x1`` with NumPy broadcasting; the result has the broadcast shape."""
    return Add()(x0, x1)


def sub(x0, x1):
    """Element-wise ``x0 - x1`` with NumPy broadcasting; the result has the broadcast shape."""
    return Sub()(x0, x1)


def mul(x0, x1):
    """Element-wise ``x0 * x1`` with NumPy broadcasting; the result has the broadcast shape."""
    return Mul()(x0, x1)


def div(x0, x1):
    """Element-wise ``x0 / x1`` with NumPy broadcasting; the result has the broadcast shape."""
    return Div()(x0, x1)


def neg(x):
    """``-x``; any shape -> the same shape."""
    return Neg()(x)


def pow(x, c):  # noqa: A001 - the API's name
    """``x ** c`` element-wise (c a number or a tensor, broadcast); differentiable in both."""
    return Pow()(x, c)


def exp(x):
    """``e ** x`` element-wise; any shape -> the same shape."""
    return Exp()(x)


def log(x):
    """Natural logarithm element-wise; any shape -> the same shape."""
    return Log()(x)


def sqrt(x):
    """Square root element-wise; any shape -> the same shape."""
    return Sqrt()(x)


def abs(x):  # noqa: A001 - PyTorch's name
    """``|x|`` element-wise; the gradient is ``sign(x)`` (0 at 0)."""
    return Abs()(x)


def matmul(x, W):
    """``x @ W`` as NumPy's matmul: (..., n, k) @ (..., k, m) -> (..., n, m), 1-D operands promoted."""
    return MatMul()(x, W)


def linear(x, W, b=None):
    """``x @ W + b`` as one fused op. x (N, in) or (..., in), W (in, out), b (out,) -> (..., out)."""
    if b is None:
        return Linear()(x, W)
    return Linear()(x, W, b)
