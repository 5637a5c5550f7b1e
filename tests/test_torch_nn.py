"""PyTorch habits in zerodl.nn: nn.functional's names, loss modules, Softmax(dim=)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.nn.functional as NF


def _log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


X = np.random.default_rng(0).standard_normal((5, 3))
T = np.array([0, 2, 1, -100, 2])
W = np.array([0.5, 1.0, 2.0])


def test_functional_is_functions_plus_pytorch_names():
    for name in ("relu", "sigmoid", "softmax_cross_entropy", "conv2d", "max_pool2d", "dropout", "embedding", "linear"):
        assert getattr(NF, name) is getattr(F, name), name
    for name in ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "one_hot", "pad", "log_softmax", "softmax"):
        assert callable(getattr(NF, name)), name
    assert nn.functional is NF


def test_cross_entropy_closed_form_with_weight_ignore_and_smoothing():
    lp = _log_softmax(X)
    keep = T != -100
    t = np.where(keep, T, 0)
    w = W[t] * keep
    nll = -(lp[np.arange(5), t] * w).sum() / w.sum()
    smooth = -((lp * W).sum(axis=1) * keep).sum() / w.sum()
    want = 0.8 * nll + 0.2 / 3 * smooth
    got = NF.cross_entropy(zd.tensor(X, dtype=np.float64), T, weight=W, label_smoothing=0.2)
    assert got.item() == pytest.approx(want, rel=1e-12)
    per = NF.cross_entropy(zd.tensor(X, dtype=np.float64), T, reduction="none")
    np.testing.assert_allclose(per.data, np.where(keep, -lp[np.arange(5), t], 0), rtol=1e-12)
    assert NF.cross_entropy(zd.tensor(X), T, reduction="sum").item() == pytest.approx(per.data.sum(), rel=1e-5)


def test_cross_entropy_classes_are_dim_1_as_pytorch():
    x = np.random.default_rng(1).standard_normal((2, 4, 3))  # (N, C, T)
    t = np.array([[0, 3, 1], [2, 2, 0]])
    got = NF.cross_entropy(zd.tensor(x, dtype=np.float64), t)
    lp = _log_softmax(x, axis=1)
    want = -np.mean([lp[n, t[n, k], k] for n in range(2) for k in range(3)])
    assert got.item() == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(2, 4, 3\) and target of shape \(2, 4\)"):
        NF.cross_entropy(zd.tensor(x), np.zeros((2, 4), dtype=np.int64))


def test_nll_mse_l1_bce_values():
    lp = _log_softmax(X)
    got = NF.nll_loss(zd.tensor(lp, dtype=np.float64), T, weight=W)
    keep = T != -100
    t = np.where(keep, T, 0)
    assert got.item() == pytest.approx(-(lp[np.arange(5), t] * W[t] * keep).sum() / (W[t] * keep).sum(), rel=1e-12)
    y, tt = zd.tensor(X, dtype=np.float64), X[::-1].copy()
    assert NF.mse_loss(y, tt).item() == pytest.approx(np.mean((X - tt) ** 2))
    assert NF.mse_loss(y, tt, reduction="sum").item() == pytest.approx(np.sum((X - tt) ** 2))
    np.testing.assert_allclose(NF.l1_loss(y, tt, reduction="none").data, np.abs(X - tt))
    p = 1 / (1 + np.exp(-X))
    tb = (X > 0).astype(float)
    bce = -(tb * np.log(p) + (1 - tb) * np.log(1 - p))
    np.testing.assert_allclose(NF.binary_cross_entropy(zd.tensor(p, dtype=np.float64), tb, reduction="none").data, bce, rtol=1e-10)
    pw = np.array([2.0, 1.0, 0.5])
    bcew = -(pw * tb * np.log(p) + (1 - tb) * np.log(1 - p))
    got = NF.binary_cross_entropy_with_logits(zd.tensor(X, dtype=np.float64), tb, pos_weight=pw, reduction="sum")
    assert got.item() == pytest.approx(bcew.sum(), rel=1e-10)
    with pytest.raises(ValueError, match="mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        NF.mse_loss(y, tt, reduction="avg")
    with pytest.raises(ValueError, match=r"l1_loss: input of shape \(5, 3\) and target of shape \(5,\) do not match"):
        NF.l1_loss(y, tt[:, 0])


def test_one_hot_and_pad():
    np.testing.assert_array_equal(NF.one_hot(np.array([2, 0])).data, [[0, 0, 1], [1, 0, 0]])
    assert NF.one_hot(zd.tensor(np.array([[1]])), num_classes=4).shape == (1, 1, 4)
    with pytest.raises(ValueError, match=r"one_hot: class values must be in \[0, 2\)"):
        NF.one_hot(np.array([2]), num_classes=2)
    x = zd.tensor(np.arange(4.0).reshape(1, 4))
    np.testing.assert_array_equal(NF.pad(x, (1, 2)).data, [[0, 0, 1, 2, 3, 0, 0]])
    np.testing.assert_array_equal(NF.pad(x, (2, 1), mode="reflect").data, [[2, 1, 0, 1, 2, 3, 2]])
    np.testing.assert_array_equal(NF.pad(x, (1, 1), mode="replicate").data, [[0, 0, 1, 2, 3, 3]])
    np.testing.assert_array_equal(NF.pad(x, (0, 0, 1, 0), value=9).data, [[9, 9, 9, 9], [0, 1, 2, 3]])
    with pytest.raises(ValueError, match="pad: mode must be"):
        NF.pad(x, (1, 1), mode="wrap")


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    t = np.array([[3, 0], [1, 1]])
    np.testing.assert_array_equal(NF.one_hot(t).numpy(), torch.nn.functional.one_hot(torch.tensor(t)).numpy())
    np.testing.assert_array_equal(NF.one_hot(t, 6).numpy(), torch.nn.functional.one_hot(torch.tensor(t), 6).numpy())


def test_loss_modules_call_the_functions_with_their_arguments():
    x = zd.tensor(X, dtype=np.float64)
    assert nn.CrossEntropyLoss(weight=W, label_smoothing=0.2)(x, T).item() == pytest.approx(
        NF.cross_entropy(x, T, weight=W, label_smoothing=0.2).item())
    assert nn.CrossEntropyLoss(reduction="none")(x, T).shape == (5,)
    assert nn.NLLLoss(ignore_index=2)(nn.LogSoftmax(dim=1)(x), T.clip(0)).item() == pytest.approx(
        NF.nll_loss(NF.log_softmax(x, dim=1), T.clip(0), ignore_index=2).item())
    assert nn.MSELoss(reduction="sum")(x, X * 0).item() == pytest.approx((X ** 2).sum())
    assert nn.L1Loss()(x, X * 0).item() == pytest.approx(np.abs(X).mean())
    tb = (X > 0).astype(float)
    assert nn.BCEWithLogitsLoss()(x, tb).item() == pytest.approx(F.binary_cross_entropy_with_logits(x, tb).item())
    assert nn.BCELoss()(nn.Sigmoid()(x), tb).item() == pytest.approx(F.binary_cross_entropy(F.sigmoid(x), tb).item())
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")
    assert "reduction='sum'" in repr(nn.MSELoss(reduction="sum"))


def test_loss_module_gradient_trains_a_layer():
    zd.manual_seed(0)
    layer, crit = nn.Linear(3, 3), nn.CrossEntropyLoss(label_smoothing=0.05)
    x = zd.randn(32, 3)
    t = x.data.argmax(axis=1)
    first = None
    for _ in range(100):
        loss = crit(layer(x), t)
        first = first if first is not None else loss.item()
        layer.zero_grad()
        loss.backward()
        with zd.no_grad():
            for p in layer.parameters():
                p -= 0.5 * p.grad
    assert loss.item() < 0.5 * first


def test_softmax_dim_and_the_older_axis():
    x = zd.tensor(X)
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).data.sum(axis=0), 1, rtol=1e-6)
    assert nn.Softmax(axis=0).dim == 0 and nn.Softmax().dim == -1
    assert nn.module_from_config(nn.module_to_config(nn.LogSoftmax(dim=1))).dim == 1
    with pytest.raises(TypeError, match="Softmax: got dim=1 and axis=0"):
        nn.Softmax(dim=1, axis=0)


def test_conv2d_padding_same_and_valid():
    zd.manual_seed(0)
    x = zd.randn(2, 3, 5, 6)
    same = nn.Conv2d(3, 4, 3, padding="same")
    ref = nn.Conv2d(3, 4, 3, padding=1)
    ref.W.data[...] = same.W.data
    np.testing.assert_allclose(same(x).data, ref(x).data, rtol=1e-6)
    even = nn.Conv2d(3, 4, (2, 4), padding="same")
    y = even(x)
    assert y.shape == (2, 4, 5, 6)
    want = F.conv2d(NF.pad(x, (1, 2, 0, 1)), even.W, even.b)  # PyTorch: the extra row/column at the end
    np.testing.assert_allclose(y.data, want.data, rtol=1e-6)
    assert nn.Conv2d(3, 4, 3, padding="valid")(x).shape == (2, 4, 3, 4)
    copy = nn.module_from_config(nn.module_to_config(even))
    assert copy.padding == "same" and "padding='same'" in repr(copy)
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' needs stride 1 \(as PyTorch\), got stride \(2, 2\)"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: padding must be an int, a pair, 'same' or 'valid'"):
        nn.Conv2d(3, 4, 3, padding="full")


def test_conv2d_padding_same_matches_torch():
    torch = pytest.importorskip("torch")
    for k in (3, 2, (3, 4)):
        with zd.default_dtype(np.float64):
            c = nn.Conv2d(2, 3, k, padding="same")
        t = torch.nn.Conv2d(2, 3, k, padding="same").double()
        with torch.no_grad():
            t.weight.copy_(torch.tensor(c.W.data))
            t.bias.copy_(torch.tensor(c.b.data))
        x = np.random.default_rng(2).standard_normal((1, 2, 5, 6))
        np.testing.assert_allclose(c(zd.tensor(x, dtype=np.float64)).data, t(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_module_to_cpu_cuda_and_requires_grad(monkeypatch):
    import sys

    zd.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    W = model[0].W
    data = W.data
    assert model.to("cpu") is model and model.cpu() is model and model[0].W is W and W.data is data
    tensor_module = sys.modules["zerodl.core.tensor"]

    def no_device(arr):
        raise type("CUDARuntimeError", (Exception,), {})("cudaErrorNoDevice: no CUDA-capable device is detected")

    monkeypatch.setattr(tensor_module, "as_cupy", no_device)
    with pytest.raises(RuntimeError, match=r"Module.cuda\('cuda'\): CuPy found no usable GPU"):
        model.cuda()
    with pytest.raises(RuntimeError, match=r"Module.to\('cuda'\): CuPy found no usable GPU"):
        model.to("cuda:0")
    with pytest.raises(TypeError, match="Module.to: expected a floating dtype or 'cpu'/'cuda', got 'tpu'"):
        model.to("tpu")
    assert model.requires_grad_(False) is model and not any(p.requires_grad for p in model.parameters())
    model.requires_grad_(requires_grad=True)
    assert all(p.requires_grad for p in model.parameters())
    model[0].requires_grad_(False)  # freeze one layer: the optimizer leaves it alone
    opt = zd.optim.SGD(model.parameters(), lr=0.1)
    before = model[0].W.data.copy()
    (model(zd.randn(5, 3)) ** 2).mean().backward()
    opt.step()
    np.testing.assert_array_equal(model[0].W.data, before)
    assert model[2].W.grad is not None
