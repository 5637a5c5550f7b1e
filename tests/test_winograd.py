"""The Winograd F(4x4, 3x3) path of conv2d (zerodl/functions/winograd.py, _fast_winograd.py).

It must give what the im2col path gives (forward, input and weight gradients) for every
padding it takes, odd sizes, tiny and chunked batches, in float64 and float32; the compiled
kernels must equal the NumPy reference; conv2d must actually take the path; and what it
returns (channels-last memory) must flow through ReLU and pooling unchanged in value.
Gradients by central differences are in test_gradcheck.py ("conv2d_winograd*").
"""
import numpy as np
import pytest

import zerodl as zd
from tests._threads import one_then_two_threads
import zerodl.functions as F
from zerodl.functions import conv, winograd as wg

RNG = np.random.default_rng(0)
# (N, C, C_out, H, W, padding)
SHAPES = [(2, 8, 5, 7, 7, 1), (3, 16, 16, 12, 9, 1), (2, 9, 4, 5, 6, 0), (1, 8, 3, 3, 3, 2),
          (4, 8, 8, 8, 8, 2), (1, 10, 2, 4, 13, 1)]


def _fast_or_skip():
    fast = wg._fast_transforms()
    if fast is None:
        pytest.skip("numba is not installed (pip install 'zerodl[fast]'): only the NumPy transforms run")
    return fast


@pytest.fixture(params=["numpy", "numba"])
def transforms(request, monkeypatch):
    """Run a test with the NumPy reference transforms, then with the compiled ones."""
    chosen = wg.NumpyTransforms if request.param == "numpy" else _fast_or_skip()
    monkeypatch.setattr(wg, "_in_use", chosen)
    return chosen


