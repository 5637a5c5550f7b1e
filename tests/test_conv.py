"""conv2d, conv_transpose2d, max/avg pooling, im2col/col2im: values against naive float64 loops,
adjointness, gradients against central differences, dtypes, chunking and error messages."""

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
from zerodl.functions import conv as conv_module
from zerodl.functions import windows as windows_module

RNG = np.random.default_rng(0)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _t(a, requires_grad=True):
    return zd.tensor(a, requires_grad=requires_grad, dtype=a.dtype)


# ----------------------------------------------------------------------------- naive oracles
def naive_conv2d(x, W, b=None, stride=1, padding=0):
    (SH, SW), (PH, PW) = _pair(stride), _pair(padding)
    N, C, H, Wd = x.shape
    CO, _, KH, KW = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH, OW = (H + 2 * PH - KH) // SH + 1, (Wd + 2 * PW - KW) // SW + 1
    y = np.zeros((N, CO, OH, OW))
    for n in range(N):
        for co in range(CO):
            for oh in range(OH):
                for ow in range(OW):
                    win = xp[n, :, oh * SH : oh * SH + KH, ow * SW : ow * SW + KW]
                    y[n, co, oh, ow] = (win * W[co]).sum() + (0 if b is None else b[co])
    return y


def naive_conv_transpose2d(x, W, b=None, stride=1, padding=0):
    """PyTorch's definition: every input pixel scatters x * W[c_in] into the output, then crop."""
    (SH, SW), (PH, PW) = _pair(stride), _pair(padding)
    N, CI, H, Wd = x.shape
    _, CO, KH, KW = W.shape
    full = np.zeros((N, CO, (H - 1) * SH + KH, (Wd - 1) * SW + KW))
    for n in range(N):
        for ci in range(CI):
            for h in range(H):
                for w in range(Wd):
                    full[n, :, h * SH : h * SH + KH, w * SW : w * SW + KW] += x[n, ci, h, w] * W[ci]
    OH, OW = (H - 1) * SH - 2 * PH + KH, (Wd - 1) * SW - 2 * PW + KW
    y = full[:, :, PH : PH + OH, PW : PW + OW]
    return y if b is None else y + b[:, None, None]


