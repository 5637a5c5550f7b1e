"""Recurrent ops over a whole sequence: ``rnn`` (tanh), ``lstm`` and ``gru``.

Each op is ONE ``Function`` that runs every time step in ``forward`` and backpropagates
through time in ``backward`` (closed form: the book vol. 2's TimeRNN / TimeLSTM fused into
one node), so the graph holds one node per layer and sequence, not dozens per step.

Layout (batch first, weights used as ``x @ W``)::

    x   (N, T, F)   input sequence          hs  (N, T, H)  hidden state at every step
    h0  (N, H)      initial hidden state    hT  (N, H)     hidden state after the last step
    c0  (N, H)      initial cell (lstm)     cT  (N, H)     cell after the last step (lstm)
    Wx  (F, G*H)    input -> gates          Wh  (H, G*H)   hidden -> gates
    b   (G*H,)      bias                    G = 1 (rnn), 4 (lstm: i f g o), 3 (gru: r z n)

How the work is split (this is what makes them fast):

- forward: the input projection ``x @ Wx + b`` of all T steps is ONE GEMM; the loop over T
  does only the recurrent GEMM ``h @ Wh`` and a few element-wise ops per step.
- backward: every factor that does not depend on the incoming gradient (activation
  derivatives times saved gate values) is computed once for all steps before the loop; the
  loop does the recurrent GEMM ``dA @ Wh.T`` and a few element-wise ops per step; then
  ``dx``, ``dWx``, ``dWh`` and ``db`` are one GEMM (or one sum) each over all steps.
- inside, arrays are time-major, (T, N, ...), so that each step's slice is contiguous; only
  x, hs and their gradients are transposed, once per call.

All buffers take the dtype of ``x``: float32 stays float32, float64 (gradient checks) stays
float64.  Outputs that receive no gradient get zeros from the engine, so a loss on ``hs``
only, on ``hT`` / ``cT`` only, or on both, all work.
"""
import numpy as np

from ..core import Function, get_array_module
from ._recurrent_util import activation as _activation
from ._recurrent_util import check as _check
from ._recurrent_util import gate_scale as _gate_scale
from ._recurrent_util import row_pieces as _row_pieces
from ._recurrent_util import scaled as _scaled
from ._recurrent_util import sequence_grads as _sequence_grads
from ._recurrent_util import steps_before as _steps_before
from ._recurrent_util import time_major as _time_major
from ..core.threads import map_chunks
from ._util import fast_module

__all__ = ["rnn", "lstm", "gru"]


class _Cell(Function):
    """Holds the cell's activations (``activation`` for the candidate / output, as Keras's,
    ``recurrent_activation`` for the gates); ``fast`` when they are tanh and sigmoid, which
    lets one ``tanh`` serve every gate (see ``_recurrent_util.gate_scale``)."""

    def __init__(self, activation="tanh", recurrent_activation="sigmoid"):
        op = type(self).__name__.lower()
        self.act = _activation(activation, op)
        self.ract = _activation(recurrent_activation, op, "recurrent_activation")
        self.fast = self.act.name == "tanh" and self.ract.name == "sigmoid"


# ==========================================================================================
# RNN:  h_t = tanh(x_t Wx + h_{t-1} Wh + b)
# ==========================================================================================
class RNN(_Cell):
    """Elman RNN over a whole sequence (the book's TimeRNN, one node); ``act`` is tanh by default.

    forward:   a_t = x_t @ Wx + h_{t-1} @ Wh + b ,   h_t = act(a_t)
    backward:  da_t = (dhs_t + da_{t+1} @ Wh.T) * act'(a_t)     (dhT joins at t = T;
               act' is computed from h_t, e.g. 1 - h_t**2 for tanh)
               dx = dA @ Wx.T,  dWx = X.T @ dA,  dWh = H_prev.T @ dA,  db = sum(dA),
               dh0 = da_1 @ Wh.T
    inputs (x, h0, Wx, Wh, b) -> outputs (hs, hT)
    """

    def forward(self, x, h0, Wx, Wh, b):
        xp = get_array_module(x)
        N, T, F, H = _check("rnn", x, h0, Wx, Wh, 1, (("b", b, (Wh.shape[0],)),))
        xs = _time_major(x)
        A = (xs.reshape(T * N, F) @ Wx).reshape(T, N, H)  # input projections of all steps
        A += b
        h = h0
        act = self.act.apply_
        for t in range(T):  # the activation in place: A becomes the hidden states
            a = A[t]
            a += h @ Wh
            h = act(a)
        self.saved = (xs, h0, A, Wx, Wh)
        return _time_major(A), h.copy()

    def backward(self, ghs, ghT):
        xs, h0, hs, Wx, Wh = self.saved
        xp = get_array_module(hs)
        dA = self.act.grad(hs)  # act'(a_t) for all steps; becomes dA in place
        ghs = _time_major(ghs)
        WhT = xp.ascontiguousarray(Wh.T)  # see docs/benchmarks.md ("Hot-path choices")
        dh = ghT
        for t in range(hs.shape[0] - 1, -1, -1):
            da = dA[t]
            da *= ghs[t] + dh
            if t or self.needs_grad(1):
                dh = da @ WhT
        gx, gWx, gWh = _sequence_grads(self, xs, _steps_before(xp, h0, hs), Wx, dA, dA, 2)
        gh0 = dh if self.needs_grad(1) else None
        gb = dA.sum(axis=(0, 1)) if self.needs_grad(4) else None
        return gx, gh0, gWx, gWh, gb


