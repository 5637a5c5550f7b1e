"""zerodl.nn.seq2seq and zerodl.nn.transformer: the decoding protocol agrees with teacher
forcing, beam search beats or equals greedy, a tiny model learns, and the Transformer layers
match PyTorch's (skipped where absent)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import datasets
from zerodl.nn.seq2seq import Seq2seq, beam_search, exact_match, greedy_decode
from zerodl.nn.transformer import causal_mask


@pytest.fixture(scope="module")
def task():
    return datasets.addition(n=300, seed=0)


def _models(V):
    zd.manual_seed(0)
    out = {k: Seq2seq(V, 8, 16, k) for k in ("plain", "peeky", "attention")}
    out["attention_peeky"] = Seq2seq(V, 8, 16, "attention", peeky=True)
    out["attention_heads"] = Seq2seq(V, 8, 16, "attention", peeky=True, attention_heads=2, out_hidden=12)
    with zd.default_dtype(np.float64):
        out["transformer"] = nn.Seq2seqTransformer(V, d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, pad_id=0)
    return out


def _sequence_logprob(model, x, start, seq):
    """log p(seq | x) under teacher forcing, (N,)."""
    ts_in = np.concatenate([np.full((len(x), 1), start), seq[:, :-1]], axis=1)
    with zd.no_grad():
        logp = F.log_softmax(model(x, ts_in)).data
    return np.take_along_axis(logp, seq[..., None], axis=-1)[..., 0].sum(axis=1)


@pytest.mark.parametrize("kind", ["plain", "peeky", "attention", "attention_peeky", "attention_heads", "transformer"])
def test_decode_step_agrees_with_teacher_forcing(task, kind):
    model = _models(len(task.vocab))[kind]
    model.eval()
    x, t = task.x_test[:6], task.t_test[:6]
    with zd.no_grad():
        full = model(x, t[:, :-1]).data
        memory = model.encode(x)
        state = model.initial_state(memory)
        for step in range(t.shape[1] - 1):
            logits, state = model.decode_step(t[:, step], state, memory)
            np.testing.assert_allclose(logits.data, full[:, step], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["plain", "attention", "attention_heads", "transformer"])
def test_beam_search_width_one_is_greedy_and_wider_is_at_least_as_likely(task, kind):
    model = _models(len(task.vocab))[kind]
    x, start, L = task.x_test[:20], int(task.t_test[0, 0]), task.t_test.shape[1] - 1
    greedy = greedy_decode(model, x, start, L)
    np.testing.assert_array_equal(beam_search(model, x, start, L, beam_width=1), greedy)
    beam = beam_search(model, x, start, L, beam_width=4)
    assert beam.shape == greedy.shape and beam.dtype == np.int64
    assert model.training  # decoding restores the mode
    model.eval()
    lp_greedy = _sequence_logprob(model, x, start, greedy)
    lp_beam = _sequence_logprob(model, x, start, beam)
    assert np.all(lp_beam >= lp_greedy - 1e-4)
    with pytest.raises(ValueError, match="beam_width must be >= 1"):
        beam_search(model, x, start, L, beam_width=0)


def test_a_tiny_attention_seq2seq_learns_its_training_pairs(task):
    zd.manual_seed(1)
    model = Seq2seq(len(task.vocab), 16, 64, "attention")
    x, t = np.ascontiguousarray(task.x_train[:64, ::-1]), task.t_train[:64]
    opt = optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        loss = model.loss(x, t)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    acc, pred = exact_match(model, x, t)
    assert loss.item() < 0.1 * first
    assert acc >= 0.9, (acc, task.vocab.decode_batch(pred[:5]))


def test_attention_weights_and_errors(task):
    model = _models(len(task.vocab))["attention"]
    w = model.attention_weights(task.x_test[:3], task.t_test[:3, :-1]).data
    assert w.shape == (3, 4, 7)
    np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="attention_weights needs decoder='attention'"):
        _models(len(task.vocab))["plain"].attention_weights(task.x_test[:3], task.t_test[:3, :-1])
    with pytest.raises(ValueError, match="decoder must be one of"):
        Seq2seq(13, decoder="bahdanau")


def test_transformer_is_causal_and_ignores_trailing_padding(task):
    model = _models(len(task.vocab))["transformer"]
    model.eval()
    x, t = task.x_test[:4], task.t_test[:4, :-1].copy()
    with zd.no_grad():
        base = model(x, t).data
        t2 = t.copy()
        t2[:, 2:] = 5
        np.testing.assert_allclose(model(x, t2).data[:, :2], base[:, :2], rtol=1e-10, atol=1e-12)
        assert not np.allclose(model(x, t2).data[:, 2:], base[:, 2:])
        padded = np.concatenate([x, np.zeros((4, 3), np.int64)], axis=1)  # three more pad ids
        np.testing.assert_allclose(model(padded, t).data, base, rtol=1e-9, atol=1e-10)
    assert causal_mask(3).tolist() == [[False, True, True], [False, False, True], [False, False, False]]


def _copy_layer_to_torch(torch, z, t):
    """zerodl TransformerEncoder/DecoderLayer weights into PyTorch's (W transposed)."""
    names = {"self_attn": "self_attn", "cross_attn": "multihead_attn"}
    with torch.no_grad():
        for zn, tn in names.items():
            if hasattr(z, zn):
                za, ta = getattr(z, zn), getattr(t, tn)
                ta.in_proj_weight.copy_(torch.tensor(za.in_proj_W.data.T))
                ta.in_proj_bias.copy_(torch.tensor(za.in_proj_b.data))
                ta.out_proj.weight.copy_(torch.tensor(za.out_proj.W.data.T))
                ta.out_proj.bias.copy_(torch.tensor(za.out_proj.b.data))
        for i in (1, 2):
            lin = getattr(z.ff, f"linear{i}")
            getattr(t, f"linear{i}").weight.copy_(torch.tensor(lin.W.data.T))
            getattr(t, f"linear{i}").bias.copy_(torch.tensor(lin.b.data))
        for i in (1, 2, 3):
            if hasattr(z, f"norm{i}"):
                getattr(t, f"norm{i}").weight.copy_(torch.tensor(getattr(z, f"norm{i}").gamma.data))
                getattr(t, f"norm{i}").bias.copy_(torch.tensor(getattr(z, f"norm{i}").beta.data))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_layers_match_torch(norm_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    kw = dict(dim_feedforward=12, dropout=0.0, batch_first=True, norm_first=norm_first)
    with zd.default_dtype(np.float64):
        enc, dec = nn.TransformerEncoderLayer(8, 2, **kw), nn.TransformerDecoderLayer(8, 2, **kw)
    for p in list(enc.parameters()) + list(dec.parameters()):  # non-trivial biases and norms
        p.data[...] += 0.1 * rng.standard_normal(p.shape)
    tenc = torch.nn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **kw)
    tdec = torch.nn.TransformerDecoderLayer(8, 2, dtype=torch.float64, **kw)
    _copy_layer_to_torch(torch, enc, tenc)
    _copy_layer_to_torch(torch, dec, tdec)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    zs, zt = zd.tensor(src, dtype=np.float64, requires_grad=True), zd.tensor(tgt, dtype=np.float64, requires_grad=True)
    mem = enc(zs, src_key_padding_mask=kpm)
    out = dec(zt, mem, tgt_mask=causal_mask(4), memory_key_padding_mask=kpm)
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    tmem = tenc(ts, src_key_padding_mask=torch.tensor(kpm))
    tout = tdec(tt, tmem, tgt_mask=torch.tensor(causal_mask(4)), memory_key_padding_mask=torch.tensor(kpm))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-10)
    gy = rng.standard_normal(out.shape)
    out.backward(gy)
    tout.backward(torch.tensor(gy))
    np.testing.assert_allclose(zs.grad, ts.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(zt.grad, tt.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(enc.ff.linear1.W.grad, tenc.linear1.weight.grad.numpy().T, rtol=1e-8, atol=1e-10)
