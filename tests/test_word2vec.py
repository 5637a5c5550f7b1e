"""word2vec (zerodl.text.word2vec) and the vector queries (zerodl.text.vectors)."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim
from zerodl.data.text import Vocab
from zerodl.text.analogies import KJV_RELATIONS, kjv_analogy_questions
from zerodl.text.vectors import (
    analogy, load_vectors, most_similar, project_2d, save_vectors, score_analogies,
)
from zerodl.text.word2vec import (
    CBOW, SkipGram, UnigramSampler, Word2VecBatches, contexts_target, negative_sampling_loss, subsample,
)
from zerodl.utils.gradcheck import gradient_check


def test_unigram_sampler_follows_counts_to_the_075():
    counts = np.array([0, 0, 100, 10, 1, 0, 50])
    s = UnigramSampler(counts)
    draws = s.sample((200_000,), np.random.default_rng(0))
    freq = np.bincount(draws, minlength=len(counts)) / draws.size
    p = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(freq, p, atol=4e-3)
    assert freq[[0, 1, 5]].sum() == 0  # zero counts (the specials) are never drawn
    assert s.sample((3, 4), np.random.default_rng(1)).shape == (3, 4)


def test_subsample_keeps_words_with_word2vecs_probability():
    counts = np.array([0, 9000, 900, 100])
    ids = np.repeat([1, 2, 3], [90_000, 9_000, 1_000])
    kept = subsample(ids, counts, t=1e-3, rng=np.random.default_rng(0))
    f = counts[1:] / counts.sum()
    expect = np.minimum(1, np.sqrt(1e-3 / f) + 1e-3 / f)
    got = np.bincount(kept, minlength=4)[1:] / np.array([90_000, 9_000, 1_000])
    np.testing.assert_allclose(got, expect, atol=0.01)
    assert subsample(ids, counts, t=0) is ids


def test_contexts_target_is_the_books():
    # book 2, ch. 3: "you say goodbye and i say hello ." with window 1
    corpus = np.array([0, 1, 2, 3, 4, 1, 5, 6])
    contexts, target = contexts_target(corpus, 1)
    np.testing.assert_array_equal(contexts, [[0, 2], [1, 3], [2, 4], [3, 1], [4, 5], [1, 6]])
    np.testing.assert_array_equal(target, [1, 2, 3, 4, 1, 5])
    c2, t2 = contexts_target(np.arange(10), 2)
    np.testing.assert_array_equal(c2[0], [0, 1, 3, 4])
    assert t2[0] == 2
    with pytest.raises(ValueError, match="contexts_target"):
        contexts_target(np.arange(4), 2)


def test_scores_and_loss_closed_form():
    zd.manual_seed(0)
    m = SkipGram(8, 4)
    centers, targets = np.array([1, 5]), np.array([[2, 3, 7], [0, 5, 5]])
    s = m(centers, targets)
    Wi, Wo = m.W_in.data, m.W_out.data
    ref = np.einsum("nd,nkd->nk", Wi[centers], Wo[targets])
    np.testing.assert_allclose(s.data, ref, rtol=1e-5)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    per = -np.log(sig(ref[:, 0])) - np.log(sig(-ref[:, 1:])).sum(1)
    assert float(negative_sampling_loss(s).data) == pytest.approx(per.sum(), rel=1e-5)
    assert float(negative_sampling_loss(s, "mean").data) == pytest.approx(per.mean(), rel=1e-5)
    c = CBOW(8, 4)
    ctx = np.array([[1, 2], [3, 3]])
    ref_c = np.einsum("nd,nkd->nk", c.W_in.data[ctx].mean(1), c.W_out.data[targets])
    np.testing.assert_allclose(c(ctx, targets).data, ref_c, rtol=1e-5)


@pytest.mark.parametrize("Model, words", [(SkipGram, np.array([1, 5, 5])), (CBOW, np.array([[1, 2], [5, 0], [3, 3]]))])
def test_models_gradcheck_float64(Model, words):
    with zd.default_dtype(np.float64):
        zd.manual_seed(1)
        m = Model(6, 3, sparse=True)
        m.W_in.data *= 30
        m.W_out.data *= 30
    targets = np.array([[0, 4, 4], [2, 1, 5], [3, 3, 0]])
    res = gradient_check(lambda: negative_sampling_loss(m(words, targets)), params=list(m.parameters()))
    assert res.ok, res


def test_skipgram_matches_torch():
    torch = pytest.importorskip("torch")
    zd.manual_seed(0)
    m = SkipGram(10, 4, sparse=True)
    centers, targets = np.array([1, 5, 1]), np.array([[2, 3, 7], [0, 5, 5], [9, 1, 2]])
    loss = negative_sampling_loss(m(centers, targets))
    loss.backward()
    wi = torch.tensor(m.W_in.data, requires_grad=True)
    wo = torch.tensor(m.W_out.data, requires_grad=True)
    s = torch.bmm(wo[torch.from_numpy(targets)], wi[torch.from_numpy(centers)].unsqueeze(2)).squeeze(2)
    lab = torch.zeros(s.shape)
    lab[:, 0] = 1
    tl = torch.nn.functional.binary_cross_entropy_with_logits(s, lab, reduction="sum")
    tl.backward()
    assert float(loss.data) == pytest.approx(tl.item(), rel=1e-5)
    np.testing.assert_allclose(np.asarray(m.W_in.grad), wi.grad.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(np.asarray(m.W_out.grad), wo.grad.numpy(), rtol=1e-4, atol=1e-7)


def _topic_corpus(rng, n=6000):
    """Words 4..11 form topic A, 12..19 topic B; a text alternates long runs of one topic."""
    parts = []
    for i in range(n // 20):
        lo = 4 if i % 2 == 0 else 12
        parts.append(rng.integers(lo, lo + 8, 20))
    return np.concatenate(parts)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_training_puts_co_occurring_words_together(model):
    rng = np.random.default_rng(0)
    ids = _topic_corpus(rng)
    counts = np.bincount(ids, minlength=20)
    vocab = Vocab([f"a{i}" for i in range(8)] + [f"b{i}" for i in range(8)])
    batches = Word2VecBatches(ids, counts, model=model, window=2, negatives=3, batch_size=256, t=0, seed=0)
    x, tg = next(iter(batches))
    assert tg.shape == (256, 4) and (x.shape == (256,) if model == "skipgram" else x.shape == (256, 4))
    zd.manual_seed(0)
    m = (SkipGram if model == "skipgram" else CBOW)(20, 8)
    opt = optim.SGD(m.parameters(), lr=0.05)
    for _ in range(3):
        for x, tg in batches:
            loss = negative_sampling_loss(m(x, tg))
            opt.zero_grad()
            loss.backward()
            opt.step()
    near = [w for w, _ in most_similar("a0", vocab, m.vectors, top=5)]
    assert all(w.startswith("a") for w in near), near


def test_most_similar_analogy_and_scoring_on_known_geometry():
    vocab = Vocab(["man", "woman", "king", "queen", "apple"])
    W = np.zeros((len(vocab), 3))
    W[vocab.stoi["man"]] = [1, 0, 0]
    W[vocab.stoi["woman"]] = [1, 1, 0]
    W[vocab.stoi["king"]] = [1, 0, 1]
    W[vocab.stoi["queen"]] = [1, 1, 1]
    W[vocab.stoi["apple"]] = [0, 0, -1]
    assert analogy("man", "king", "woman", vocab, W)[0][0] == "queen"
    top = most_similar("king", vocab, W, top=2)
    assert top[0][0] == "queen" and top[0][1] == pytest.approx(2 / np.sqrt(6))
    assert top[1][0] == "man" and top[1][1] == pytest.approx(1 / np.sqrt(2))
    acc, asked, answers = score_analogies([("man", "king", "woman", "queen"), ("man", "woman", "king", "queen"),
                                           ("man", "king", "woman", "unknownword")], vocab, W)
    assert (acc, asked) == (1.0, 2)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        most_similar("prince", vocab, W)


def test_vectors_round_trip_with_vocabulary(tmp_path):
    vocab = Vocab(["in", "the", "beginning"])
    W = np.random.default_rng(0).normal(size=(len(vocab), 5)).astype(np.float32)
    path = save_vectors(tmp_path / "w2v.safetensors", W, vocab)
    assert (tmp_path / "w2v.vocab.json").exists()
    W2, v2 = load_vectors(path)
    np.testing.assert_array_equal(W2, W)
    assert v2.itos == vocab.itos
    with pytest.raises(ValueError, match="save_vectors"):
        save_vectors(tmp_path / "bad.safetensors", W[:2], vocab)


def test_projection_and_analogy_set():
    X = np.random.default_rng(0).normal(size=(10, 6))
    P = project_2d(X)
    assert P.shape == (10, 2)
    Xc = X - X.mean(0)
    # the first component carries the most variance: it equals the top singular value squared
    assert (P[:, 0] ** 2).sum() == pytest.approx(np.linalg.svd(Xc, compute_uv=False)[0] ** 2)
    qs = kjv_analogy_questions()
    assert len(qs["gender"]) == len(KJV_RELATIONS["gender"]) * (len(KJV_RELATIONS["gender"]) - 1)
    assert ("father", "mother", "son", "daughter") in qs["gender"]


def test_embedding_dot_checks_shapes():
    with pytest.raises(ValueError, match="embedding_dot"):
        F.embedding_dot(zd.tensor(np.zeros((2, 3))), np.zeros((3, 1), dtype=np.int64), zd.tensor(np.zeros((5, 3))))
    with pytest.raises(IndexError, match="embedding_dot"):
        F.embedding_dot(zd.tensor(np.zeros((2, 3))), np.array([[1], [7]]), zd.tensor(np.zeros((5, 3))))
