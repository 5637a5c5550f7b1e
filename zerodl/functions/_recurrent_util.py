"""Helpers of the fused recurrent ops (``functions/recurrent.py``): shape checks, time-major
copies, the one-tanh gate trick, the sequence GEMMs, and the activations a cell may use.

An activation here is applied in place to a block of pre-activations and differentiated from
its OUTPUT ``y`` (every one of them allows it), so backward needs no saved pre-activations:

    tanh          y = tanh(a)                     dy/da = 1 - y**2
    sigmoid       y = 1 / (1 + exp(-a))           dy/da = y (1 - y)
    relu          y = max(a, 0)                   dy/da = [y > 0]
    hard_sigmoid  y = clip(a / 6 + 1/2, 0, 1)     dy/da = [0 < y < 1] / 6   (Keras 3's)
    linear        y = a                           dy/da = 1
"""
import numpy as np

from ..core import get_array_module
from ..core.threads import get_num_threads
from ._util import fixed_pieces


class Activation:
    """One cell activation: ``apply_(v)`` in place (returns v), ``grad(y)`` from the output."""

    def __init__(self, name, apply_, grad):
        self.name, self.apply_, self.grad = name, apply_, grad


def _sigmoid_(v):
    xp = get_array_module(v)  # sigmoid(a) = tanh(a / 2) / 2 + 1/2: no overflow for any a
    v *= 0.5
    xp.tanh(v, out=v)
    v *= 0.5
    v += 0.5
    return v


def _hard_sigmoid_(v):
    v *= 1.0 / 6.0
    v += 0.5
    return get_array_module(v).clip(v, 0.0, 1.0, out=v)


def _hard_sigmoid_grad(y):
    return ((y > 0) & (y < 1)).astype(y.dtype) * (1.0 / 6.0)


ACTIVATIONS = {
    "tanh": Activation("tanh", lambda v: get_array_module(v).tanh(v, out=v), lambda y: 1 - y * y),
    "sigmoid": Activation("sigmoid", _sigmoid_, lambda y: y * (1 - y)),
    "relu": Activation("relu", lambda v: get_array_module(v).maximum(v, 0, out=v),
                       lambda y: (y > 0).astype(y.dtype)),
    "hard_sigmoid": Activation("hard_sigmoid", _hard_sigmoid_, _hard_sigmoid_grad),
    "linear": Activation("linear", lambda v: v, lambda y: get_array_module(y).ones_like(y)),
}


def activation(name, op, what="activation"):
    """The :class:`Activation` called ``name``; a clear error for an unknown one."""
    if isinstance(name, Activation):
        return name
    act = ACTIVATIONS.get(name)
    if act is None:
        raise ValueError(f"{op}: unknown {what} {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return act


def check(op, x, h0, Wx, Wh, n_gates, extra=()):
    """Shape checks with errors that name the op and the shapes involved; returns N, T, F, H."""
    if x.ndim != 3:
        raise ValueError(f"{op}: x must be (N, T, F), got shape {tuple(x.shape)}")
    N, T, F = x.shape
    if Wh.ndim != 2 or Wh.shape[1] != n_gates * Wh.shape[0]:
        raise ValueError(f"{op}: Wh must be (H, {n_gates}*H), got shape {tuple(Wh.shape)}")
    H = Wh.shape[0]
    if tuple(Wx.shape) != (F, n_gates * H):
        raise ValueError(
            f"{op}: Wx must be (F, {n_gates}*H) = ({F}, {n_gates * H}) for x of shape "
            f"{tuple(x.shape)} and Wh of shape {tuple(Wh.shape)}, got {tuple(Wx.shape)}"
        )
    if T == 0:
        raise ValueError(f"{op}: the sequence is empty (x of shape {tuple(x.shape)})")
    for name, arr, shape in (("h0", h0, (N, H)),) + tuple(extra):
        if tuple(arr.shape) != shape:
            raise ValueError(
                f"{op}: {name} must have shape {shape} for x of shape {tuple(x.shape)} and "
                f"hidden size {H}, got {tuple(arr.shape)}"
            )
    return N, T, F, H


# With more than one thread the LSTM's time loops run in pieces of the batch's rows on the pool
# (_util.fixed_pieces) with at least LSTM_PIECE_ELEMENTS gate values a step each: their GEMMs,
# tanh and kernels release the GIL, so the pieces' steps run side by side. One thread keeps
# the whole batch (the pieces' extra calls cost it; docs/benchmarks.md).
LSTM_PIECE_ELEMENTS = 1 << 15


def row_pieces(G):
    """Slices of the batch rows of G (T, N, 4, H) for the LSTM's time loops."""
    if type(G) is not np.ndarray or get_num_threads() < 2:
        return [slice(None)]
    return fixed_pieces(G.shape[1], G[0].size, LSTM_PIECE_ELEMENTS)


def time_major(a):
    """(N, T, ...) -> a contiguous (T, N, ...) copy (and back: the same call)."""
    return get_array_module(a).ascontiguousarray(a.swapaxes(0, 1))


def gate_scale(xp, n_gates, sigmoid_gates, dtype):
    """``m`` of shape (n_gates, 1): 1/2 for the sigmoid gates, 1 for the tanh ones.

    ``sigmoid(z) = tanh(z / 2) / 2 + 1/2``.  With the sigmoid gates' pre-activations halved
    (``m`` folded into Wx, Wh and b), ONE ``tanh`` over the whole gate block followed by
    ``u * m + (1 - m)`` gives every gate at once: ``u/2 + 1/2`` for a sigmoid gate, ``u`` for
    a tanh gate. Used only with the default activations (tanh, sigmoid).
    """
    m = xp.ones((n_gates, 1), dtype=dtype)
    m[list(sigmoid_gates)] = 0.5
    return m


def scaled(W, m):
    """W (..., G*H) with gate column block j multiplied by m[j] (m of shape (G, 1))."""
    G = m.shape[0]
    return (W.reshape(W.shape[:-1] + (G, W.shape[-1] // G)) * m).reshape(W.shape)


def sequence_grads(fn, xs, h_prev, Wx, dAx, dAh, i_Wx):
    """The GEMMs over all steps at once, from time-major arrays.

    xs (T, N, F) and h_prev (T, N, H) (h0, h_1, ..., h_{T-1}) are what each step saw;
    dAx, dAh (T, N, G*H) the gradients of the x-side and h-side pre-activations (the same
    array for rnn and lstm).  h_prev and dAh may both leave out the first steps (for a zero
    h0, whose rows add nothing to gWh).  Returns ``gx`` (N, T, F) = dAx @ Wx.T, ``gWx = X.T @ dAx`` and
    ``gWh = H_prev.T @ dAh``; ``i_Wx`` is the index of Wx among the op's inputs (Wh is next).
    """
    T, N, F = xs.shape
    GH = dAx.shape[-1]
    dAx2 = dAx.reshape(T * N, GH)
    gx = time_major((dAx2 @ Wx.T).reshape(T, N, F)) if fn.needs_grad(0) else None
    gWx = xs.reshape(T * N, F).T @ dAx2 if fn.needs_grad(i_Wx) else None
    gWh = h_prev.reshape(-1, h_prev.shape[-1]).T @ dAh.reshape(-1, GH) if fn.needs_grad(i_Wx + 1) else None
    return gx, gWx, gWh


def steps_before(xp, s0, ss):
    """(T, N, H): the state each step started from: s0, s_1, ..., s_{T-1}."""
    return xp.concatenate((s0[None], ss[:-1]), axis=0)