def naive_pool(x, kernel, stride, padding, mode, gy=None):
    """(y, gx): max routes gy to the first maximum of each window (row-major), as PyTorch."""
    (KH, KW), (PH, PW) = _pair(kernel), _pair(padding)
    SH, SW = _pair(kernel if stride is None else stride)
    N, C, H, Wd = x.shape
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)), constant_values=fill)
    OH, OW = (H + 2 * PH - KH) // SH + 1, (Wd + 2 * PW - KW) // SW + 1
    y = np.zeros((N, C, OH, OW))
    gxp = np.zeros_like(xp)
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    h0, w0 = oh * SH, ow * SW
                    win = xp[n, c, h0 : h0 + KH, w0 : w0 + KW]
                    if mode == "max":
                        k = int(np.argmax(win))  # the first maximum
                        y[n, c, oh, ow] = win.flat[k]
                        if gy is not None:
                            gxp[n, c, h0 + k // KW, w0 + k % KW] += gy[n, c, oh, ow]
                    else:
                        y[n, c, oh, ow] = win.sum() / (KH * KW)
                        if gy is not None:
                            gxp[n, c, h0 : h0 + KH, w0 : w0 + KW] += gy[n, c, oh, ow] / (KH * KW)
    return y, gxp[:, :, PH : PH + H, PW : PW + Wd]


def numerical_grads(f, arrays, eps=1e-6):
    """Central differences of the scalar f(*arrays) with respect to every array (float64)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            fp = f(*arrays)
            flat[k] = old - eps
            fm = f(*arrays)
            flat[k] = old
            gflat[k] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def check_grads(op, arrays, rtol=1e-5, atol=1e-7):
    """Backpropagate a random projection R of op's output and compare with central differences."""
    out = op(*[_t(a) for a in arrays])
    R = RNG.standard_normal(out.shape)

    def f(*arrs):
        return float((op(*[_t(a, False) for a in arrs]).data * R).sum())

    ts = [_t(a) for a in arrays]
    op(*ts).backward(R)
    for t, num in zip(ts, numerical_grads(f, [a.copy() for a in arrays])):
        np.testing.assert_allclose(t.grad, num, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- conv2d
CONV_CASES = [
    # x shape, W shape, stride, padding
    ((2, 3, 7, 8), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 8), (4, 3, 3, 2), 1, 1),
    ((2, 2, 9, 8), (3, 2, 3, 3), 2, 1),
    ((2, 2, 10, 11), (3, 2, 4, 3), (2, 3), (1, 2)),
    ((1, 1, 5, 5), (2, 1, 5, 5), 1, 0),
    ((3, 4, 6, 6), (2, 4, 1, 1), 1, 0),
    ((2, 2, 8, 8), (3, 2, 3, 3), 3, 0),
    ((2, 1, 6, 7), (2, 1, 2, 3), 1, 2),
    ((2, 1, 7, 6), (10, 1, 3, 3), 1, 1),  # the channels-last output (conv.nhwc_output)
    ((2, 1, 9, 8), (10, 1, 3, 3), 2, 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES)
def test_conv2d_values_and_grads_vs_naive(xs, ws, stride, padding):
    x, W, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    y = F.conv2d(_t(x), _t(W), _t(b), stride=stride, padding=padding)
    ref = naive_conv2d(x, W, b, stride, padding)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-12)
    check_grads(lambda x_, W_, b_: F.conv2d(x_, W_, b_, stride=stride, padding=padding), [x, W, b])


def test_first_3x3_layer_gives_channels_last_output_and_takes_either_gradient_layout(monkeypatch):
    """A 3x3 im2col conv with >= 8 output channels (one input channel: no Winograd) returns
    channels-last memory; its weight gradient is the same from a channels-last gy (what a
    Winograd layer after it sends back) as from a C-contiguous one, and as with the option off."""
    x, W, b = RNG.standard_normal((3, 1, 9, 8)), RNG.standard_normal((12, 1, 3, 3)), RNG.standard_normal(12)
    gy = RNG.standard_normal((3, 12, 9, 8))
    grads = []
    for nhwc, gy_layout in [(True, "nhwc"), (True, "nchw"), (False, "nchw")]:
        monkeypatch.setattr(conv_module, "nhwc_output", lambda W_, x_, on=nhwc: on)
        Wt, bt = _t(W), _t(b)
        y = F.conv2d(_t(x, requires_grad=False), Wt, bt, padding=1)
        assert y.data.transpose(0, 2, 3, 1).flags.c_contiguous == nhwc and y.data.flags.c_contiguous != nhwc
        np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, 1, 1), rtol=1e-10, atol=1e-12)
        g = np.ascontiguousarray(gy.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if gy_layout == "nhwc" else gy
        y.backward(zd.tensor(g))
        grads.append((Wt.grad.copy(), bt.grad.copy()))
    for gW, gb in grads[1:]:
        np.testing.assert_allclose(gW, grads[0][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gb, grads[0][1], rtol=1e-12, atol=1e-12)


def test_conv2d_without_bias_and_first_layer_skips_input_grad(monkeypatch):
    x, W = RNG.standard_normal((2, 1, 6, 6)), RNG.standard_normal((3, 1, 3, 3))
    np.testing.assert_allclose(F.conv2d(_t(x), _t(W)).data, naive_conv2d(x, W), rtol=1e-10)

    def boom(*args, **kwargs):
        raise AssertionError("the input gradient was computed for an input that needs none")

    monkeypatch.setattr(conv_module, "_input_grad", boom)
    xt, Wt = _t(x, requires_grad=False), _t(W)
    F.conv2d(xt, Wt, padding=1).sum().backward()
    assert xt.grad is None and Wt.grad.shape == W.shape


def _set_chunk(monkeypatch, nbytes):
    """Chunks of about ``nbytes`` for every sweep (the strided ones have their own size)."""
    monkeypatch.setattr(windows_module, "_CHUNK_BYTES", nbytes)
    monkeypatch.setattr(windows_module, "_CHUNK_BYTES_PHASED", nbytes)


@pytest.mark.parametrize("chunk_bytes", [1, 3000])
def test_conv2d_chunked_batches_match(monkeypatch, chunk_bytes):
    """Small chunks (one sample; uneven chunks) give the same values and gradients."""
    _set_chunk(monkeypatch, chunk_bytes)
    for stride, padding, ws in [(1, 1, (3, 2, 3, 3)), (2, 0, (3, 2, 3, 3)), (2, 1, (3, 2, 4, 4)), (2, 1, (40, 2, 4, 4))]:
        x, W, b = RNG.standard_normal((5, 2, 7, 7)), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
        xt, Wt, bt = _t(x), _t(W), _t(b)
        y = F.conv2d(xt, Wt, bt, stride=stride, padding=padding)
        np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, padding), rtol=1e-10, atol=1e-12)
        R = RNG.standard_normal(y.shape)
        y.backward(R)
        _set_chunk(monkeypatch, 1 << 30)
        xt2, Wt2, bt2 = _t(x), _t(W), _t(b)
        F.conv2d(xt2, Wt2, bt2, stride=stride, padding=padding).backward(R)
        _set_chunk(monkeypatch, chunk_bytes)
        for t1, t2 in [(xt, xt2), (Wt, Wt2), (bt, bt2)]:
            np.testing.assert_allclose(t1.grad, t2.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [1, 3000])
