"""F.interpolate and nn.Upsample: closed forms, PyTorch's values and gradients where installed,
errors. (Float64 central differences are in tests/test_gradcheck.py.)"""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn


def test_nearest_integer_scale_repeats_every_pixel():
    x = np.arange(2 * 3 * 2 * 3, dtype=np.float32).reshape(2, 3, 2, 3)
    y = F.interpolate(zd.tensor(x), 2)
    np.testing.assert_array_equal(y.data, x.repeat(2, axis=2).repeat(2, axis=3))
    y = F.interpolate(zd.tensor(x), (1, 3))
    np.testing.assert_array_equal(y.data, x.repeat(3, axis=3))
    assert y.dtype == np.float32


def test_nearest_gradient_is_the_block_sum():
    x = zd.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    g = np.arange(16.0).reshape(1, 1, 4, 4)
    F.interpolate(x, 2).backward(g)
    np.testing.assert_array_equal(x.grad[0, 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]])


def test_nearest_fractional_scale_picks_floor_of_source_position():
    x = np.array([[[10.0, 20.0, 30.0, 40.0]]])  # (1, 1, 4), a 1-D signal
    np.testing.assert_array_equal(F.interpolate(zd.tensor(x), 1.5).data, [[[10, 10, 20, 30, 30, 40]]])
    np.testing.assert_array_equal(F.interpolate(zd.tensor(x), 0.5).data, [[[10, 30]]])


def test_bilinear_closed_form():
    # align_corners=False: output pixel o samples source position (o + 0.5) / 2 - 0.5, clamped at 0
    x = np.array([[[[0.0, 4.0], [8.0, 12.0]]]])
    y = F.interpolate(zd.tensor(x, dtype=np.float64), 2, mode="bilinear").data[0, 0]
    row = np.array([0.0, 1.0, 3.0, 4.0])  # positions 0 (clamped), 0.25, 0.75, 1 (edge repeats)
    np.testing.assert_allclose(y, row[None, :] + 2 * row[:, None])
    # align_corners=True keeps both corners and spaces the rest evenly
    y = F.interpolate(zd.tensor(x, dtype=np.float64), size=(3, 3), mode="bilinear", align_corners=True).data[0, 0]
    np.testing.assert_allclose(y, [[0, 2, 4], [4, 6, 8], [8, 10, 12]])


def test_bilinear_keeps_constant_and_linear_images_interior():
    rng = np.random.default_rng(0)
    c = np.full((2, 3, 5, 4), 7.0)
    np.testing.assert_allclose(F.interpolate(zd.tensor(c), 1.7, mode="bilinear").data, 7.0, rtol=1e-6)
    a, b = rng.standard_normal(2)
    ramp = a * np.arange(6.0)[:, None] + b * np.arange(6.0)[None, :]
    y = F.interpolate(zd.tensor(ramp[None, None], dtype=np.float64), 2, mode="bilinear").data[0, 0]
    src = (np.arange(12) + 0.5) / 2 - 0.5
    inner = slice(1, 11)  # away from the clamped borders the map is exact on linear images
    want = a * src[:, None] + b * src[None, :]
    np.testing.assert_allclose(y[inner, inner], want[inner, inner], atol=1e-12)


def test_no_graph_without_grad_and_float32_in_float32_out():
    x = zd.tensor(np.ones((1, 1, 3, 3), np.float32))
    y = F.interpolate(x, 2, mode="bilinear")
    assert y.dtype == np.float32 and y.creator is None and not y.requires_grad


@pytest.mark.parametrize("kwargs, match", [
    (dict(scale_factor=2, mode="bicubic"), "mode"),
    (dict(scale_factor=None), "exactly one"),
    (dict(scale_factor=2, size=4), "exactly one"),
    (dict(scale_factor=0.1), "empty output"),
    (dict(scale_factor=-1), "positive"),
    (dict(scale_factor=(2, 2, 2)), "2 spatial axes"),
    (dict(scale_factor=2, align_corners=True), "align_corners"),
])
def test_interpolate_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.interpolate(zd.tensor(np.ones((1, 1, 4, 4))), **kwargs)


def test_interpolate_error_names_the_shape():
    with pytest.raises(ValueError, match=r"bilinear.*\(N, C, H, W\).*\(2, 3\)"):
        F.interpolate(zd.tensor(np.ones((2, 3))), 2, mode="bilinear")


def test_upsample_layer_shapes_config_and_save_round_trip(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2), nn.Conv2d(2, 1, 3, padding=1))
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    y = model(zd.tensor(x))
    assert y.shape == (2, 1, 10, 10)
    assert not list(model[1].parameters())
    assert repr(model[1]) == "Upsample(scale_factor=2, mode='nearest')"
    path = tmp_path / "m.safetensors"
    model.save(path)
    again = zd.load_model(path)
    np.testing.assert_array_equal(again(zd.tensor(x)).data, y.data)
    assert nn.Upsample(size=(3, 4), mode="bilinear")(zd.tensor(np.ones((1, 1, 2, 2)))).shape == (1, 1, 3, 4)
    with pytest.raises(ValueError, match="Upsample"):
        nn.Upsample(scale_factor=2, mode="area")


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("scale", [2, 3, 1.5, 0.5, (2, 3), 0.7, 2.5])
def test_matches_pytorch_values_and_gradients(mode, scale):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 7))
    xt = torch.tensor(x, requires_grad=True)
    extra = {} if mode == "nearest" else {"align_corners": False}
    yt = torch.nn.functional.interpolate(xt, scale_factor=scale, mode=mode, **extra)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    xz = zd.tensor(x, dtype=np.float64, requires_grad=True)
    y = F.interpolate(xz, scale, mode=mode)
    y.backward(g)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xz.grad, xt.grad.numpy(), atol=1e-12)


def test_upsample_matches_pytorch_module():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 3)).astype(np.float32)
    for kw in (dict(scale_factor=2, mode="nearest"), dict(size=(7, 5), mode="bilinear", align_corners=True)):
        want = torch.nn.Upsample(**kw)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(nn.Upsample(**kw)(zd.tensor(x)).data, want, atol=1e-6)
