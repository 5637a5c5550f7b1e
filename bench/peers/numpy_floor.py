"""The plain-NumPy floor: hand-written forward/backward in the book's style.

Each layer is a class with ``forward`` and ``backward`` and its cached inputs (Affine,
Relu, SoftmaxWithLoss, Convolution, Pooling), float32 throughout, no autograd, no dX for
the first layer, and in-place parameter updates.  It is written to be clean and honest,
not clever: what a careful person would write by hand for exactly one network.  zerodl's
generality costs whatever it takes beyond this.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

f32 = np.float32


# --- layers -------------------------------------------------------------------------------

class Affine:
    """y = x @ W + b, W of shape (in, out)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, need_dx: bool = True):
        self.W, self.b, self.need_dx = W, b, need_dx
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T if self.need_dx else None


class Relu:
    """In place: the input (a fresh layer output) is overwritten."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        np.maximum(x, 0, out=x)
        self.mask = x > 0
        return x

    def backward(self, dout):
        dout *= self.mask
        return dout


class SoftmaxWithLoss:
    """Fused, stable softmax + mean cross entropy over the batch; t = class indices."""

    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(t))
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, t]))
        e /= s
        self.y, self.t = e, t
        return loss

    def backward(self):
        n = len(self.t)
        dx = self.y  # consumed: backward is called once per forward
        dx[np.arange(n), self.t] -= 1
        dx *= f32(1 / n)
        return dx


class Convolution:
    """im2col convolution on NHWC activations (the layout is the floor's own business):
    a strided window view, one copy into the column matrix, one GEMM.  W is stored as the
    (KH*KW*C, F) matrix of a conv with PyTorch's (F, C, KH, KW) weights."""

    def __init__(self, W: np.ndarray, b: np.ndarray, k: int, need_dx: bool = False):
        if need_dx:
            raise NotImplementedError("the floor only needs a first-layer convolution")
        self.W, self.b, self.k = W, b, k
        self.col = self.dW = self.db = None
        self.out_shape = None

    def forward(self, x):  # x: (N, H, W, C)
        n, h, w, c = x.shape
        oh, ow = h - self.k + 1, w - self.k + 1
        win = sliding_window_view(x, (self.k, self.k), axis=(1, 2))  # (N, OH, OW, C, KH, KW)
        col = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, -1)  # the one copy
        self.col, self.out_shape = col, (n, oh, ow, -1)
        out = col @ self.W
        out += self.b
        return out.reshape(self.out_shape)

    def backward(self, dout):  # dout: (N, OH, OW, F)
        d = dout.reshape(self.col.shape[0], -1)
        self.dW = self.col.T @ d
        self.db = d.sum(axis=0)
        return None


class ReluPool:
    """ReLU followed by 2x2/stride-2 max pooling on NHWC, fused as the floor may."""

    def __init__(self):
        self.x = self.y = None

    def forward(self, x, train=True):  # x: (N, H, W, C), H and W even
        n, h, w, c = x.shape
        np.maximum(x, 0, out=x)
        x6 = x.reshape(n, h // 2, 2, w // 2, 2, c)
        y = x6.max(axis=(2, 4))
        if train:
            self.x, self.y = x6, y
        return y

    def backward(self, dout):  # dout: (N, H/2, W/2, C)
        y = self.y[:, :, None, :, None, :]
        mask = (self.x == y) & (self.x > 0)  # ties between positive values are negligible
        dx = mask * dout[:, :, None, :, None, :]
        n, h2, _, w2, _, c = dx.shape
        return dx.reshape(n, 2 * h2, 2 * w2, c)


# --- optimizers (PyTorch's update rules, in place) ----------------------------------------

class SGD:
    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, f32(lr)

    def step(self, grads):
        for p, g in zip(self.params, grads):
            g *= self.lr
            p -= g


class Adam:
    """torch.optim.Adam's rule: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.eps = params, lr, f32(eps)
        self.b1, self.b2 = betas
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        step_size = f32(self.lr / (1 - b1**self.t))
        inv_sqrt_bc2 = f32(1 / np.sqrt(1 - b2**self.t))
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= f32(b1)
            np.multiply(g, f32(1 - b1), out=tmp)
            m += tmp
            v *= f32(b2)
            np.multiply(g, g, out=tmp)
            tmp *= f32(1 - b2)
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= inv_sqrt_bc2
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp


def make_optimizer(name: str, params, lr: float):
    return {"sgd": SGD, "adam": Adam}[name](params, lr=lr)


# --- networks -----------------------------------------------------------------------------

def he_normal(rng, fan_in, shape):
    return (rng.standard_normal(shape, dtype=f32) * f32(np.sqrt(2.0 / fan_in)))


class MLP:
    """Affine - Relu - ... - Affine - SoftmaxWithLoss, He initialisation, float32."""

    def __init__(self, sizes=(784, 100, 100, 100, 10), seed=0):
        rng = np.random.default_rng(seed)
        self.layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = he_normal(rng, fan_in, (fan_in, fan_out))
            self.layers.append(Affine(W, np.zeros(fan_out, f32), need_dx=i > 0))
            if i < len(sizes) - 2:
                self.layers.append(Relu())
        self.affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        self.last = SoftmaxWithLoss()

    def params(self):
        return [p for a in self.affines for p in (a.W, a.b)]

    def grads(self):
        return [g for a in self.affines for g in (a.dW, a.db)]

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss_and_grads(self, x, t):
        loss = self.last.forward(self.predict(x), t)
        d = self.last.backward()
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return loss


class SimpleConvNet:
    """The book's SimpleConvNet: conv 30x5x5 - relu - pool 2x2 - affine 100 - relu - affine 10."""

    def __init__(self, in_shape=(1, 28, 28), filters=30, k=5, hidden=100, classes=10, seed=0):
        rng = np.random.default_rng(seed)
        c, h, w = in_shape
        oh, ow = h - k + 1, w - k + 1
        flat = filters * (oh // 2) * (ow // 2)
        self.conv = Convolution(he_normal(rng, c * k * k, (k * k * c, filters)),
                                np.zeros(filters, f32), k)
        self.pool = ReluPool()
        self.fc1 = Affine(he_normal(rng, flat, (flat, hidden)), np.zeros(hidden, f32))
        self.relu = Relu()
        self.fc2 = Affine(he_normal(rng, hidden, (hidden, classes)), np.zeros(classes, f32))
        self.last = SoftmaxWithLoss()
        self.layers = [self.conv, self.fc1, self.fc2]

    def params(self):
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def grads(self):
        return [g for layer in self.layers for g in (layer.dW, layer.db)]

    def predict(self, x, train=False):  # x: (N, C, H, W) as the other frameworks get it
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # free for C == 1
        h = self.pool.forward(self.conv.forward(x), train=train)
        h = h.reshape(len(h), -1)
        return self.fc2.forward(self.relu.forward(self.fc1.forward(h)))

    def loss_and_grads(self, x, t):
        loss = self.last.forward(self.predict(x, train=True), t)
        d = self.fc1.backward(self.relu.backward(self.fc2.backward(self.last.backward())))
        self.conv.backward(self.pool.backward(d.reshape(self.pool.y.shape)))
        return loss
