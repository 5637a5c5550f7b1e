"""The Numba kernels of zerodl/functions/_fast_conv.py against the NumPy code they replace
(skipped without numba), and the ZERODL_NUMBA=0 switch."""
import os
import subprocess
import sys

import numpy as np
import pytest

from zerodl.functions import windows as windows_module

numba = pytest.importorskip("numba")
from zerodl.functions import _fast_conv  # noqa: E402  (needs numba)

RNG = np.random.default_rng(5)
# (x shape, kernel, stride, padding, c_out): wide sweeps (C*KH*KW > c_out), phased but the last
CASES = [((3, 4, 14, 14), (4, 4), (2, 2), (1, 1), 8), ((2, 3, 9, 7), (3, 3), (2, 2), (1, 1), 2),
         ((2, 2, 10, 9), (3, 5), (3, 2), (2, 1), 3), ((2, 2, 7, 7), (2, 2), (3, 3), (0, 0), 3),
         ((2, 4, 6, 7), (3, 3), (1, 1), (1, 1), 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding, c_out", CASES)
def test_kernels_match_numpy(monkeypatch, dtype, shape, kernel, stride, padding, c_out):
    monkeypatch.setattr(windows_module, "NARROW_MAX_PIXELS", 0)  # the wide path, whatever the output size
    w = windows_module.Windows("t", shape, kernel, stride, padding, c_out=c_out)
    assert w.wide and w.Q != w.OW and w.phased == (stride != (1, 1))
    _numpy_and_numba_agree(monkeypatch, w, shape, c_out, dtype)


def _numpy_and_numba_agree(monkeypatch, w, shape, c_out, dtype):
    """im2col, forward (with the weight gradient, with a bias) and fold of the sweep ``w`` on
    the NumPy code and on the kernels: the same bits. Returns (x, W2, gy, the kernels' results)."""
    x = RNG.standard_normal(shape).astype(dtype)
    W2 = RNG.standard_normal((c_out, w.CKK)).astype(dtype)
    b = RNG.standard_normal(c_out).astype(dtype)
    gy = RNG.standard_normal((shape[0], c_out, w.OH, w.OW)).astype(dtype)
    out = {}
    for name, fast in (("numpy", None), ("numba", _fast_conv)):
        monkeypatch.setattr(windows_module, "fast_kernels", lambda: fast)
        col = w.im2col(x, per_sample=False).copy()
        y, gW = w.correlate(x, W2, gy=gy)
        out[name] = (col, y, gW, w.fold(gy, W2), w.correlate(x, W2, b))
    for a, b_ in zip(out["numpy"], out["numba"]):
        assert a.dtype == b_.dtype == dtype
        np.testing.assert_array_equal(a, b_)  # the same sums in the same order
    return x, W2, gy, out["numba"]


# narrow sweeps (strided, at most NARROW_MAX_PIXELS output pixels): DCGAN's third D layer, odd sizes
NARROW = [((3, 6, 7, 7), (3, 3), (2, 2), (1, 1), 5), ((2, 3, 8, 6), (4, 4), (2, 2), (1, 2), 4),
          ((2, 2, 8, 8), (3, 2), (3, 2), (0, 1), 3), ((1, 3, 5, 5), (5, 5), (2, 2), (2, 2), 7)]


def _conv_reference(x, W, stride, padding):
    """conv2d by its definition, a loop over output pixels (float64)."""
    (SH, SW), (PH, PW) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    KH, KW = W.shape[2:]
    OH, OW = (xp.shape[2] - KH) // SH + 1, (xp.shape[3] - KW) // SW + 1
    y = np.zeros((x.shape[0], W.shape[0], OH, OW))
    for r in range(OH):
        for s in range(OW):
            y[:, :, r, s] = np.einsum("nchw,ochw->no", xp[:, :, r * SH:r * SH + KH, s * SW:s * SW + KW], W)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding, c_out", NARROW)
def test_narrow_kernels_match_numpy_and_the_wide_path(monkeypatch, dtype, shape, kernel, stride, padding, c_out):
    w = windows_module.Windows("t", shape, kernel, stride, padding, c_out=c_out)
    assert w.narrow and not w.wide and not w.phased and w.Q == w.OW and w.OH * w.OW <= windows_module.NARROW_MAX_PIXELS
    x, W2, gy, (_, y, gW, gx, _) = _numpy_and_numba_agree(monkeypatch, w, shape, c_out, dtype)
    # against the wide (phased) sweep of the same conv and the definition
    monkeypatch.setattr(windows_module, "NARROW_MAX_PIXELS", 0)
    wide = windows_module.Windows("t", shape, kernel, stride, padding, c_out=c_out)
    assert wide.phased
    y_wide, gW_wide = wide.correlate(x, W2, gy=gy)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, y_wide, **tol)
    np.testing.assert_allclose(gW, gW_wide, **tol)
    np.testing.assert_allclose(gx, wide.fold(gy, W2), **tol)
    ref = _conv_reference(x.astype(np.float64), W2.reshape(c_out, *shape[1:2], *kernel).astype(np.float64), stride, padding)
    np.testing.assert_allclose(y, ref, **tol)


def test_zerodl_numba_0_disables_the_kernels():
    code = "from zerodl.functions import windows; print(windows.fast_kernels())"
    env = dict(os.environ, ZERODL_NUMBA="0")
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert off.stdout.strip() == "None"
    env["ZERODL_NUMBA"] = "1"
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "_fast_conv" in on.stdout