def test_conv_transpose2d_chunked_batches_match(monkeypatch, chunk_bytes):
    _set_chunk(monkeypatch, chunk_bytes)
    for stride, padding, ws in [(1, 1, (3, 2, 3, 3)), (2, 1, (3, 2, 3, 3)), (2, 1, (3, 4, 4, 4))]:
        x, W, b = RNG.standard_normal((5, 3, 4, 5)), RNG.standard_normal(ws), RNG.standard_normal(ws[1])
        xt, Wt, bt = _t(x), _t(W), _t(b)
        y = F.conv_transpose2d(xt, Wt, bt, stride=stride, padding=padding)
        np.testing.assert_allclose(y.data, naive_conv_transpose2d(x, W, b, stride, padding), rtol=1e-10, atol=1e-12)
        R = RNG.standard_normal(y.shape)
        y.backward(R)
        _set_chunk(monkeypatch, 1 << 30)
        xt2, Wt2, bt2 = _t(x), _t(W), _t(b)
        F.conv_transpose2d(xt2, Wt2, bt2, stride=stride, padding=padding).backward(R)
        _set_chunk(monkeypatch, chunk_bytes)
        for t1, t2 in [(xt, xt2), (Wt, Wt2), (bt, bt2)]:
            np.testing.assert_allclose(t1.grad, t2.grad, rtol=1e-10, atol=1e-12)


def test_non_contiguous_input():
    """Channels-last data transposed to NCHW (a strided view) works without a copy by the caller."""
    x = RNG.standard_normal((3, 9, 8, 2)).transpose(0, 3, 1, 2)
    W, b = RNG.standard_normal((4, 2, 3, 3)), RNG.standard_normal(4)
    for stride, padding in [(1, 0), (1, 1), (2, 0)]:
        y = F.conv2d(_t(x), _t(W), _t(b), stride=stride, padding=padding)
        np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, padding), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(F.max_pool2d(_t(x), 2).data, naive_pool(x, 2, None, 0, "max")[0])
    gy = RNG.standard_normal((3, 4, 7, 6)).transpose(0, 1, 2, 3)[:, :, ::-1]  # a negative-stride gradient
    xt, Wt = _t(x), _t(W)
    F.conv2d(xt, Wt).backward(gy)
    xt2, Wt2 = _t(np.ascontiguousarray(x)), _t(W)
    F.conv2d(xt2, Wt2).backward(np.ascontiguousarray(gy))
    np.testing.assert_allclose(xt.grad, xt2.grad, rtol=1e-12)
    np.testing.assert_allclose(Wt.grad, Wt2.grad, rtol=1e-12)


def test_two_conv_layers_share_scratch_safely():
    """Forward A, forward B, then backward through both: scratch buffers never leak between calls."""
    x = RNG.standard_normal((3, 2, 9, 9))
    W1, W2 = RNG.standard_normal((4, 2, 3, 3)), RNG.standard_normal((2, 4, 2, 2))

    def net(x_, W1_, W2_):
        return F.conv2d(F.conv2d(x_, W1_, padding=1), W2_, stride=2)

    y = net(_t(x), _t(W1), _t(W2))
    np.testing.assert_allclose(y.data, naive_conv2d(naive_conv2d(x, W1, padding=1), W2, stride=2), rtol=1e-10)
    check_grads(net, [x, W1, W2])


def test_conv2d_float32_preserved():
    x = RNG.standard_normal((4, 3, 10, 10)).astype(np.float32)
    W = RNG.standard_normal((5, 3, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(5).astype(np.float32)
    for stride, padding in [(1, 1), (2, 0)]:
        xt, Wt, bt = _t(x), _t(W), _t(b)
        y = F.conv2d(xt, Wt, bt, stride=stride, padding=padding)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, padding), rtol=1e-4, atol=1e-4)
        y.backward(np.ones(y.shape, np.float32))
        assert xt.grad.dtype == Wt.grad.dtype == bt.grad.dtype == np.float32


