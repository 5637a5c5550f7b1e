"""Numba kernels for the LSTM's element-wise work (optional: ``pip install zerodl[fast]``).

``recurrent.LSTM``'s NumPy code is the readable default and the reference these kernels are
tested against (tests/test_fast_recurrent.py, to the bit): per time step it makes some ten
passes over (N, H) and (N, 4, H) arrays, each a NumPy call on a small array; these loops do
the same arithmetic, in the same order (no fused multiply-adds: ``fastmath`` is off), in one
pass. Only with the default activations (sigmoid gates through one tanh, see
``_recurrent_util.gate_scale``); the tanh itself stays NumPy's, which is vectorised (Numba's
is a scalar library call, many times slower). Constants take the arrays' dtype, so float32
stays float32.
"""
import numba

__all__ = ["lstm_gates_cell", "lstm_grad_factors", "lstm_grad_step"]

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def lstm_gates_cell(a, m, k, c_prev, c):
    """One forward step after ``tanh`` of the gate block: a (N, 4, H) becomes the gates
    ``a * m + k`` (i, f, g, o; m, k (4, H)), and c (N, H) = f * c_prev + i * g."""
    N, _, H = a.shape
    for n in range(N):
        for j in range(H):
            i = a[n, 0, j] * m[0, j] + k[0, j]
            f = a[n, 1, j] * m[1, j] + k[1, j]
            g = a[n, 2, j] * m[2, j] + k[2, j]
            a[n, 0, j], a[n, 1, j], a[n, 2, j] = i, f, g
            a[n, 3, j] = a[n, 3, j] * m[3, j] + k[3, j]
            c[n, j] = f * c_prev[n, j] + i * g


@_jit
def lstm_grad_factors(G, c0, cs, tcs, Kc, Ko, Kh):
    """What backward multiplies the carried gradients by, for every step: from the gates
    G (T, N, 4, H), the cells c_t (cs, (T, N, H); c0 before the first) and tanh(c_t) (tcs)::

        Kc = [g i(1-i), c_prev f(1-f), i (1-g^2)]  (T, N, 3, H)
        Ko = o(1-o) tanh(c)                        (T, N, H)
        Kh = (1 - tanh(c)^2) o                     (T, N, H)
    """
    T, N, _, H = G.shape
    one = G.dtype.type(1)
    for t in range(T):
        for n in range(N):
            for j in range(H):
                i, f, g, o = G[t, n, 0, j], G[t, n, 1, j], G[t, n, 2, j], G[t, n, 3, j]
                c_prev = c0[n, j] if t == 0 else cs[t - 1, n, j]
                tc = tcs[t, n, j]
                Kc[t, n, 0, j] = g * (i * (one - i))
                Kc[t, n, 1, j] = c_prev * (f * (one - f))
                Kc[t, n, 2, j] = i * (one - g * g)
                Ko[t, n, j] = (o * (one - o)) * tc
                Kh[t, n, j] = (one - tc * tc) * o


@_jit
def lstm_grad_step(ghs_t, dh, dc, Kc_t, Ko_t, Kh_t, f_t, dA_t):
    """One backward step: with d = ghs_t + dh and dc <- dc + d * Kh_t (all (N, H)),
    dA_t (N, 4, H) = [Kc_t * dc, Ko_t * d]; then dc <- dc * f_t, in place (the cell gradient
    carried to the step before)."""
    N, H = dh.shape
    for n in range(N):
        for j in range(H):
            d = ghs_t[n, j] + dh[n, j]
            c = dc[n, j] + d * Kh_t[n, j]
            dA_t[n, 0, j] = Kc_t[n, 0, j] * c
            dA_t[n, 1, j] = Kc_t[n, 1, j] * c
            dA_t[n, 2, j] = Kc_t[n, 2, j] * c
            dA_t[n, 3, j] = Ko_t[n, j] * d
            dc[n, j] = c * f_t[n, j]
