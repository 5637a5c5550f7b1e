"""The Numba kernels of zerodl/functions/_fast_pool.py (2x2 max pooling, stride 2) against the
NumPy code they replace: values, offsets and gradients, both memory layouts, odd sizes, ties,
NaN, the thread pool (skipped without numba)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
from zerodl.functions import pooling as pooling_module

pytest.importorskip("numba")
from zerodl.functions import _fast_pool  # noqa: E402  (needs numba)

RNG = np.random.default_rng(5)


def _channels_last(a):
    """The same (N, C, H, W) values with channels-last memory."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _pool(monkeypatch, fast, x, gy, **kw):
    monkeypatch.setattr(pooling_module, "fast_module", lambda name: fast)
    t = zd.tensor(x, requires_grad=True, dtype=x.dtype)
    y = F.max_pool2d(t, 2, **kw)
    y.backward(gy)
    return y.data, t.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 7, 6), (2, 4, 8, 8), (2, 1, 5, 5), (2, 3, 2, 3)])
@pytest.mark.parametrize("x_last, gy_last", [(False, False), (True, True), (False, True), (True, False)])
def test_max_pool2_kernels_match_numpy(monkeypatch, dtype, shape, x_last, gy_last):
    x = RNG.standard_normal(shape).astype(dtype)
    x[0, 0, :2, :2] = 1.5  # a tie: the first offset wins in both
    x = _channels_last(x) if x_last else x
    gy = RNG.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(dtype)
    gy = _channels_last(gy) if gy_last else gy
    (y_ref, g_ref), (y, g) = (_pool(monkeypatch, fast, x, gy) for fast in (None, _fast_pool))
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(g, g_ref)  # odd last rows / columns: zero gradient in both
    assert y.dtype == g.dtype == dtype
    # the output keeps the input's memory layout, as the NumPy code's does (the next Winograd
    # layer reads a channels-last one without a copy)
    for a, b in ((y, y_ref), (g, g_ref)):
        assert (a.flags.c_contiguous, a.transpose(0, 2, 3, 1).flags.c_contiguous) == \
            (b.flags.c_contiguous, b.transpose(0, 2, 3, 1).flags.c_contiguous)


def test_max_pool2_nan_propagates_as_in_pytorch(monkeypatch):
    x = RNG.standard_normal((1, 2, 4, 4))
    x[0, 0, 1, 0] = np.nan     # window (0, 0): the NaN at offset 2 is the maximum
    x[0, 1, 0, 0] = np.nan     # window (0, 0) of channel 1: NaN at offset 0, larger values after it
    x[0, 1, 0, 1] = 10.0
    gy = np.ones((1, 2, 2, 2))
    y, g = _pool(monkeypatch, _fast_pool, x, gy)
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[0, 1, 0, 0])
    assert g[0, 0, 1, 0] == 1 and g[0, 0, :2, :2].sum() == 1
    assert g[0, 1, 0, 0] == 1 and g[0, 1, 0, 1] == 0
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2).backward(torch.tensor(gy))
    np.testing.assert_array_equal(g, xt.grad.numpy())


def test_max_pool2_kernels_on_the_thread_pool(monkeypatch):
    """Large enough to be split over the batch: two threads give the bits of one."""
    x = _channels_last(RNG.standard_normal((16, 32, 32, 32)).astype(np.float32))
    gy = RNG.standard_normal((16, 32, 16, 16)).astype(np.float32)
    out = {}
    for n in (1, 2):
        zd.set_num_threads(n)
        try:
            out[n] = _pool(monkeypatch, _fast_pool, x, gy)
        finally:
            zd.set_num_threads(1)
    for a, b in zip(out[1], out[2]):
        np.testing.assert_array_equal(a, b)


def test_other_windows_keep_the_numpy_path(monkeypatch):
    """Only 2x2 / stride 2 / no padding has kernels: a 3x3 pool never calls them."""
    monkeypatch.setattr(pooling_module, "fast_module", lambda name: pytest.fail("kernel used for a 3x3 pool"))
    y = F.max_pool2d(zd.tensor(RNG.standard_normal((1, 1, 6, 6)), requires_grad=True), 3)
    y.sum().backward()
    assert y.shape == (1, 1, 2, 2)