# ----------------------------------------------------------------------------- conv_transpose2d
@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES)
def test_conv_transpose2d_values_and_grads_vs_naive(xs, ws, stride, padding):
    ws = (ws[1], ws[0]) + ws[2:]  # (C_in, C_out, KH, KW)
    (SH, SW), (PH, PW) = _pair(stride), _pair(padding)
    if (xs[2] - 1) * SH - 2 * PH + ws[2] < 1 or (xs[3] - 1) * SW - 2 * PW + ws[3] < 1:
        pytest.skip("empty output")
    x, W, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[1])
    y = F.conv_transpose2d(_t(x), _t(W), _t(b), stride=stride, padding=padding)
    ref = naive_conv_transpose2d(x, W, b, stride, padding)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-12)
    check_grads(lambda x_, W_, b_: F.conv_transpose2d(x_, W_, b_, stride=stride, padding=padding), [x, W, b])


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), ((2, 3), (0, 1))])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding):
    """<conv2d(x, W), y> == <x, conv_transpose2d(y, W)> for the same W (C_out, C_in, KH, KW)."""
    (SH, SW), (PH, PW) = _pair(stride), _pair(padding)
    KH, KW, OH, OW = 3, 2, 4, 5
    H, Wd = (OH - 1) * SH - 2 * PH + KH, (OW - 1) * SW - 2 * PW + KW  # sizes that map back exactly
    x, W = RNG.standard_normal((2, 3, H, Wd)), RNG.standard_normal((4, 3, KH, KW))
    y = RNG.standard_normal((2, 4, OH, OW))
    lhs = (F.conv2d(_t(x), _t(W), stride=stride, padding=padding).data * y).sum()
    back = F.conv_transpose2d(_t(y), _t(W), stride=stride, padding=padding)
    assert back.shape == x.shape
    np.testing.assert_allclose(lhs, (x * back.data).sum(), rtol=1e-10)


def test_conv_transpose2d_output_size_and_float32():
    x = RNG.standard_normal((2, 4, 5, 6)).astype(np.float32)
    W = RNG.standard_normal((4, 3, 4, 4)).astype(np.float32)
    xt, Wt = _t(x), _t(W)
    y = F.conv_transpose2d(xt, Wt, stride=2, padding=1)
    assert y.shape == (2, 3, (5 - 1) * 2 - 2 + 4, (6 - 1) * 2 - 2 + 4) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, naive_conv_transpose2d(x, W, None, 2, 1), rtol=1e-4, atol=1e-4)
    y.sum().backward()
    assert xt.grad.dtype == Wt.grad.dtype == np.float32


# ----------------------------------------------------------------------------- im2col / col2im
def test_im2col_book_layout_and_shapes():
    x = RNG.standard_normal((2, 3, 7, 6))
    col = F.im2col(_t(x), 3, 2, stride=2, padding=1)
    OH, OW = (7 + 2 - 3) // 2 + 1, (6 + 2 - 2) // 2 + 1
    assert col.shape == (2 * OH * OW, 3 * 3 * 2)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n, oh, ow in [(0, 0, 0), (1, 2, 3), (1, OH - 1, OW - 1)]:
        window = xp[n, :, oh * 2 : oh * 2 + 3, ow * 2 : ow * 2 + 2].reshape(-1)  # ordered (C, KH, KW)
        np.testing.assert_array_equal(col.data[(n * OH + oh) * OW + ow], window)


@pytest.mark.parametrize("kernel, stride, padding", [((3, 3), 1, 0), ((3, 2), (2, 1), (1, 2)), ((2, 2), 2, 0)])
def test_im2col_col2im_adjoint_and_grads(kernel, stride, padding):
    KH, KW = kernel
    x = RNG.standard_normal((2, 2, 6, 7))
    col = F.im2col(_t(x), KH, KW, stride, padding)
    c = RNG.standard_normal(col.shape)
    img = F.col2im(_t(c), x.shape, KH, KW, stride, padding)
    assert img.shape == x.shape
    np.testing.assert_allclose((col.data * c).sum(), (x * img.data).sum(), rtol=1e-10)
    check_grads(lambda a: F.im2col(a, KH, KW, stride, padding), [x])
    check_grads(lambda a: F.col2im(a, x.shape, KH, KW, stride, padding), [c])


