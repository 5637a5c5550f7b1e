"""The Numba kernels of zerodl/functions/_fast_recurrent.py (the LSTM's element-wise work)
against the NumPy code they replace: the same arithmetic in the same order, so the same bits,
forward and backward (skipped without numba)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
from zerodl.functions import recurrent as recurrent_module

pytest.importorskip("numba")
from zerodl.functions import _fast_recurrent  # noqa: E402  (needs numba)

RNG = np.random.default_rng(21)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zero_state", [True, False], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("loss_on", ["hs", "last"])
def test_lstm_kernels_give_the_numpy_bits(monkeypatch, dtype, zero_state, loss_on):
    N, T, D, H = 5, 6, 4, 7
    x = RNG.standard_normal((N, T, D)).astype(dtype)
    Wx, Wh = (RNG.standard_normal((D, 4 * H)) * 0.5).astype(dtype), (RNG.standard_normal((H, 4 * H)) * 0.5).astype(dtype)
    b = RNG.standard_normal(4 * H).astype(dtype)
    h0 = np.zeros((N, H), dtype) if zero_state else RNG.standard_normal((N, H)).astype(dtype)
    c0 = np.zeros((N, H), dtype) if zero_state else RNG.standard_normal((N, H)).astype(dtype)
    R = RNG.standard_normal((N, T, H)).astype(dtype)

    def run():
        ts = [zd.tensor(a, requires_grad=True, dtype=dtype) for a in (x, h0, c0, Wx, Wh, b)]
        hs, hT, cT = F.lstm(*ts)
        loss = (hs * zd.tensor(R, dtype=dtype)).sum() if loss_on == "hs" else (hT * hT).sum() + cT.sum()
        loss.backward()
        return [hs.data, hT.data, cT.data] + [t.grad for t in ts]

    out = []
    for kernels in (None, _fast_recurrent):
        monkeypatch.setattr(recurrent_module, "fast_module", lambda name, k=kernels: k)
        out.append(run())
    for a, b_ in zip(*out):
        assert b_.dtype == dtype
        np.testing.assert_array_equal(b_, a)
