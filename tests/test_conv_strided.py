"""The strided conv path on phase images (``Windows.phased``) and, for the same convs, the narrow
sweep that small outputs take (``Windows.narrow``), on the NumPy code and on the
Numba kernels of ``_fast_conv`` (where numba is installed): the layers of examples/dcgan.py and
odd strides against naive float64 loops, chunked or not, and against PyTorch in float32 at the
DCGAN's shapes (skipped without torch); BatchNorm at those shapes against PyTorch too."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
from zerodl.functions import windows as windows_module
from zerodl.functions._util import pair

from test_conv import check_grads, naive_conv2d, naive_conv_transpose2d

RNG = np.random.default_rng(3)


@pytest.fixture(params=["numpy", "numba"], autouse=True)
def kernels(request, monkeypatch):
    """Every test here runs on the NumPy code and, where numba is installed, on its kernels."""
    if request.param == "numba":
        pytest.importorskip("numba")
        from zerodl.functions import _fast_conv

        monkeypatch.setattr(windows_module, "fast_kernels", lambda: _fast_conv)
    else:
        monkeypatch.setattr(windows_module, "fast_kernels", lambda: None)
    return request.param


@pytest.fixture(params=["phased", "narrow"], autouse=True)
def sweep(request, monkeypatch):
    """... and with every strided sweep phased, then with every one narrow (whatever its size)."""
    monkeypatch.setattr(windows_module, "NARROW_MAX_PIXELS", 0 if request.param == "phased" else 10 ** 9)
    return request.param

# x shape, W shape (conv2d), stride, padding: all with C*KH*KW > C_out, so phased
PHASED = [
    ((2, 2, 8, 8), (3, 2, 4, 4), 2, 1),          # DCGAN's discriminator layer, small
    ((2, 3, 9, 7), (2, 3, 3, 3), 2, 1),          # kernel not a multiple of the stride
    ((1, 2, 10, 9), (2, 2, 3, 5), (3, 2), (2, 1)),
    ((2, 2, 7, 7), (3, 2, 2, 2), 3, 0),          # kernel smaller than the stride: unused phases
    ((2, 1, 6, 6), (2, 1, 4, 4), 2, 3),          # padding past the kernel's reach
]


def _t(a, requires_grad=True):
    return zd.tensor(a, requires_grad=requires_grad, dtype=a.dtype)


@pytest.mark.parametrize("xs, ws, stride, padding", PHASED)
def test_phased_conv2d_matches_naive_values_and_grads(sweep, xs, ws, stride, padding):
    x, W, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    w = windows_module.Windows("conv2d", xs, ws[2:], pair(stride, "", "", 1),
                               pair(padding, "", "", 0), c_out=ws[0])
    assert (w.phased, w.narrow) == ((True, False) if sweep == "phased" else (False, True))
    y = F.conv2d(_t(x), _t(W), _t(b), stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, padding), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, W, b: F.conv2d(x, W, b, stride=stride, padding=padding), [x, W, b])


@pytest.mark.parametrize("xs, ws, stride, padding", PHASED)
def test_phased_conv_transpose2d_matches_naive_values_and_grads(xs, ws, stride, padding):
    # the transposed conv whose output has xs's shape: input of the conv's output shape
    SH, SW = pair(stride, "", "", 1)
    PH, PW = pair(padding, "", "", 0)
    OH, OW = (xs[2] + 2 * PH - ws[2]) // SH + 1, (xs[3] + 2 * PW - ws[3]) // SW + 1
    x, W, b = RNG.standard_normal((xs[0], ws[0], OH, OW)), RNG.standard_normal(ws), RNG.standard_normal(ws[1])
    y = F.conv_transpose2d(_t(x), _t(W), _t(b), stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, naive_conv_transpose2d(x, W, b, stride, padding), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, W, b: F.conv_transpose2d(x, W, b, stride=stride, padding=padding), [x, W, b])


@pytest.mark.parametrize("chunk_bytes", [1, 5000])
def test_phased_chunks_match_one_chunk(monkeypatch, chunk_bytes):
    x, W, b = RNG.standard_normal((5, 3, 9, 8)), RNG.standard_normal((4, 3, 4, 4)), RNG.standard_normal(4)
    R = RNG.standard_normal((5, 4, 4, 4))
    grads = []
    for nbytes in (chunk_bytes, 1 << 30):
        monkeypatch.setattr(windows_module, "_CHUNK_BYTES_PHASED", nbytes)
        ts = [_t(a) for a in (x, W, b)]
        y = F.conv2d(*ts, stride=2, padding=1)
        y.backward(R)
        grads.append([y.data] + [t.grad for t in ts])
    for a, c in zip(*grads):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-13)


def test_phased_first_layer_and_weight_only_gradients():
    """conv_transpose2d's backward with only gx, only gW, or both (one packing of gy for both)."""
    x, W = RNG.standard_normal((2, 4, 3, 3)), RNG.standard_normal((4, 3, 4, 4))
    R = RNG.standard_normal((2, 3, 6, 6))
    both = [_t(x), _t(W)]
    F.conv_transpose2d(*both, stride=2, padding=1).backward(R)
    only_x = [_t(x), _t(W, False)]
    F.conv_transpose2d(*only_x, stride=2, padding=1).backward(R)
    only_w = [_t(x, False), _t(W)]
    F.conv_transpose2d(*only_w, stride=2, padding=1).backward(R)
    np.testing.assert_allclose(only_x[0].grad, both[0].grad, rtol=1e-12)
    np.testing.assert_allclose(only_w[1].grad, both[1].grad, rtol=1e-12)
    assert only_x[1].grad is None and only_w[0].grad is None


