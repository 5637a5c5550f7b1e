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

__all__ = ["lstm_gates_cell", "lstm_grad_step"]

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
def lstm_grad_step(ghs_t, dh, dc, gates_t, c_prev, tc_t, dA_t):
    """One backward step, from the step's gates gates_t (N, 4, H) (i, f, g, o), the cell
    before it c_prev and tanh(c_t) tc_t (both (N, H)): with d = ghs_t + dh and
    dc <- dc + d * (1 - tc^2) o (all (N, H)), dA_t (N, 4, H) =
    [dc g i(1-i), dc c_prev f(1-f), dc i(1-g^2), d o(1-o) tc]; then dc <- dc * f, in place
    (the cell gradient carried to the step before). Each factor is formed as the NumPy path's
    ``Kc``, ``Ko``, ``Kh`` (recurrent.LSTM.backward), so the bits are the same."""
    N, H = dh.shape
    one = dh.dtype.type(1)
    for n in range(N):
        for j in range(H):
            i, f, g, o = gates_t[n, 0, j], gates_t[n, 1, j], gates_t[n, 2, j], gates_t[n, 3, j]
            tc = tc_t[n, j]
            d = ghs_t[n, j] + dh[n, j]
            c = dc[n, j] + d * ((one - tc * tc) * o)
            dA_t[n, 0, j] = (g * (i * (one - i))) * c
            dA_t[n, 1, j] = (c_prev[n, j] * (f * (one - f))) * c
            dA_t[n, 2, j] = (i * (one - g * g)) * c
            dA_t[n, 3, j] = ((o * (one - o)) * tc) * d
            dc[n, j] = c * f
