"""Attention: F.scaled_dot_product_attention, F.masked_mean, nn.MultiheadAttention and the
positional encodings, against NumPy closed forms and PyTorch (skipped where absent).
(Gradients are checked in float64 by tests/test_gradcheck.py.)
"""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
from zerodl.utils import gradient_check


def _t(a, grad=True):
    return zd.tensor(a, dtype=np.float64, requires_grad=grad)


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_sdpa_values_closed_form_and_mask():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    out, w = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), return_weights=True)
    ref_w = _softmax(q @ k.transpose(0, 2, 1) / 2.0)  # sqrt(D) = 2
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    np.testing.assert_allclose(out.data, ref_w @ v, rtol=1e-12)

    mask = np.array([True, False, True, True, False])  # broadcast over N and Tq
    out, w = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), mask=mask, scale=1.0, return_weights=True)
    s = q @ k.transpose(0, 2, 1)
    ref_w = _softmax(np.where(mask, s, -np.inf))
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    assert np.all(w.data[..., ~mask] == 0)
    np.testing.assert_allclose(out.data, ref_w @ v, rtol=1e-12)


def test_sdpa_fully_masked_query_gives_zeros_not_nan():
    rng = np.random.default_rng(1)
    q, k, v = (_t(rng.standard_normal((1, 2, 3))) for _ in range(3))
    mask = np.array([[True, True], [False, False]])
    out, w = F.scaled_dot_product_attention(q, k, v, mask=mask, return_weights=True)
    assert np.all(w.data[0, 1] == 0) and np.all(out.data[0, 1] == 0)
    out.sum().backward()
    assert np.isfinite(q.grad).all() and np.isfinite(k.grad).all()


def test_sdpa_dropout_is_seeded_and_inverted():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((64, 4, 8)), rng.standard_normal((64, 6, 8)), np.ones((64, 6, 1))
    zd.manual_seed(5)
    a = F.scaled_dot_product_attention(_t(q, False), _t(k, False), _t(v, False), dropout_p=0.5).data
    zd.manual_seed(5)
    b = F.scaled_dot_product_attention(_t(q, False), _t(k, False), _t(v, False), dropout_p=0.5).data
    np.testing.assert_array_equal(a, b)
    # With v = 1 every output is sum(A * M) / (1 - p): 1 in expectation.
    assert abs(a.mean() - 1.0) < 0.05 and a.std() > 0.1


def test_sdpa_errors_name_the_op_and_shapes():
    q = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: expected q .* got q \(2, 3, 4\), k \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, np.zeros((2, 5, 3)), np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) does not broadcast to the scores' shape \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, np.zeros((2, 5, 4)), np.zeros((2, 5, 4)), mask=np.ones(4, bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        F.scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3)))


def test_sdpa_matches_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 3, 5, 8)), rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((2, 3, 7, 4))]
    mask = rng.random((5, 7)) > 0.3
    mask[:, 0] = True
    gy = rng.standard_normal((2, 3, 5, 4))
    zs = [_t(a) for a in arrays]
    F.scaled_dot_product_attention(*zs, mask=mask).backward(gy)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
    out.backward(torch.tensor(gy))
    np.testing.assert_allclose(F.scaled_dot_product_attention(*arrays, mask=mask).data,
                               out.detach().numpy(), rtol=1e-6, atol=1e-6)  # float32 default
    for z, t in zip(zs, ts):
        np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_masked_mean_values():
    x = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    mask = np.array([[True, True, False], [True, False, False]])
    y = F.masked_mean(_t(x), mask[..., None], axis=1)
    np.testing.assert_allclose(y.data, [[1.0, 2.0], [6.0, 7.0]])
    assert F.masked_mean(_t(x[..., 0]), mask).item() == pytest.approx((0 + 2 + 6) / 3)
    assert F.masked_mean(_t(x[..., 0]), np.zeros((2, 3), bool), axis=1).data.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"masked_mean: mask of shape \(3, 3\) does not broadcast"):
        F.masked_mean(x, np.ones((3, 3), bool))


# ----- MultiheadAttention ------------------------------------------------------------------
def _torch_mha(torch, m, batch_first=True):
    E = m.embed_dim
    t = torch.nn.MultiheadAttention(E, m.num_heads, batch_first=batch_first, dtype=torch.float64)
    with torch.no_grad():
        t.in_proj_weight.copy_(torch.tensor(m.in_proj_W.data.T))
        t.in_proj_bias.copy_(torch.tensor(m.in_proj_b.data))
        t.out_proj.weight.copy_(torch.tensor(m.out_proj.W.data.T))
        t.out_proj.bias.copy_(torch.tensor(m.out_proj.b.data))
    return t