def _im2col_reference(x, W, b, padding, gy):
    w = conv.Windows("conv2d", x.shape, (3, 3), (1, 1), (padding, padding), c_out=W.shape[0])
    y = w.correlate(x, W.reshape(W.shape[0], -1), b)
    return y, conv._input_grad(w, gy, W), w.weight_grad(x, gy).reshape(W.shape)


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 3000], ids=["one-chunk", "many-chunks"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_winograd_equals_im2col(transforms, monkeypatch, shape, chunk_bytes):
    monkeypatch.setattr(wg, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(wg, "MIN_CHUNK_TILES", 1)
    N, C, C_out, H, W_, p = shape
    x, W, b = RNG.standard_normal((N, C, H, W_)), RNG.standard_normal((C_out, C, 3, 3)), RNG.standard_normal(C_out)
    gy = RNG.standard_normal((N, C_out, H + 2 * p - 2, W_ + 2 * p - 2))
    y_ref, gx_ref, gW_ref = _im2col_reference(x, W, b, p, gy)
    c = wg.WinogradConv(x.shape, (p, p))
    y = c.forward(x, W, b)
    assert y.shape == y_ref.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, y_ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(c.input_grad(gy, W), gx_ref, rtol=1e-11, atol=1e-11)
    gW, gb = c.weight_grad(gy, bias=True)
    np.testing.assert_allclose(gW, gW_ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(gb, gy.sum(axis=(0, 2, 3)), rtol=1e-11, atol=1e-11)
    assert c.weight_grad(gy)[1] is None


def test_winograd_float32_error_is_small(transforms):
    x = RNG.standard_normal((4, 32, 14, 14)).astype(np.float32)
    W = (RNG.standard_normal((32, 32, 3, 3)) / 17).astype(np.float32)
    y = wg.WinogradConv(x.shape, (1, 1)).forward(x, W)
    y64, _, _ = _im2col_reference(x.astype(np.float64), W.astype(np.float64), None, 1, np.zeros((4, 32, 14, 14)))
    assert y.dtype == np.float32
    assert np.abs(y - y64).max() <= 2e-5 * np.abs(y64).max()


def test_compiled_transforms_equal_the_numpy_reference():
    fast = _fast_or_skip()
    for dtype in (np.float64, np.float32):
        for N, C, H, W_, p in [(2, 8, 7, 7, 1), (3, 5, 14, 13, 2), (1, 3, 3, 3, 0), (2, 3, 6, 9, 1), (2, 16, 10, 11, 2)]:
            t = wg.Tiles((N, C, H, W_), (p, p))
            xh = RNG.standard_normal((N, H, W_, C)).astype(dtype)
            m = RNG.standard_normal((t.T, 36, 4)).astype(dtype)
            b = RNG.standard_normal(4).astype(dtype)
            gyh = RNG.standard_normal((N, t.OH, t.OW, 4)).astype(dtype)
            bt, at = wg.BT.astype(dtype), wg.AT.astype(dtype)
            tol = 1e-12 if dtype == np.float64 else 1e-4
            for name, args, out_shape in [("transform_input", (xh, t, bt), (t.T, 36, C)),
                                          ("transform_output", (m, t, at, b), (N, t.OH, t.OW, 4)),
                                          ("transform_grad_output", (gyh, t, at), (t.T, 36, 4))]:
                ref, got = np.empty(out_shape, dtype), np.empty(out_shape, dtype)
                getattr(wg.NumpyTransforms, name)(*args, ref)
                getattr(fast, name)(*args, got)
                np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=f"{name} {dtype.__name__}")


def test_compiled_input_transform_keeps_an_inf_in_the_tiles_that_read_it():
    """The padding rows are selected as 0, not multiplied by 0: an inf in image row 0 must not
    turn the bottom tiles (whose rows past the image are stand-ins for row 0) into NaN."""
    fast = _fast_or_skip()
    t = wg.Tiles((1, 16, 8, 8), (1, 1))  # tile row 0 reads image rows -1..4, tile row 1 rows 3..8
    xh = RNG.standard_normal((1, 8, 8, 16)).astype(np.float32)
    xh[0, 0, 3, 0] = np.inf
    v = np.empty((t.T, 36, 16), np.float32)
    fast.transform_input(xh, t, wg.BT.astype(np.float32), v)
    v = v.reshape(t.TH, t.TW, 36, 16)
    assert np.isfinite(v[1]).all()
    assert not np.isfinite(v[0]).all()


def test_conv2d_takes_the_winograd_path_only_where_it_applies(monkeypatch):
    x = zd.Tensor(RNG.standard_normal((2, 8, 6, 6)), requires_grad=True)
    W = zd.Tensor(RNG.standard_normal((4, 8, 3, 3)), requires_grad=True)
    y = F.conv2d(x, W, padding=1)
    assert isinstance(y.creator.w, wg.WinogradConv)
    for kwargs, w_shape, x_shape in [({"stride": 2}, (4, 8, 3, 3), (2, 8, 6, 6)),  # stride 2
                                     ({"padding": 3}, (4, 8, 3, 3), (2, 8, 6, 6)),  # padding > 2
                                     ({}, (4, 8, 5, 5), (2, 8, 6, 6)),              # 5x5 kernel
                                     ({}, (4, 3, 3, 3), (2, 3, 6, 6))]:             # few channels
        out = F.conv2d(zd.Tensor(RNG.standard_normal(x_shape)), zd.Tensor(RNG.standard_normal(w_shape), requires_grad=True), **kwargs)
        assert isinstance(out.creator.w, conv.Windows), kwargs
    monkeypatch.setattr(wg, "enabled", False)
    assert isinstance(F.conv2d(x, W, padding=1).creator.w, conv.Windows)


def test_channels_last_results_flow_through_relu_and_pool(transforms, monkeypatch):
    """y's memory is channels-last; ReLU and max-pool keep it, and every value equals the
    same net run on C-contiguous copies."""
    with zd.default_dtype(np.float64):  # values compared to 1e-10: no float32 ties in max-pool
        x = RNG.standard_normal((2, 8, 8, 8))
        W1, W2 = RNG.standard_normal((8, 8, 3, 3)), RNG.standard_normal((8, 8, 3, 3))

        def net(a):
            h = F.max_pool2d(F.relu(F.conv2d(a, zd.Tensor(W1), padding=1)), 2)
            return F.conv2d(h, zd.Tensor(W2), padding=1)

        xt = zd.Tensor(x, requires_grad=True)
        y1 = F.conv2d(xt, zd.Tensor(W1), padding=1)
        assert y1.data.transpose(0, 2, 3, 1).flags.c_contiguous
        r = F.relu(y1)
        assert r.data.transpose(0, 2, 3, 1).flags.c_contiguous
        assert F.max_pool2d(r, 2).data.transpose(0, 2, 3, 1).flags.c_contiguous
        out = net(xt)
        out.backward(zd.Tensor(np.ones(out.shape)))
        monkeypatch.setattr(wg, "enabled", False)
        with zd.no_grad():
            ref = net(zd.Tensor(x))
        np.testing.assert_allclose(out.data, ref.data, rtol=1e-10, atol=1e-10)
        assert xt.grad.shape == x.shape and np.isfinite(xt.grad.data).all()


def test_conv_stack_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 16, 10, 11)).astype(np.float32)
    W = (RNG.standard_normal((24, 16, 3, 3)) * 0.1).astype(np.float32)
    b = RNG.standard_normal(24).astype(np.float32)
    for p in (0, 1, 2):
        xt, Wt, bt = (zd.Tensor(a, requires_grad=True) for a in (x, W, b))
        y = F.conv2d(xt, Wt, bt, padding=p)
        assert isinstance(y.creator.w, wg.WinogradConv)
        (y * y).sum().backward()
        tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        ty = torch.nn.functional.conv2d(tx, tW, tb, padding=p)
        (ty * ty).sum().backward()
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
        for mine, theirs in ((xt, tx), (Wt, tW), (bt, tb)):
            scale = np.abs(theirs.grad.numpy()).max()
            np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("kernel, stride, channels", [(3, 1, 16), (5, 1, 3), (4, 2, 8)], ids=["winograd", "im2col", "phased"])