# ==========================================================================================
# LSTM, gate order i, f, g, o (PyTorch's and Keras's)
# ==========================================================================================
def _lstm_kernels(cell, x):
    """``_fast_recurrent`` for a cell with the default activations on NumPy float arrays, else None."""
    if not cell.fast or type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64):
        return None
    return fast_module("_fast_recurrent")


class LSTM(_Cell):
    """LSTM over a whole sequence (the book's TimeLSTM, one node); gates (i, f, g, o).

    forward, per step (A_t of shape (N, 4, H) holds the four pre-activations; sigma is the
    recurrent activation, sigmoid by default, and act the activation, tanh by default)::

        A_t = x_t @ Wx + h_{t-1} @ Wh + b
        i = sigma(A_t[0]),  f = sigma(A_t[1]),  g = act(A_t[2]),  o = sigma(A_t[3])
        c_t = f * c_{t-1} + i * g
        h_t = o * act(c_t)

    backward, per step from t = T down to 1 (dh, dc carried from step t+1; primes are the
    derivatives, computed from the outputs: sigma' = i(1-i) etc., act' = 1 - g**2 for tanh)::

        dh   = dhs_t + dA_{t+1} @ Wh.T                                   (dhT at t = T)
        dc   = dc_{t+1} * f_{t+1} + dh * o * act'(c_t)                    (dcT at t = T)
        dA_t = [dc * g * sigma'(i),  dc * c_{t-1} * sigma'(f),  dc * i * act'(g),
                dh * act(c_t) * sigma'(o)]

    then dx = dA @ Wx.T, dWx = X.T @ dA, dWh = H_prev.T @ dA, db = sum(dA) over all steps;
    dh0 = dA_1 @ Wh.T, dc0 = dc_1 * f_1.
    inputs (x, h0, c0, Wx, Wh, b) -> outputs (hs, hT, cT)
    """

    def forward(self, x, h0, c0, Wx, Wh, b):
        xp = get_array_module(x)
        H = Wh.shape[0]
        N, T, F, H = _check("lstm", x, h0, Wx, Wh, 4, (("c0", c0, (x.shape[0], H)), ("b", b, (4 * H,))))
        fast, act, ract = self.fast, self.act.apply_, self.ract.apply_
        m = _gate_scale(xp, 4, (0, 1, 3) if fast else (), x.dtype)
        # m and 1 - m over a whole (4*H) row: a contiguous operand, not a broadcast (4, 1)
        m_row = xp.repeat(m.reshape(4), H)
        k_row = 1 - m_row
        xs = _time_major(x)
        # G: gate pre-activations of all steps in one GEMM (sigmoid gates halved, see
        # _gate_scale); the loop turns G[t] into the activated gates (i, f, g, o) in place.
        G = (xs.reshape(T * N, F) @ _scaled(Wx, m)).reshape(T, N, 4, H)
        G += _scaled(b, m).reshape(4, H)
        Whm = _scaled(Wh, m)
        hs = xp.empty((T, N, H), dtype=x.dtype)
        cs = xp.empty((T, N, H), dtype=x.dtype)  # c_t
        tcs = xp.empty((T, N, H), dtype=x.dtype)  # act(c_t)
        tanh, mul = xp.tanh, xp.multiply
        # a zero initial state (the default, and an encoder's) adds nothing at t = 0: its
        # GEMM h0 @ Wh is skipped here and its rows of H_prev.T @ dA in backward
        self.h0_zero = h0_zero = not h0.any()
        kernels = self.kernels = _lstm_kernels(self, x)
        m4, k4 = m_row.reshape(4, H), k_row.reshape(4, H)

        def steps(rows):  # the recurrence of the batch rows ``rows`` (each row's is its own)
            h, c = h0[rows], c0[rows]
            for t in range(T):
                a = G[t, rows]
                n = len(a)
                if t or not h0_zero:
                    a += (h @ Whm).reshape(n, 4, H)
                if kernels is not None:  # the same arithmetic in one pass (_fast_recurrent)
                    a2 = a.reshape(n, 4 * H)
                    tanh(a2, out=a2)
                    kernels.lstm_gates_cell(a, m4, k4, c, cs[t, rows])
                    c = cs[t, rows]
                    h = mul(a[:, 3], tanh(c, out=tcs[t, rows]), out=hs[t, rows])
                    continue
                if fast:
                    a2 = a.reshape(n, 4 * H)
                    tanh(a2, out=a2)
                    a2 *= m_row
                    a2 += k_row  # a[:, 0..3] = i, f, g, o
                else:
                    ract(a[:, :2])
                    act(a[:, 2])
                    ract(a[:, 3])
                c = mul(a[:, 1], c, out=cs[t, rows])
                c += a[:, 0] * a[:, 2]
                if fast:
                    tc = tanh(c, out=tcs[t, rows])
                else:
                    tcs[t, rows] = c
                    tc = act(tcs[t, rows])
                h = mul(a[:, 3], tc, out=hs[t, rows])

        map_chunks(steps, _row_pieces(G))
        h, c = hs[T - 1], cs[T - 1]
        self.saved = (xs, h0, c0, Wx, Wh, G, hs, cs, tcs)
        return _time_major(hs), h.copy(), c.copy()

    def backward(self, ghs, ghT, gcT):
        xs, h0, c0, Wx, Wh, G, hs, cs, tcs = self.saved
        xp = get_array_module(G)
        T, N, _, H = G.shape
        i, f, g, o = G[:, :, 0], G[:, :, 1], G[:, :, 2], G[:, :, 3]
        # Everything the carried gradients get multiplied by, for all steps at once:
        #   dA[t, :, :3] = dc * Kc[t]  (i, f, g)    dA[t, :, 3] = dh * Ko[t]  (o)
        #   dc += dh * Kh[t]                         dc carried to step t-1: dc * f[t]
        # (the kernels form these factors inside each step instead, in the row pieces)
        dact, dract = self.act.grad, self.ract.grad
        kernels = self.kernels
        if kernels is None:
            Kc = xp.empty((T, N, 3, H), dtype=G.dtype)
            xp.multiply(g, dract(i), out=Kc[:, :, 0])
            xp.multiply(_steps_before(xp, c0, cs), dract(f), out=Kc[:, :, 1])
            xp.multiply(i, dact(g), out=Kc[:, :, 2])
            Ko = dract(o)
            Ko *= tcs
            Kh = dact(tcs)
            Kh *= o
        ghs = _time_major(ghs)
        dA = xp.empty((T, N, 4, H), dtype=G.dtype)
        WhT = xp.ascontiguousarray(Wh.T)  # see docs/benchmarks.md ("Hot-path choices")
        mul = xp.multiply
        gh0 = xp.empty((N, H), dtype=G.dtype)  # dh and dc carried past the first step, row by row
        gc0 = xp.empty((N, H), dtype=G.dtype)

        def steps(rows):
            dh, dc = ghT[rows], gcT[rows]
            if kernels is not None:
                dc = xp.array(dc, dtype=G.dtype)  # the kernel updates it in place
            for t in range(T - 1, -1, -1):
                if kernels is not None:
                    c_prev = cs[t - 1, rows] if t else c0[rows]
                    kernels.lstm_grad_step(ghs[t, rows], dh, dc, G[t, rows], c_prev, tcs[t, rows], dA[t, rows])
                else:
                    dh = ghs[t, rows] + dh
                    dc = dc + dh * Kh[t, rows]
                    mul(Kc[t, rows], dc[:, None], out=dA[t, rows, :3])
                    mul(Ko[t, rows], dh, out=dA[t, rows, 3])
                    dc *= f[t, rows]
                if t or self.needs_grad(1):
                    dh = dA[t, rows].reshape(len(dh), 4 * H) @ WhT
            gh0[rows], gc0[rows] = dh, dc

        map_chunks(steps, _row_pieces(G))
        dA = dA.reshape(T, N, 4 * H)
        if self.h0_zero:  # step 0 saw h0 = 0: it adds nothing to dWh
            h_prev, dAh = hs[:-1], dA[1:]
        else:
            h_prev, dAh = _steps_before(xp, h0, hs), dA
        gx, gWx, gWh = _sequence_grads(self, xs, h_prev, Wx, dA, dAh, 3)
        gh0 = gh0 if self.needs_grad(1) else None
        gc0 = gc0 if self.needs_grad(2) else None
        gb = dA.sum(axis=(0, 1)) if self.needs_grad(5) else None
        return gx, gh0, gc0, gWx, gWh, gb


