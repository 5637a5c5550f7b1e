"""Recurrent ops over a whole sequence: ``rnn`` (tanh), ``lstm`` and ``gru``.

Each op is ONE ``Function`` that runs every time step in ``forward`` and backpropagates
through time in ``backward`` (closed form, the book vol. 2's TimeRNN/TimeLSTM fused into one
node), so the graph holds one node per layer and sequence, not dozens per step.

Layout (batch first, weights as ``x @ W``)::

    x   (N, T, F)   input sequence          hs  (N, T, H)  hidden state at every step
    h0  (N, H)      initial hidden state    hT  (N, H)     hidden state after the last step
    c0  (N, H)      initial cell (LSTM)     cT  (N, H)     cell after the last step (LSTM)
    Wx  (F, G*H)    input -> gates          Wh  (H, G*H)   hidden -> gates
    b   (G*H,)      bias                    G = 1 (rnn), 4 (lstm), 3 (gru)

How the work is split (what makes these fast):

- forward: the input projection ``x @ Wx + b`` of all T steps is ONE GEMM; the loop over
  T does only the recurrent GEMM ``h @ Wh`` and a few element-wise ops per step.
- backward: everything that does not depend on the incoming gradient (the activations'
  derivatives times the saved gate values) is computed once for all T before the loop; the
  loop does the recurrent GEMM ``dA @ Wh.T`` and a handful of element-wise ops per step;
  ``dx``, ``dWx``, ``dWh`` and ``db`` are then one GEMM (or sum) each over all T.

All buffers take the dtype of ``x``: float32 stays float32, float64 (gradient checks) stays
float64.  Gradients reaching only some outputs are fine (the engine passes zeros for the
others).
"""
from ..core import Function, get_array_module

__all__ = ["rnn", "lstm", "gru"]


def _sigmoid_scale(xp, n_gates, sigmoid_gates, dtype):
    """Vectors ``m``, ``k`` of shape (n_gates, 1) for the one-tanh gate trick.

    ``sigmoid(z) = tanh(z / 2) / 2 + 1/2``: if the pre-activations of the sigmoid gates are
    halved (``z * m``), one ``tanh`` over the whole gate block followed by ``u * m + k``
    gives every gate at once (``m = 1, k = 0`` leaves a tanh gate as it is).
    """
    m = xp.ones((n_gates, 1), dtype=dtype)
    k = xp.zeros((n_gates, 1), dtype=dtype)
    m[list(sigmoid_gates)] = 0.5
    k[list(sigmoid_gates)] = 0.5
    return m, k


def _check(op, x, h0, Wx, Wh, n_gates, extra=()):
    """Shape checks with errors that name the op and the shapes involved."""
    if x.ndim != 3:
        raise ValueError(f"{op}: x must be (N, T, F), got shape {tuple(x.shape)}")
    N, T, F = x.shape
    if Wh.ndim != 2 or Wh.shape[1] != n_gates * Wh.shape[0]:
        raise ValueError(f"{op}: Wh must be (H, {n_gates}*H), got shape {tuple(Wh.shape)}")
    H = Wh.shape[0]
    if Wx.shape != (F, n_gates * H):
        raise ValueError(
            f"{op}: Wx must be (F, {n_gates}*H) = ({F}, {n_gates * H}) for x {tuple(x.shape)} "
            f"and Wh {tuple(Wh.shape)}, got {tuple(Wx.shape)}"
        )
    if T == 0:
        raise ValueError(f"{op}: the sequence is empty (x of shape {tuple(x.shape)})")
    for name, arr, shape in ((("h0", h0, (N, H)),) + tuple(extra)):
        if tuple(arr.shape) != shape:
            raise ValueError(f"{op}: {name} must be {shape} for x {tuple(x.shape)} and H={H}, got {tuple(arr.shape)}")
    return N, T, F, H