# ----------------------------------------------------------------------------- PyTorch, DCGAN shapes
# (x shape, weight shape, transposed): examples/dcgan.py's four convolutions at batch 8
DCGAN = [((8, 1, 28, 28), (16, 1, 4, 4), False), ((8, 16, 14, 14), (32, 16, 4, 4), False),
         ((8, 64, 7, 7), (64, 32, 4, 4), True), ((8, 32, 14, 14), (32, 1, 4, 4), True)]


@pytest.mark.parametrize("xs, ws, transposed", DCGAN)
def test_dcgan_convolutions_match_torch_float32(xs, ws, transposed):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal(xs).astype(np.float32)
    W = (RNG.standard_normal(ws) * 0.1).astype(np.float32)
    b = RNG.standard_normal(ws[1] if transposed else ws[0]).astype(np.float32)
    op = F.conv_transpose2d if transposed else F.conv2d
    top = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    zs = [_t(a) for a in (x, W, b)]
    y = op(*zs, stride=2, padding=1)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, W, b)]
    ty = top(*ts, stride=2, padding=1)
    assert y.data.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    R = RNG.standard_normal(y.shape).astype(np.float32)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    for z, t in zip(zs, ts):
        assert z.grad.dtype == np.float32
        np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(16, 3136), (16, 32, 14, 14), (16, 32, 7, 7)])
def test_batch_norm_training_matches_torch_float32(shape):
    torch = pytest.importorskip("torch")
    C = shape[1]
    x = (RNG.standard_normal(shape) * 2 + 1).astype(np.float32)
    gamma, beta = RNG.uniform(0.5, 1.5, C).astype(np.float32), RNG.standard_normal(C).astype(np.float32)
    rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
    zs = [_t(a) for a in (x, gamma, beta)]
    y = F.batch_norm(*zs, rm, rv, training=True)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    trm, trv = torch.zeros(C), torch.ones(C)
    ty = torch.nn.functional.batch_norm(ts[0], trm, trv, ts[1], ts[2], training=True)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-5, atol=1e-6)
    R = RNG.standard_normal(shape).astype(np.float32)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    for z, t in zip(zs, ts):
        np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-3, atol=1e-3)