# ==========================================================================================
# GRU, PyTorch's equations, gate order r, z, n
# ==========================================================================================
class GRU(_Cell):
    """GRU over a whole sequence with PyTorch's equations; gates (r, z, n) along the 3H axis.

    forward, per step (Wx = [Wx_r Wx_z Wx_n], Wh = [Wh_r Wh_z Wh_n]; two biases as PyTorch,
    bx = b_ih and bh = b_hh; sigma = recurrent activation (sigmoid), act = activation (tanh))::

        r   = sigma(x_t Wx_r + bx_r + h Wh_r + bh_r)
        z   = sigma(x_t Wx_z + bx_z + h Wh_z + bh_z)
        hn  = h Wh_n + bh_n                           (kept apart: r multiplies it)
        n   = act(x_t Wx_n + bx_n + r * hn)
        h_t = (1 - z) * n + z * h                     (computed as n + z * (h - n))

    backward, per step with dh = dhs_t + (gradient from step t+1); primes from the outputs::

        dn_pre = dh * (1 - z) * act'(n)        x side of n;  h side:  dhn = dn_pre * r
        dz_pre = dh * (h - n) * sigma'(z)      dr_pre = dn_pre * hn * sigma'(r)
        dh_{t-1} = dh * z + [dr_pre, dz_pre, dhn] @ Wh.T

    then dx = dAx @ Wx.T, dWx = X.T @ dAx, dWh = H_prev.T @ dAh, dbx = sum(dAx),
    dbh = sum(dAh) over all steps (dAx = [dr_pre, dz_pre, dn_pre], dAh = [dr_pre, dz_pre, dhn]).
    inputs (x, h0, Wx, Wh, bx, bh) -> outputs (hs, hT)
    """

    def forward(self, x, h0, Wx, Wh, bx, bh):
        xp = get_array_module(x)
        H = Wh.shape[0]
        N, T, F, H = _check("gru", x, h0, Wx, Wh, 3, (("bx", bx, (3 * H,)), ("bh", bh, (3 * H,))))
        fast, act, ract = self.fast, self.act.apply_, self.ract.apply_
        m = _gate_scale(xp, 3, (0, 1) if fast else (), x.dtype)
        xs = _time_major(x)
        # GX: x-side pre-activations of all steps (one GEMM); the r, z part also takes the
        # h-side biases and is halved for the one-tanh sigmoid (see _gate_scale).
        b = bx.copy()
        b[: 2 * H] += bh[: 2 * H]
        GX = (xs.reshape(T * N, F) @ _scaled(Wx, m)).reshape(T, N, 3, H)
        GX += _scaled(b, m).reshape(3, H)
        Whm = _scaled(Wh, m)
        bh_n = bh[2 * H:]
        gates = xp.empty((T, N, 3, H), dtype=x.dtype)  # r, z, n
        HN = xp.empty((T, N, H), dtype=x.dtype)  # hn = h Wh_n + bh_n
        hs = xp.empty((T, N, H), dtype=x.dtype)
        tanh, mul, add = xp.tanh, xp.multiply, xp.add
        h = h0
        for t in range(T):
            hw = (h @ Whm).reshape(N, 3, H)
            rz = add(GX[t, :, :2], hw[:, :2], out=gates[t, :, :2])
            if fast:
                tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5  # rz[:, 0] = r, rz[:, 1] = z
            else:
                ract(rz)
            hn = add(hw[:, 2], bh_n, out=HN[t])
            n = mul(rz[:, 0], hn, out=gates[t, :, 2])
            n += GX[t, :, 2]
            act(n)
            h = xp.subtract(h, n, out=hs[t])
            h *= rz[:, 1]
            h += n
        self.saved = (xs, h0, Wx, Wh, gates, HN, hs)
        return _time_major(hs), h.copy()

    def backward(self, ghs, ghT):
        xs, h0, Wx, Wh, gates, HN, hs = self.saved
        xp = get_array_module(gates)
        T, N, _, H = gates.shape
        r, z, n = gates[:, :, 0], gates[:, :, 1], gates[:, :, 2]
        h_prev = _steps_before(xp, h0, hs)
        # Every multiplier of dh, for all steps at once:
        #   dAh[t] = dh * Kh[t]  (r, z, and the h side of n)    dn_pre = dh * Kn[t]
        dract = self.ract.grad
        Kn = self.act.grad(n)
        Kn *= 1 - z
        Kh = xp.empty((T, N, 3, H), dtype=gates.dtype)
        xp.multiply(Kn * HN, dract(r), out=Kh[:, :, 0])
        xp.multiply(h_prev - n, dract(z), out=Kh[:, :, 1])
        xp.multiply(Kn, r, out=Kh[:, :, 2])
        ghs = _time_major(ghs)
        dAh = xp.empty((T, N, 3, H), dtype=gates.dtype)  # gradients of the h-side pre-activations
        dAx = xp.empty((T, N, 3, H), dtype=gates.dtype)  # ... of the x-side ones
        WhT = xp.ascontiguousarray(Wh.T)  # see docs/benchmarks.md ("Hot-path choices")
        mul = xp.multiply
        dh = ghT
        for t in range(T - 1, -1, -1):
            dh = ghs[t] + dh
            mul(Kh[t], dh[:, None], out=dAh[t])
            mul(Kn[t], dh, out=dAx[t, :, 2])
            if t or self.needs_grad(1):
                dh_direct = dh * z[t]
                dh = dAh[t].reshape(N, 3 * H) @ WhT
                dh += dh_direct
        dAx[:, :, :2] = dAh[:, :, :2]  # r and z: the same on both sides
        dAx = dAx.reshape(T, N, 3 * H)
        dAh = dAh.reshape(T, N, 3 * H)
        gx, gWx, gWh = _sequence_grads(self, xs, h_prev, Wx, dAx, dAh, 2)
        gh0 = dh if self.needs_grad(1) else None
        gbx = dAx.sum(axis=(0, 1)) if self.needs_grad(4) else None
        gbh = dAh.sum(axis=(0, 1)) if self.needs_grad(5) else None
        return gx, gh0, gWx, gWh, gbx, gbh


