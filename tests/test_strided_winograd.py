"""4x4 stride-2 conv2d / conv_transpose2d through Winograd F(4x4, 2x2) on phase images
(zerodl/functions/strided_winograd.py, the generic kernels of _fast_winograd.py).

The Toom-Cook construction must give back F(4x4, 3x3)'s matrices and a correct F(4, 2); the
path must give what im2col gives (forward, both gradients, bias) for every padding, odd and
even sizes, one and many chunks, float64 and float32; the compiled kernels must equal the NumPy
reference; conv2d and conv_transpose2d must take the path only where it applies; two threads
must give the one-thread result bitwise. Central differences and PyTorch: test_gradcheck.py
("conv2d_4x4_s2_winograd*", "conv_transpose2d_4x4_s2_winograd").
"""
import numpy as np
import pytest

import zerodl as zd
from tests._threads import one_then_two_threads
import zerodl.functions as F
from zerodl.functions import _util as util, conv, strided_winograd as sw, winograd as wg

RNG = np.random.default_rng(0)
# conv2d: (N, C, C_out, H, W, padding); H + 2 * padding and W + 2 * padding even
SHAPES = [(2, 16, 5, 14, 14, 1), (3, 16, 8, 8, 6, 0), (2, 17, 3, 7, 9, 3), (1, 20, 4, 10, 4, 2),
          (4, 16, 6, 5, 5, 1), (2, 16, 2, 4, 4, 0)]


@pytest.fixture(params=["numpy", "numba"])
def transforms(request, monkeypatch):
    """Run a test with the NumPy reference (transforms and kernel transforms), then compiled."""
    if request.param == "numpy":
        monkeypatch.setattr(sw, "_fast", lambda: None)
    elif sw._fast() is None:
        pytest.skip("numba is not installed (pip install 'zerodl[fast]')")
    return request.param


def _im2col(x, W, b, padding, gy):
    w = conv.Windows("conv2d", x.shape, (4, 4), (2, 2), (padding, padding), c_out=W.shape[0])
    y = w.correlate(x, W.reshape(W.shape[0], -1), b)
    return y, w.fold(gy, W.reshape(W.shape[0], -1)), w.weight_grad(x, gy).reshape(W.shape)


