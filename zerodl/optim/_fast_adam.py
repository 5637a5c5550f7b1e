"""A Numba kernel for Adam's update (optional: ``pip install zerodl[fast]``).

``Adam._step_group`` (adam.py) is the readable default and the reference: this loop does the
same float operations in the same order, one parameter element at a time, so its result is
the same to the bit (tests/test_fast_pointwise.py), in one pass over the four arrays instead
of one pass per NumPy operation. Compiled on first use for the dtype, cached on disk.
"""
import math

import numba

__all__ = ["adam_update"]


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def adam_update(d, g, m, v, b1, b2, eps_sbc2, step):
    """In place, on flat arrays of one dtype (the coefficients already in it)::

        m = b1 * m + (1 - b1) * g;   v = b2 * v + (1 - b2) * g * g
        d -= step * m / (sqrt(v) + eps_sbc2)

    with ``a1 = 1 - b1`` etc. passed precomputed as in adam.py: b1 = (b1, 1 - b1), b2 likewise.
    """
    b1k, b1c = b1
    b2k, b2c = b2
    for i in range(d.size):
        gi = g[i]
        mi = m[i] * b1k + gi * b1c
        vi = v[i] * b2k + gi * b2c * gi
        m[i] = mi
        v[i] = vi
        d[i] -= mi / (math.sqrt(vi) + eps_sbc2) * step
