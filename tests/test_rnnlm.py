"""Recurrent language models (zerodl.text.lm) and text generation (zerodl.text.generate)."""
import math

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim
from zerodl.data.text import StreamBatches
from zerodl.text import RNNLM, generate, perplexity, sample_next, train_epoch
from zerodl.utils.gradcheck import gradient_check


def test_shapes_tying_and_state():
    zd.manual_seed(0)
    m = RNNLM(30, 8, 8, num_layers=2, dropout=0.1)
    logits = m(np.zeros((3, 5), dtype=np.int64))
    assert logits.shape == (3, 5, 30)
    names = dict(m.named_parameters())
    assert "out_W" not in names  # tied: the output weight is the embedding table
    h, c = m.rnn.state
    assert h.shape == (2, 3, 8) and c.shape == (2, 3, 8)
    untied = RNNLM(30, 8, 16, tie_weights=False)
    assert dict(untied.named_parameters())["out_W"].shape == (16, 30)
    with pytest.raises(ValueError, match="tie_weights"):
        RNNLM(30, 8, 16)
    with pytest.raises(ValueError, match="cell"):
        RNNLM(30, 8, 8, cell="transformer")
    assert RNNLM(30, 8, 8, cell="gru")(np.zeros((2, 4), dtype=np.int64)).shape == (2, 4, 30)


def test_uniform_model_has_perplexity_equal_to_the_vocabulary_size():
    m = RNNLM(17, 4, 4, num_layers=1, dropout=0.0)
    for p in m.parameters():
        p.data[...] = 0  # every logit is 0: each of the 17 tokens has probability 1/17
    ids = np.random.default_rng(0).integers(0, 17, 401)
    assert perplexity(m, StreamBatches(ids, 4, 7)) == pytest.approx(17.0, rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck_float64_tied(cell):
    with zd.default_dtype(np.float64):
        zd.manual_seed(0)
        m = RNNLM(7, 3, 3, num_layers=2, dropout=0.0, cell=cell)
    x = np.array([[1, 2, 3], [4, 5, 6]])
    t = np.array([[2, 3, 4], [5, 6, 0]])
    res = gradient_check(lambda: F.softmax_cross_entropy(m(x).reshape(-1, 7), t.reshape(-1)),
                         params=list(m.parameters()))
    assert res.ok, res


def test_matches_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    zd.manual_seed(0)
    m = RNNLM(11, 6, 6, num_layers=2, dropout=0.0)
    m.out_b.data[:] = np.random.default_rng(1).normal(size=11)
    emb = torch.nn.Embedding(11, 6)
    lstm = torch.nn.LSTM(6, 6, 2, batch_first=True)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(m.embed.W.data))
        for layer in range(2):
            getattr(lstm, f"weight_ih_l{layer}").copy_(torch.from_numpy(getattr(m.rnn, f"Wx_{layer}").data.T))
            getattr(lstm, f"weight_hh_l{layer}").copy_(torch.from_numpy(getattr(m.rnn, f"Wh_{layer}").data.T))
            getattr(lstm, f"bias_ih_l{layer}").copy_(torch.from_numpy(getattr(m.rnn, f"b_{layer}").data))
            getattr(lstm, f"bias_hh_l{layer}").zero_()
    x = np.random.default_rng(2).integers(0, 11, (3, 4))
    h, _ = lstm(emb(torch.from_numpy(x)))
    ref = (h @ emb.weight.T + torch.from_numpy(m.out_b.data)).detach().numpy()
    np.testing.assert_allclose(m(x).data, ref, rtol=1e-4, atol=1e-5)


def test_truncated_bptt_learns_a_periodic_stream():
    ids = np.tile(np.arange(4, 12), 200)  # 4, 5, ..., 11, 4, 5, ...: fully predictable
    zd.manual_seed(0)
    m = RNNLM(12, 16, 16, num_layers=1, dropout=0.0)
    opt = optim.SGD(m.parameters(), lr=2.0)
    batches = StreamBatches(ids, 8, 10)
    first = train_epoch(m, batches, opt, clip=0.25)
    for _ in range(5):
        train_epoch(m, batches, opt, clip=0.25)
    assert first > 3.0
    assert perplexity(m, StreamBatches(ids[:400], 4, 10)) < 1.2
    # the trained model continues the cycle
    assert generate(m, [4, 5, 6], 8, temperature=0) == [7, 8, 9, 10, 11, 4, 5, 6]


def test_sample_next_temperature_and_top_k():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert sample_next(logits, temperature=0) == 0
    rng = np.random.default_rng(0)
    draws = np.array([sample_next(logits, 1.0, None, rng) for _ in range(20000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / draws.size, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    draws = np.array([sample_next(logits, 1.0, 2, rng) for _ in range(5000)])
    assert set(draws.tolist()) == {0, 1}
    np.testing.assert_allclose(np.mean(draws == 0), 0.5 / 0.8, atol=0.02)
    hot = np.array([sample_next(logits, 100.0, None, rng) for _ in range(8000)])  # nearly uniform
    np.testing.assert_allclose(np.bincount(hot, minlength=4) / hot.size, 0.25, atol=0.02)
    with pytest.raises(ValueError, match="top_k"):
        sample_next(logits, 1.0, 9)
    with pytest.raises(ValueError, match="prefix"):
        generate(RNNLM(5, 2, 2), [], 3)


def test_train_epoch_clips_and_reports_perplexity():
    ids = np.random.default_rng(0).integers(0, 9, 300)
    zd.manual_seed(0)
    m = RNNLM(9, 4, 4, num_layers=1, dropout=0.0)
    seen = []
    ppl = train_epoch(m, StreamBatches(ids, 3, 5), optim.SGD(m.parameters(), lr=0.1), clip=1e-3,
                      on_batch=lambda i, p: seen.append(p))
    assert len(seen) == len(StreamBatches(ids, 3, 5)) and seen[-1] == ppl
    assert 5 < ppl < 12 and math.isfinite(ppl)  # near-uniform over 9 tokens with tiny clipped steps