@pytest.mark.parametrize("case", ["self", "cross_padding", "causal_heads", "seq_first"])
def test_multihead_attention_matches_torch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    batch_first = case != "seq_first"
    with zd.default_dtype(np.float64):
        m = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    m.in_proj_b.data[:] = rng.standard_normal(24)
    m.out_proj.b.data[:] = rng.standard_normal(8)
    tm = _torch_mha(torch, m, batch_first)
    shape_q, shape_kv = ((3, 4, 8), (3, 6, 8)) if batch_first else ((4, 3, 8), (6, 3, 8))
    q = rng.standard_normal(shape_q)
    kv = q if case in ("self", "causal_heads") else rng.standard_normal(shape_kv)
    kwargs, tkwargs = {}, {}
    if case == "cross_padding":
        kpm = np.zeros((3, 6), bool)
        kpm[0, 4:] = kpm[2, 1:] = True
        kwargs["key_padding_mask"], tkwargs["key_padding_mask"] = kpm, torch.tensor(kpm)
    if case == "causal_heads":
        am = np.triu(np.ones((4, 4), bool), 1)
        kwargs.update(attn_mask=am, average_attn_weights=False)
        tkwargs.update(attn_mask=torch.tensor(am), average_attn_weights=False)
    zq = _t(q)
    zkv = zq if kv is q else _t(kv)
    out, w = m(zq, zkv, zkv, **kwargs)
    tq = torch.tensor(q, requires_grad=True)
    tkv = tq if kv is q else torch.tensor(kv, requires_grad=True)
    tout, tw = tm(tq, tkv, tkv, **tkwargs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = rng.standard_normal(out.shape)
    out.backward(gy)
    tout.backward(torch.tensor(gy))
    np.testing.assert_allclose(zq.grad, tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m.in_proj_W.grad, tm.in_proj_weight.grad.numpy().T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m.out_proj.W.grad, tm.out_proj.weight.grad.numpy().T, rtol=1e-9, atol=1e-12)


def test_multihead_attention_gradcheck_of_parameters():
    rng = np.random.default_rng(5)
    with zd.default_dtype(np.float64):
        m = nn.MultiheadAttention(6, 3)
    kpm = np.array([[False, False, True], [False, False, False]])

    def f(q, kv):
        out, w = m(q, kv, kv, key_padding_mask=kpm)
        return F.concat([out.reshape(2, -1), w.reshape(2, -1)], axis=1)

    result = gradient_check(f, rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 3, 6)),
                            params=list(m.parameters()))
    assert result.ok, result


def test_multihead_attention_is_causal_errors_and_config():
    m = nn.MultiheadAttention(4, 2)
    x = zd.tensor(np.random.default_rng(6).standard_normal((1, 3, 4)))
    _, w = m(x, x, x, is_causal=True)
    assert np.all(np.triu(w.data[0], 1) == 0)
    out, w = m(x, x, x, need_weights=False)
    assert w is None and out.shape == (1, 3, 4)
    with pytest.raises(ValueError, match="embed_dim 5 is not divisible by num_heads 2"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(4, num_heads=2\): key must have shape \(N, T, E\) with E=4"):
        m(x, np.zeros((1, 3, 5)), np.zeros((1, 3, 5)))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(1, 3\)"):
        m(x, x, x, key_padding_mask=np.zeros((3,), bool))
    with pytest.raises(TypeError, match="attn_mask must be boolean"):
        m(x, x, x, attn_mask=np.zeros((3, 3)))
    again = nn.module_from_config(nn.module_to_config(m))
    again.load_state_dict(m.state_dict())
    m.eval(), again.eval()
    np.testing.assert_array_equal(again(x, x, x)[0].data, m(x, x, x)[0].data)


# ----- positional encodings ------------------------------------------------------------------
def test_sinusoidal_encoding_closed_form():
    pe = nn.sinusoidal_encoding(50, 6, dtype=np.float64)
    t = 7
    for i in range(3):
        assert pe[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 6)))
        assert pe[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 6)))
    assert nn.sinusoidal_encoding(4, 5).shape == (4, 5)  # odd dims work too
    layer = nn.SinusoidalPositionalEncoding(6, max_len=10, scale=2.0)
    x = np.ones((2, 4, 6), np.float32)
    np.testing.assert_allclose(layer(x).data, np.broadcast_to(2 + pe[:4].astype(np.float32), (2, 4, 6)), rtol=1e-6)
    assert list(layer.parameters()) == [] and layer(x).dtype == np.float32
    with pytest.raises(ValueError, match="the sequence has 11 steps, more than max_len=10"):
        layer(np.ones((1, 11, 6)))


def test_learned_positional_encoding_trains_its_rows():
    layer = nn.LearnedPositionalEncoding(8, 3)
    x = zd.tensor(np.zeros((2, 5, 3)))
    y = layer(x)
    np.testing.assert_array_equal(y.data, np.broadcast_to(layer.W.data[:5], (2, 5, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(layer.W.grad[:5], 2.0)
    np.testing.assert_array_equal(layer.W.grad[5:], 0.0)
    with pytest.raises(ValueError, match=r"LearnedPositionalEncoding: expected input of shape \(N, T, 3\)"):
        layer(np.zeros((2, 5, 4)))