def test_two_threads_give_the_one_thread_result_bitwise(monkeypatch, kernel, stride, channels):
    """Chunks on zerodl's thread pool (core.threads.map_chunks) change who computes, not what."""
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(wg, "_CHUNK_BYTES", 20000)
    monkeypatch.setattr(wg, "MIN_CHUNK_TILES", 1)
    from zerodl.functions import windows
    monkeypatch.setattr(windows, "_CHUNK_BYTES", 20000)
    monkeypatch.setattr(windows, "_CHUNK_BYTES_PHASED", 20000)
    x = RNG.standard_normal((12, channels, 14, 14)).astype(np.float32)
    W = RNG.standard_normal((8, channels, kernel, kernel)).astype(np.float32)

    def run():
        xt, Wt = zd.Tensor(x, requires_grad=True), zd.Tensor(W, requires_grad=True)
        y = F.conv2d(xt, Wt, stride=stride, padding=1)
        path = type(y.creator.w)
        (y * y).sum().backward()
        return y.data, xt.grad.data, Wt.grad.data, path

    one, two = one_then_two_threads(run)
    assert one[3] is two[3] and (one[3] is wg.WinogradConv) == (kernel == 3)
    for a, b in zip(one[:3], two[:3]):
        np.testing.assert_array_equal(a, b)