# ==========================================================================================
# the functions users call
# ==========================================================================================
def rnn(x, h0, Wx, Wh, b, activation="tanh"):
    """Elman RNN over a sequence: ``h_t = act(x_t @ Wx + h_{t-1} @ Wh + b)``.

    x (N, T, F), h0 (N, H), Wx (F, H), Wh (H, H), b (H,) -> (hs (N, T, H), hT (N, H)).
    ``activation``: "tanh" (default), "relu", "sigmoid", "hard_sigmoid" or "linear".
    """
    return RNN(activation)(x, h0, Wx, Wh, b)


def lstm(x, h0, c0, Wx, Wh, b, activation="tanh", recurrent_activation="sigmoid"):
    """LSTM over a sequence, gates in the order (i, f, g, o) as PyTorch's and Keras's.

    x (N, T, F), h0 (N, H), c0 (N, H), Wx (F, 4H), Wh (H, 4H), b (4H,)
    -> (hs (N, T, H), hT (N, H), cT (N, H)).  ``activation`` (g and the cell output, tanh by
    default) and ``recurrent_activation`` (i, f, o; sigmoid by default) as Keras's: one of
    "tanh", "relu", "sigmoid", "hard_sigmoid", "linear".  Equations: see ``LSTM``.
    """
    return LSTM(activation, recurrent_activation)(x, h0, c0, Wx, Wh, b)


def gru(x, h0, Wx, Wh, bx, bh, activation="tanh", recurrent_activation="sigmoid"):
    """GRU over a sequence with PyTorch's equations, gates in the order (r, z, n).

    x (N, T, F), h0 (N, H), Wx (F, 3H), Wh (H, 3H), bx (3H,) (PyTorch's b_ih), bh (3H,)
    (b_hh: its n part sits inside ``r * (h Wh_n + bh_n)``) -> (hs (N, T, H), hT (N, H)).
    ``activation`` (n; tanh) and ``recurrent_activation`` (r, z; sigmoid) as for ``lstm``.
    Equations: see ``GRU``.
    """
    return GRU(activation, recurrent_activation)(x, h0, Wx, Wh, bx, bh)