# ==========================================================================================
# RNN:  h_t = tanh(x_t Wx + h_{t-1} Wh + b)
# ==========================================================================================
class RNN(Function):
    """Elman RNN with tanh over a whole sequence.

    forward:  a_t = x_t @ Wx + h_{t-1} @ Wh + b ;  h_t = tanh(a_t)
    backward: da_t = (dhs_t + da_{t+1} @ Wh.T) * (1 - h_t**2)   (dh_T is added at t = T)
              dWx = X.T @ dA,  dWh = H_prev.T @ dA,  db = sum(dA),  dx = dA @ Wx.T
    inputs (x, h0, Wx, Wh, b) -> outputs (hs, hT)
    """

    def forward(self, x, h0, Wx, Wh, b):
        xp = get_array_module(x)
        N, T, F, H = _check("rnn", x, h0, Wx, Wh, 1, (("b", b, (Wh.shape[0],)),))
        A = (x.reshape(N * T, F) @ Wx).reshape(N, T, H)  # input projections, all steps
        A += b
        hs = A  # tanh is taken in place: A becomes the hidden states
        h = h0
        for t in range(T):
            a = A[:, t]
            a += h @ Wh
            h = xp.tanh(a, out=a)
        self.x, self.h0, self.hs, self.Wx, self.Wh = x, h0, hs, Wx, Wh
        return hs, h.copy()

    def backward(self, ghs, ghT):
        x, h0, hs, Wx, Wh = self.x, self.h0, self.hs, self.Wx, self.Wh
        xp = get_array_module(hs)
        N, T, H = hs.shape
        dA = 1 - hs * hs  # tanh'(a_t) for every step; becomes dA in place
        WhT = Wh.T
        dh = ghT
        for t in range(T - 1, -1, -1):
            da = dA[:, t]
            da *= ghs[:, t] + dh
            dh = da @ WhT
        dA = dA.reshape(N * T, H)
        gx, gWx, gWh = _sequence_grads(self, xp, x, h0, hs, Wx, dA, dA, 2)
        gh0 = dh if self.needs_grad(1) else None
        gb = dA.sum(axis=0) if self.needs_grad(4) else None
        return gx, gh0, gWx, gWh, gb


def _sequence_grads(fn, xp, x, h0, hs, Wx, dAx, dAh, i_Wx, h_prev=None):
    """The GEMMs over all steps at once: ``gx = dAx @ Wx.T``, ``gWx = X.T @ dAx``,
    ``gWh = H_prev.T @ dAh`` where H_prev (N*T, H) holds h0, h_1, ..., h_{T-1}.

    dAx, dAh: (N*T, G*H) gradients of the x-side and h-side pre-activations (the same array
    for RNN and LSTM).  ``i_Wx`` is the index of Wx among the op's inputs (Wh is next).
    """
    N, T, F = x.shape
    H = hs.shape[2]
    gx = (dAx @ Wx.T).reshape(N, T, F) if fn.needs_grad(0) else None
    gWx = x.reshape(N * T, F).T @ dAx if fn.needs_grad(i_Wx) else None
    gWh = None
    if fn.needs_grad(i_Wx + 1):
        if h_prev is None:
            h_prev = xp.concatenate((h0[:, None], hs[:, :-1]), axis=1)
        gWh = h_prev.reshape(N * T, H).T @ dAh
    return gx, gWx, gWh