def test_im2col_col2im_float32():
    x = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
    col = F.im2col(_t(x), 3, 3, 1, 1)
    assert col.dtype == np.float32
    assert F.col2im(col, x.shape, 3, 3, 1, 1).dtype == np.float32


# ----------------------------------------------------------------------------- pooling
POOL_CASES = [
    # x shape, kernel, stride, padding
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 9, 7), 3, 2, 1),  # overlapping windows, padding
    ((2, 3, 8, 8), 3, 1, 1),
    ((2, 2, 7, 9), (2, 3), (1, 2), (1, 1)),
    ((2, 2, 7, 7), 2, None, 0),  # H, W not divisible: the last row/column is dropped
    ((2, 2, 6, 6), 2, 3, 0),  # gaps between windows
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("xs, kernel, stride, padding", POOL_CASES)
def test_pool_values_and_grads_vs_naive(mode, xs, kernel, stride, padding):
    op = F.max_pool2d if mode == "max" else F.avg_pool2d
    # ties (ReLU-like zeros) exercise "first maximum" routing
    x = np.maximum(RNG.standard_normal(xs), 0)
    xt = _t(x)
    y = op(xt, kernel, stride, padding)
    gy = RNG.standard_normal(y.shape)
    ref_y, ref_gx = naive_pool(x, kernel, stride, padding, mode, gy)
    assert y.shape == ref_y.shape
    np.testing.assert_allclose(y.data, ref_y, rtol=1e-12)
    y.backward(gy)
    np.testing.assert_allclose(xt.grad, ref_gx, rtol=1e-12, atol=1e-14)
    # central differences need distinct values in each window: a shuffled ramp has no ties
    x = RNG.permutation(np.arange(np.prod(xs), dtype=np.float64)).reshape(xs) * 0.01
    check_grads(lambda a: op(a, kernel, stride, padding), [x])


def test_pool_float32_and_default_stride():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    for op in (F.max_pool2d, F.avg_pool2d):
        xt = _t(x)
        y = op(xt, 2)
        assert y.shape == (2, 3, 3, 3) and y.dtype == np.float32
        y.sum().backward()
        assert xt.grad.dtype == np.float32


def test_max_pool_large_kernel_indices():
    """More kernel offsets than a uint8 can count still route to the right place."""
    x = RNG.standard_normal((1, 2, 17, 17))
    xt = _t(x)
    y = F.max_pool2d(xt, 17)
    gy = RNG.standard_normal(y.shape)
    y.backward(gy)
    ref_y, ref_gx = naive_pool(x, 17, None, 0, "max", gy)
    np.testing.assert_allclose(y.data, ref_y)
    np.testing.assert_allclose(xt.grad, ref_gx)


# ----------------------------------------------------------------------------- errors
def test_error_messages():
    x = _t(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"^conv2d: input has 3 channels but weight \(30, 1, 5, 5\) expects 1$"):
        F.conv2d(x, _t(np.zeros((30, 1, 5, 5), np.float32)))
    with pytest.raises(ValueError, match=r"conv2d: kernel \(5, 5\) is larger than the padded input \(3, 3\)"):
        F.conv2d(_t(np.zeros((1, 1, 3, 3))), _t(np.zeros((1, 1, 5, 5))))
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, C, H, W\), got \(3, 8, 8\)"):
        F.conv2d(_t(np.zeros((3, 8, 8))), _t(np.zeros((1, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"conv2d: expected weight of shape"):
        F.conv2d(x, _t(np.zeros((3, 3, 3))))
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(4,\) does not match 2 output channels"):
        F.conv2d(x, _t(np.zeros((2, 3, 3, 3))), _t(np.zeros(4)))
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int >= 1"):
        F.conv2d(x, _t(np.zeros((2, 3, 3, 3))), stride=0)
    with pytest.raises(ValueError, match=r"conv2d: padding must be"):
        F.conv2d(x, _t(np.zeros((2, 3, 3, 3))), padding=-1)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 3 channels but weight \(2, 4, 3, 3\) expects 2"):
        F.conv_transpose2d(x, _t(np.zeros((2, 4, 3, 3))))
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected input of shape \(N, C, H, W\)"):
        F.avg_pool2d(_t(np.zeros((8, 8))), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(9, 9\) is larger than the padded input"):
        F.max_pool2d(x, 9)
    with pytest.raises(ValueError, match=r"col2im: expected columns of shape"):
        F.col2im(_t(np.zeros((5, 9))), (2, 3, 8, 8), 3, 3)