def test_toom_cook_gives_back_f43_and_a_correct_f42():
    bt, g, at = sw.toom_cook((0, 1, -1, 2, -2), 4, 3)
    np.testing.assert_array_equal(bt, wg.BT)
    np.testing.assert_array_equal(g, wg.G)
    np.testing.assert_array_equal(at, wg.AT)
    d, k = RNG.standard_normal(5), RNG.standard_normal(2)
    y = sw.AT @ ((sw.G @ k) * (sw.BT @ d))
    np.testing.assert_allclose(y, [d[i] * k[0] + d[i + 1] * k[1] for i in range(4)], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 3000], ids=["one-chunk", "many-chunks"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_conv2d_equals_im2col(transforms, monkeypatch, shape, chunk_bytes):
    monkeypatch.setattr(wg, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(wg, "MIN_CHUNK_TILES", 1)
    monkeypatch.setattr(sw.StridedWinogradConv, "weight_grad_chunk_bytes", chunk_bytes)
    N, C, C_out, H, W_, p = shape
    x, W, b = RNG.standard_normal((N, C, H, W_)), RNG.standard_normal((C_out, C, 4, 4)), RNG.standard_normal(C_out)
    gy = RNG.standard_normal((N, C_out, (H + 2 * p - 4) // 2 + 1, (W_ + 2 * p - 4) // 2 + 1))
    y_ref, gx_ref, gW_ref = _im2col(x, W, b, p, gy)
    c = sw.StridedWinogradConv(x.shape, (p, p))
    y = c.forward(x, W, b)
    assert y.shape == y_ref.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, y_ref, rtol=1e-11, atol=1e-11)
    gx = c.input_grad(gy, W)
    assert gx.shape == x.shape
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-11, atol=1e-11)
    gW, gb = c.weight_grad(gy, bias=True)
    np.testing.assert_allclose(gW, gW_ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(gb, gy.sum(axis=(0, 2, 3)), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv_transpose2d_takes_the_path_and_equals_im2col(transforms, monkeypatch, padding):
    x = RNG.standard_normal((3, 6, 5, 4))
    W, b = RNG.standard_normal((6, 16, 4, 4)), RNG.standard_normal(16)

    def run():
        xt, Wt, bt = (zd.tensor(a, dtype=np.float64, requires_grad=True) for a in (x, W, b))
        y = F.conv_transpose2d(xt, Wt, bt, stride=2, padding=padding)
        path = type(y.creator.w)
        (y * y).sum().backward()
        return path, y.data, np.asarray(xt.grad), np.asarray(Wt.grad), np.asarray(bt.grad)

    got = run()
    monkeypatch.setattr(sw, "MIN_CHANNELS", 10 ** 9)
    ref = run()
    assert got[0] is sw.StridedWinogradConv and ref[0] is conv.Windows
    assert got[1].shape == (3, 16, 2 * 5 - 2 * padding + 2, 2 * 4 - 2 * padding + 2)
    for a, r in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_weight_gradient_alone(transforms, monkeypatch):
    """An input without gradient: only gy's tiles are transformed for gW (no conv of gy)."""
    x, W = RNG.standard_normal((2, 4, 5, 5)), RNG.standard_normal((4, 16, 4, 4))

    def run():
        Wt = zd.tensor(W, dtype=np.float64, requires_grad=True)
        y = F.conv_transpose2d(zd.tensor(x, dtype=np.float64), Wt, stride=2, padding=1)
        path = type(y.creator.w)
        (y * y).sum().backward()
        return path, np.asarray(Wt.grad)

    calls = []
    forward = sw.StridedWinogradConv.forward
    monkeypatch.setattr(sw.StridedWinogradConv, "forward", lambda self, *a, **k: calls.append(1) or forward(self, *a, **k))
    got = run()
    assert got[0] is sw.StridedWinogradConv and calls == []
    monkeypatch.setattr(sw, "MIN_CHANNELS", 10 ** 9)
    ref = run()
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-10, atol=1e-10)


def test_float32_error_is_small(transforms):
    x = RNG.standard_normal((4, 64, 14, 14)).astype(np.float32)
    W = (RNG.standard_normal((32, 64, 4, 4)) / 32).astype(np.float32)
    gy = RNG.standard_normal((4, 32, 7, 7)).astype(np.float32)
    c = sw.StridedWinogradConv(x.shape, (1, 1))
    y, gx, (gW, _) = c.forward(x, W), c.input_grad(gy, W), c.weight_grad(gy)
    refs = _im2col(x.astype(np.float64), W.astype(np.float64), None, 1, gy.astype(np.float64))
    for got, ref in zip((y, gx, gW), refs):
        assert got.dtype == np.float32
        assert np.abs(got - ref).max() <= 2e-5 * np.abs(ref).max()


def test_compiled_kernels_equal_the_numpy_reference():
    fast = sw._fast()
    if fast is None:
        pytest.skip("numba is not installed")
    for dtype in (np.float64, np.float32):
        tol = 1e-12 if dtype == np.float64 else 1e-5
        for N, C, H, W_, p, out in [(2, 8, 8, 8, 0, (7, 7)), (3, 5, 7, 7, 1, (8, 8)), (1, 3, 5, 9, 0, (4, 8)),
                                    (2, 4, 6, 3, 1, (7, 4))]:
            t = wg.Tiles((N, C, H, W_), (p, p), out, 4, 5)
            xh = RNG.standard_normal((N, H, W_, C)).astype(dtype)
            m = RNG.standard_normal((t.T, 25, 3)).astype(dtype)
            b = RNG.standard_normal(3).astype(dtype)
            gyh = RNG.standard_normal((N, t.OH, t.OW, 3)).astype(dtype)
            bt, at = sw.BT.astype(dtype), sw.AT.astype(dtype)
            for name, args, out_shape in [("transform_input", (xh, t, bt), (t.T, 25, C)),
                                          ("transform_output", (m, t, at, b), (N, t.OH, t.OW, 3)),
                                          ("transform_grad_output", (gyh, t, at), (t.T, 25, 3))]:
                ref, got = np.empty(out_shape, dtype), np.empty(out_shape, dtype)
                getattr(wg.NumpyTransforms, name)(*args, ref)
                getattr(fast.AnyTiles, name)(*args, got)
                np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=f"{name} {dtype.__name__}")
        W = RNG.standard_normal((7, 5, 4, 4)).astype(dtype)
        for flip in (False, True):
            w2 = sw.phase_kernel(W)
            ref = sw.kernel_transform(wg.flipped(w2) if flip else w2, dtype)
            np.testing.assert_allclose(sw.phase_transform(W, dtype, flip), ref, rtol=tol, atol=tol)
        mu = RNG.standard_normal((25, 20, 7)).astype(dtype)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sw, "_fast", lambda: None)
            ref = sw.phase_grad_transform(mu, 5, dtype)
        np.testing.assert_allclose(sw.phase_grad_transform(mu, 5, dtype), ref, rtol=tol, atol=tol)


def test_the_path_is_taken_only_where_it_applies(monkeypatch):
    def path(x_shape, w_shape, **kw):
        y = F.conv2d(zd.Tensor(RNG.standard_normal(x_shape)), zd.Tensor(RNG.standard_normal(w_shape), requires_grad=True), **kw)
        return type(y.creator.w)

    assert path((2, 16, 6, 6), (4, 16, 4, 4), stride=2, padding=1) is sw.StridedWinogradConv
    assert path((2, 16, 7, 6), (4, 16, 4, 4), stride=2, padding=1) is conv.Windows   # 7 + 2 is odd
    assert path((2, 8, 6, 6), (4, 8, 4, 4), stride=2, padding=1) is conv.Windows     # few channels
    assert path((2, 16, 6, 6), (4, 16, 4, 4), stride=1, padding=1) is conv.Windows   # stride 1
    assert path((2, 16, 6, 6), (4, 16, 5, 5), stride=2, padding=1) is conv.Windows   # 5x5
    monkeypatch.setattr(wg, "enabled", False)  # ZERODL_WINOGRAD=0 turns it off too
    assert path((2, 16, 6, 6), (4, 16, 4, 4), stride=2, padding=1) is conv.Windows


def test_no_grad_forward_keeps_no_transformed_tiles():
    x, W = RNG.standard_normal((2, 16, 6, 6)), RNG.standard_normal((4, 16, 4, 4))
    c = sw.StridedWinogradConv(x.shape, (1, 1))
    with zd.no_grad():
        c.forward(x, W)
    assert not hasattr(c, "v")


def test_two_threads_give_the_one_thread_result_bitwise(monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(wg, "_CHUNK_BYTES", 20000)
    monkeypatch.setattr(wg, "MIN_CHUNK_TILES", 1)
    monkeypatch.setattr(sw.StridedWinogradConv, "weight_grad_chunk_bytes", 20000)
    monkeypatch.setattr(util, "POOL_MIN_ELEMENTS", 1000)  # phase images, depth-to-space and copies in pieces
    x = RNG.standard_normal((12, 16, 14, 14)).astype(np.float32)
    W = RNG.standard_normal((8, 16, 4, 4)).astype(np.float32)
    Wt_ = RNG.standard_normal((8, 16, 4, 4)).astype(np.float32)

    def run():
        xt, Wt, W2 = zd.Tensor(x, requires_grad=True), zd.Tensor(W, requires_grad=True), zd.Tensor(Wt_, requires_grad=True)
        y = F.conv2d(xt, Wt, stride=2, padding=1)
        z = F.conv_transpose2d(y, W2, stride=2, padding=1)
        assert type(y.creator.w) is type(z.creator.w) is sw.StridedWinogradConv
        (z * z).sum().backward()
        return z.data, np.asarray(xt.grad), np.asarray(Wt.grad), np.asarray(W2.grad)

    one, two = one_then_two_threads(run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