# ==========================================================================================
# LSTM, gate order i, f, g, o (PyTorch's and Keras's)
# ==========================================================================================
class LSTM(Function):
    """LSTM over a whole sequence; gates in the order (i, f, g, o) along the 4H axis.

    forward, per step (A_t of shape (N, 4, H) holds the four pre-activations)::

        A_t = x_t @ Wx + h_{t-1} @ Wh + b
        i = sigmoid(A_t[0]), f = sigmoid(A_t[1]), g = tanh(A_t[2]), o = sigmoid(A_t[3])
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    backward, per step from t = T down to 1 (dh, dc carried from step t+1)::

        dh   = dhs_t + dA_{t+1} @ Wh.T          (dhT at t = T)
        dc   = dc_{t+1} * f_{t+1} + dh * o * (1 - tanh(c_t)**2)     (dcT at t = T)
        dA_t = [dc * g * i(1-i), dc * c_{t-1} * f(1-f), dc * i * (1-g**2), dh * tanh(c_t) * o(1-o)]

    then dWx = X.T @ dA, dWh = H_prev.T @ dA, db = sum(dA), dx = dA @ Wx.T over all steps.
    inputs (x, h0, c0, Wx, Wh, b) -> outputs (hs, hT, cT)
    """

    def forward(self, x, h0, c0, Wx, Wh, b):
        xp = get_array_module(x)
        H = Wh.shape[0]
        N, T, F, H = _check("lstm", x, h0, Wx, Wh, 4, (("c0", c0, (x.shape[0], H)), ("b", b, (4 * H,))))
        m, k = _sigmoid_scale(xp, 4, (0, 1, 3), x.dtype)
        # G: gate pre-activations of all steps in one GEMM, halved for the sigmoid gates;
        # the loop turns G[:, t] into the activated gates (i, f, g, o) in place.
        G = (x.reshape(N * T, F) @ Wx).reshape(N, T, 4, H)
        G += b.reshape(4, H)
        G *= m
        Whm = (Wh.reshape(H, 4, H) * m).reshape(H, 4 * H)
        hs = xp.empty((N, T, H), dtype=x.dtype)
        cs = xp.empty((N, T, H), dtype=x.dtype)  # c_t
        tcs = xp.empty((N, T, H), dtype=x.dtype)  # tanh(c_t)
        tanh, mul = xp.tanh, xp.multiply
        h, c = h0, c0
        for t in range(T):
            a = G[:, t]
            a += (h @ Whm).reshape(N, 4, H)
            tanh(a, out=a)
            a *= m
            a += k  # a = (i, f, g, o)
            c = mul(a[:, 1], c, out=cs[:, t])
            c += a[:, 0] * a[:, 2]
            tc = tanh(c, out=tcs[:, t])
            h = mul(a[:, 3], tc, out=hs[:, t])
        self.saved = (x, h0, c0, Wx, Wh, G, hs, cs, tcs)
        return hs, h.copy(), c.copy()

    def backward(self, ghs, ghT, gcT):
        x, h0, c0, Wx, Wh, G, hs, cs, tcs = self.saved
        xp = get_array_module(x)
        N, T, _, H = G.shape
        i, f, g, o = G[:, :, 0], G[:, :, 1], G[:, :, 2], G[:, :, 3]
        c_prev = xp.concatenate((c0[:, None], cs[:, :-1]), axis=1)
        # Everything the gradients are multiplied by, for all steps at once:
        #   dA[:, t, :3] = dc * Kc[:, t]   (i, f, g),   dA[:, t, 3] = dh * Ko[:, t]   (o)
        #   dc (from dh)  = dh * Kh[:, t],  dc carried to t-1 = dc * f[:, t]
        Kc = xp.empty((N, T, 3, H), dtype=x.dtype)
        xp.multiply(g, i * (1 - i), out=Kc[:, :, 0])
        xp.multiply(c_prev, f * (1 - f), out=Kc[:, :, 1])
        xp.multiply(i, 1 - g * g, out=Kc[:, :, 2])
        Ko = tcs * o * (1 - o)
        Kh = o * (1 - tcs * tcs)
        dA = xp.empty((N, T, 4, H), dtype=x.dtype)
        WhT = Wh.T
        dh, dc = ghT, gcT
        mul = xp.multiply
        for t in range(T - 1, -1, -1):
            dh = ghs[:, t] + dh
            dc = dc + dh * Kh[:, t]
            mul(Kc[:, t], dc[:, None], out=dA[:, t, :3])
            mul(Ko[:, t], dh, out=dA[:, t, 3])
            dc *= f[:, t]
            if t or self.needs_grad(1):
                dh = dA[:, t].reshape(N, 4 * H) @ WhT
        dA = dA.reshape(N * T, 4 * H)
        gx, gWx, gWh = _sequence_grads(self, xp, x, h0, hs, Wx, dA, dA, 3)
        gh0 = dh if self.needs_grad(1) else None
        gc0 = dc if self.needs_grad(2) else None
        gb = dA.sum(axis=0) if self.needs_grad(5) else None
        return gx, gh0, gc0, gWx, gWh, gb