def test_relu_and_max_pool_on_the_pool_equal_one_thread_bitwise():
    pytest.importorskip("threadpoolctl")
    from zerodl.functions import _util
    x = RNG.standard_normal((4, 16, 128, 128)).astype(np.float32)
    assert x.size // 4 >= _util.POOL_MIN_ELEMENTS  # the pooled output too

    def run():
        xt = zd.Tensor(x, requires_grad=True)
        y = F.max_pool2d(F.relu(xt), 2)
        z = F.max_pool2d(F.relu(xt), 3, stride=2, padding=1)  # overlapping windows
        (y.sum() * 2 + (z * z).sum()).backward()
        return y.data, z.data, xt.grad.data

    one, two = one_then_two_threads(run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_no_grad_forward_keeps_no_transformed_tiles():
    x, W = RNG.standard_normal((2, 8, 6, 6)), RNG.standard_normal((4, 8, 3, 3))
    c = wg.WinogradConv(x.shape, (1, 1))
    with zd.no_grad():
        y = c.forward(x, W)
    assert not hasattr(c, "v")
    kept = wg.WinogradConv(x.shape, (1, 1))
    np.testing.assert_allclose(kept.forward(x, W), y, rtol=1e-12, atol=1e-12)
    assert kept.v.shape == (kept.tiles.T, 36, 8)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv_transpose_stride1_3x3_takes_winograd_and_equals_im2col(transforms, monkeypatch, padding):
    """conv_transpose2d with stride 1 is the conv2d of x padded by 2 - P with the flipped,
    channel-swapped kernel: Winograd runs it, forward and both gradients, equal (float64) to
    the im2col path it replaces."""
    x = RNG.standard_normal((3, 12, 7, 6))
    W = RNG.standard_normal((12, 5, 3, 3))   # (C_in, C_out, 3, 3)
    b = RNG.standard_normal(5)
    R = RNG.standard_normal((3, 5, 7 + 2 - 2 * padding, 6 + 2 - 2 * padding))

    def run():
        ts = [zd.Tensor(a, requires_grad=True, dtype=np.float64) for a in (x, W, b)]
        y = F.conv_transpose2d(*ts, padding=padding)
        path = type(y.creator.w)  # before backward frees the graph
        (y * zd.Tensor(R, dtype=np.float64)).sum().backward()
        return path, [y.data] + [t.grad for t in ts]

    path, fast = run()
    assert path is wg.WinogradConv
    monkeypatch.setattr(wg, "enabled", False)
    path, ref = run()
    assert path is conv.Windows
    for a, r in zip(fast, ref):
        assert a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_conv_transpose_stride1_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((4, 32, 7, 7)).astype(np.float32)
    W = (RNG.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    b = RNG.standard_normal(16).astype(np.float32)
    xt, Wt, bt = (zd.Tensor(a, requires_grad=True) for a in (x, W, b))
    y = F.conv_transpose2d(xt, Wt, bt, padding=1)
    assert isinstance(y.creator.w, wg.WinogradConv)
    (y * y).sum().backward()
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ty = torch.nn.functional.conv_transpose2d(tx, tW, tb, padding=1)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, theirs in ((xt, tx), (Wt, tW), (bt, tb)):
        scale = np.abs(theirs.grad.numpy()).max()
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-4, atol=1e-4 * scale)


def test_large_im2col_columns_are_split_for_the_pool_whatever_the_threads():
    """A first layer (one input channel: im2col, one chunk by size) is still cut in
    windows._MIN_CHUNKS chunks so that both cores work on it; the cut does not depend on the
    thread count, so 1 and 2 threads give the same bits."""
    pytest.importorskip("threadpoolctl")
    from zerodl.functions import windows
    x = RNG.standard_normal((16, 1, 48, 48)).astype(np.float32)
    W = RNG.standard_normal((8, 1, 3, 3)).astype(np.float32)
    w = windows.Windows("conv2d", x.shape, (3, 3), (1, 1), (1, 1), c_out=8)
    assert w.N * w.CKK * w.L * 4 >= windows._POOL_MIN_BYTES
    assert len(w.chunks(np, 4)) == windows._MIN_CHUNKS

    def run():
        xt, Wt = zd.Tensor(x, requires_grad=True), zd.Tensor(W, requires_grad=True)
        y = F.conv2d(xt, Wt, padding=1)
        (y * y).sum().backward()
        return y.data, xt.grad.data, Wt.grad.data

    one, two = one_then_two_threads(run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_chunks_hold_at_least_min_chunk_tiles_tiles():
    """Small images of many channels: chunks of at least MIN_CHUNK_TILES tiles (the GEMMs' rows),
    whatever the byte budget says; still equal, an even number, covering the batch."""
    m = wg.MIN_CHUNK_TILES
    t = wg.Tiles((m, 512, 4, 4), (1, 1), None, 4, 6)  # one tile per sample
    chunks = list(t.chunks(512, 4))
    assert [(c[0], c[1]) for c in chunks] == [(0, m)]
    t = wg.Tiles((4 * m, 512, 4, 4), (1, 1), None, 4, 6)
    chunks = list(t.chunks(512, 4))
    assert [(c[0], c[1]) for c in chunks] == [(k * m, (k + 1) * m) for k in range(4)]
    t = wg.Tiles((m, 512, 8, 8), (1, 1), None, 4, 6)  # four tiles per sample: m // 4 samples a chunk
    assert [(c[0], c[1]) for c in t.chunks(512, 4)] == [(k * m // 4, (k + 1) * m // 4) for k in range(4)]