# ==========================================================================================
# GRU, PyTorch's equations, gate order r, z, n
# ==========================================================================================
class GRU(Function):
    """GRU over a whole sequence with PyTorch's equations; gates (r, z, n) along the 3H axis.

    forward, per step (Wx = [Wx_r Wx_z Wx_n], Wh = [Wh_r Wh_z Wh_n], two biases as PyTorch)::

        r   = sigmoid(x_t Wx_r + bx_r + h Wh_r + bh_r)
        z   = sigmoid(x_t Wx_z + bx_z + h Wh_z + bh_z)
        hn  = h Wh_n + bh_n                       (kept separate: r multiplies it)
        n   = tanh(x_t Wx_n + bx_n + r * hn)
        h_t = (1 - z) * n + z * h                 (= n + z * (h - n))

    backward, per step with dh = dhs_t + (gradient from step t+1)::

        dn_pre = dh * (1 - z) * (1 - n**2)        -> x side of n, and  dhn = dn_pre * r
        dz_pre = dh * (h - n) * z(1-z),   dr_pre = dn_pre * hn * r(1-r)
        dh_{t-1} = dh * z + [dr_pre, dz_pre, dhn] @ Wh.T

    inputs (x, h0, Wx, Wh, bx, bh) -> outputs (hs, hT)
    """

    def forward(self, x, h0, Wx, Wh, bx, bh):
        xp = get_array_module(x)
        H = Wh.shape[0]
        N, T, F, H = _check("gru", x, h0, Wx, Wh, 3, (("bx", bx, (3 * H,)), ("bh", bh, (3 * H,))))
        m, _ = _sigmoid_scale(xp, 3, (0, 1), x.dtype)
        # GX: x-side pre-activations of all steps (one GEMM); its r, z part also gets the
        # h-side biases and is halved for the one-tanh sigmoid (see _sigmoid_scale).
        GX = (x.reshape(N * T, F) @ Wx).reshape(N, T, 3, H)
        GX += bx.reshape(3, H)
        GX[:, :, :2] += bh.reshape(3, H)[:2]
        GX *= m
        Whm = (Wh.reshape(H, 3, H) * m).reshape(H, 3 * H)
        bh_n = bh[2 * H:]
        gates = xp.empty((N, T, 3, H), dtype=x.dtype)  # r, z, n after activation
        HN = xp.empty((N, T, H), dtype=x.dtype)  # hn = h Wh_n + bh_n
        hs = xp.empty((N, T, H), dtype=x.dtype)
        tanh, mul, add = xp.tanh, xp.multiply, xp.add
        h = h0
        for t in range(T):
            hw = (h @ Whm).reshape(N, 3, H)
            rz = add(GX[:, t, :2], hw[:, :2], out=gates[:, t, :2])
            tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5  # r, z
            hn = add(hw[:, 2], bh_n, out=HN[:, t])
            n = mul(rz[:, 0], hn, out=gates[:, t, 2])
            n += GX[:, t, 2]
            tanh(n, out=n)
            hnew = xp.subtract(h, n, out=hs[:, t])
            hnew *= rz[:, 1]
            hnew += n
            h = hnew
        self.saved = (x, h0, Wx, Wh, gates, HN, hs)
        return hs, h.copy()

    def backward(self, ghs, ghT):
        x, h0, Wx, Wh, gates, HN, hs = self.saved
        xp = get_array_module(x)
        N, T, _, H = gates.shape
        r, z, n = gates[:, :, 0], gates[:, :, 1], gates[:, :, 2]
        h_prev = xp.concatenate((h0[:, None], hs[:, :-1]), axis=1)
        # All multipliers of dh, for all steps at once:
        #   dAh[:, t] = dh * Kh[:, t]  (r, z, and the h side of n),  dn_pre = dh * Kn[:, t]
        Kn = (1 - z) * (1 - n * n)
        Kh = xp.empty((N, T, 3, H), dtype=x.dtype)
        xp.multiply(Kn * HN, r * (1 - r), out=Kh[:, :, 0])
        xp.multiply(h_prev - n, z * (1 - z), out=Kh[:, :, 1])
        xp.multiply(Kn, r, out=Kh[:, :, 2])
        dAh = xp.empty((N, T, 3, H), dtype=x.dtype)  # gradient of the h-side pre-activations
        dAx = xp.empty((N, T, 3, H), dtype=x.dtype)  # ... of the x-side ones
        WhT = Wh.T
        dh = ghT
        mul = xp.multiply
        for t in range(T - 1, -1, -1):
            dh = ghs[:, t] + dh
            mul(Kh[:, t], dh[:, None], out=dAh[:, t])
            mul(Kn[:, t], dh, out=dAx[:, t, 2])
            dh_direct = dh * z[:, t]
            if t or self.needs_grad(1):
                dh = dAh[:, t].reshape(N, 3 * H) @ WhT
                dh += dh_direct
        dAx[:, :, :2] = dAh[:, :, :2]
        dAx = dAx.reshape(N * T, 3 * H)
        dAh = dAh.reshape(N * T, 3 * H)
        gx, gWx, gWh = _sequence_grads(self, xp, x, h0, hs, Wx, dAx, dAh, 2, h_prev)
        gh0 = dh if self.needs_grad(1) else None
        gbx = dAx.sum(axis=0) if self.needs_grad(4) else None
        gbh = dAh.sum(axis=0) if self.needs_grad(5) else None
        return gx, gh0, gWx, gWh, gbx, gbh


# ==========================================================================================
# the functions users call
# ==========================================================================================
def rnn(x, h0, Wx, Wh, b):
    """tanh RNN over a sequence: x (N, T, F), h0 (N, H), Wx (F, H), Wh (H, H), b (H,)
    -> (hs (N, T, H), hT (N, H)).  ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``."""
    return RNN()(x, h0, Wx, Wh, b)


def lstm(x, h0, c0, Wx, Wh, b):
    """LSTM over a sequence, gates (i, f, g, o) as PyTorch's and Keras's.

    x (N, T, F), h0 (N, H), c0 (N, H), Wx (F, 4H), Wh (H, 4H), b (4H,)
    -> (hs (N, T, H), hT (N, H), cT (N, H)).  See ``LSTM`` for the equations.
    """
    return LSTM()(x, h0, c0, Wx, Wh, b)


def gru(x, h0, Wx, Wh, bx, bh):
    """GRU over a sequence with PyTorch's equations, gates (r, z, n).

    x (N, T, F), h0 (N, H), Wx (F, 3H), Wh (H, 3H), bx (3H,) (PyTorch's b_ih), bh (3H,)
    (b_hh; its n part sits inside ``r * (h Wh_n + bh_n)``) -> (hs (N, T, H), hT (N, H)).
    """
    return GRU()(x, h0, Wx, Wh, bx, bh)
