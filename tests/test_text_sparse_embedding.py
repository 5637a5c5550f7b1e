"""Row-sparse embedding gradients: same values as the dense gradient, understood by optimizers,
clipping and gradient accumulation, and never expanded to (V, D) by plain SGD."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.functions import RowSparseGrad

IDS = np.array([[1, 7, 1, 3], [7, 7, 0, 9]])


def _tables(V=12, D=4, seed=0):
    w = np.random.default_rng(seed).normal(size=(V, D)).astype(np.float32)
    return zd.Tensor(w.copy(), requires_grad=True), zd.Tensor(w.copy(), requires_grad=True)


def _loss(W, sparse, ids=IDS):
    y = F.embedding(ids, W, sparse=sparse)
    c = np.arange(y.size, dtype=np.float32).reshape(y.shape) / y.size
    return (y * y * c).sum()


def test_sparse_gradient_equals_the_dense_one():
    Wd, Ws = _tables()
    _loss(Wd, False).backward()
    _loss(Ws, True).backward()
    g = Ws.grad
    assert isinstance(g, RowSparseGrad) and g.shape == (12, 4) and g.dtype == np.float32
    assert g.rows.size == IDS.size  # one row per lookup, nothing of size V
    rows, _ = g.coalesce()
    assert rows.tolist() == [0, 1, 3, 7, 9]
    np.testing.assert_allclose(np.asarray(g), Wd.grad, rtol=1e-6, atol=1e-7)
    untouched = np.setdiff1d(np.arange(12), IDS)
    assert not np.asarray(g)[untouched].any()


def test_plain_sgd_updates_only_the_touched_rows_without_densifying(monkeypatch):
    Wd, Ws = _tables()
    before = Ws.data.copy()
    for W, sparse in ((Wd, False), (Ws, True)):
        _loss(W, sparse).backward()
    opt_d, opt_s = optim.SGD([Wd], lr=0.5), optim.SGD([Ws], lr=0.5)
    opt_d.step()

    def refuse(*a, **k):
        raise AssertionError("plain SGD expanded the sparse gradient to (V, D)")

    monkeypatch.setattr(RowSparseGrad, "to_dense", refuse)
    opt_s.step()
    monkeypatch.undo()
    np.testing.assert_allclose(Ws.data, Wd.data, rtol=1e-6, atol=1e-7)
    changed = np.flatnonzero((Ws.data != before).any(axis=1))
    assert changed.tolist() == [0, 1, 3, 7, 9]


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda p: optim.Adam(p, lr=0.01),
    lambda p: optim.AdamW(p, lr=0.01),
    lambda p: optim.RMSprop(p, lr=0.01),
    lambda p: optim.AdaGrad(p, lr=0.1),
    lambda p: optim.Momentum(p, lr=0.1),
], ids=["momentum", "nesterov_wd", "adam", "adamw", "rmsprop", "adagrad", "book_momentum"])
def test_every_optimizer_gives_the_dense_result(make):
    Wd, Ws = _tables()
    opt_d, opt_s = make([Wd]), make([Ws])
    rng = np.random.default_rng(1)
    for _ in range(4):
        ids = rng.integers(0, 12, size=(3, 5))
        for W, opt, sparse in ((Wd, opt_d, False), (Ws, opt_s, True)):
            opt.zero_grad()
            _loss(W, sparse, ids).backward()
            opt.step()
    np.testing.assert_allclose(Ws.data, Wd.data, rtol=1e-5, atol=1e-6)


def test_accumulation_two_lookups_tied_weights_and_two_backwards():
    Wd, Ws = _tables()
    h = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    for W, sparse in ((Wd, False), (Ws, True)):
        a = F.embedding(np.array([1, 2]), W, sparse=sparse).sum()
        b = (F.embedding(np.array([2, 5]), W, sparse=sparse) ** 2).sum()
        tied = F.matmul(zd.Tensor(h), F.transpose(W)).sum()  # a dense gradient for the same table
        (a + b + tied).backward()
        _loss(W, sparse).backward()  # a second backward accumulates into .grad
    assert isinstance(Ws.grad, np.ndarray)  # dense + sparse is dense
    np.testing.assert_allclose(Ws.grad, Wd.grad, rtol=1e-6, atol=1e-6)
    Wd2, Ws2 = _tables()
    for W, sparse in ((Wd2, False), (Ws2, True)):
        (F.embedding(np.array([1, 2]), W, sparse=sparse).sum()
         + (F.embedding(np.array([2, 5]), W, sparse=sparse) ** 2).sum()).backward()
    assert isinstance(Ws2.grad, RowSparseGrad)  # sparse + sparse stays sparse
    np.testing.assert_allclose(np.asarray(Ws2.grad), Wd2.grad, rtol=1e-6)


def test_clip_grad_norm_on_sparse_gradients():
    Wd, Ws = _tables()
    _loss(Wd, False).backward()
    _loss(Ws, True).backward()
    nd = optim.clip_grad_norm_([Wd], 0.1)
    ns = optim.clip_grad_norm_([Ws], 0.1)
    assert ns == pytest.approx(nd, rel=1e-6)
    assert isinstance(Ws.grad, RowSparseGrad)
    np.testing.assert_allclose(np.asarray(Ws.grad), Wd.grad, rtol=1e-5, atol=1e-7)
    assert optim.clip_grad_norm_([Ws], 1.0, norm_type=float("inf")) == pytest.approx(
        float(np.abs(Wd.grad).max()), rel=1e-6)


def test_layer_option_and_float64_gradcheck():
    from zerodl.utils.gradcheck import gradient_check

    emb = nn.Embedding(10, 3, sparse=True)
    emb(np.array([[1, 2], [2, 9]])).sum().backward()
    assert isinstance(emb.W.grad, RowSparseGrad)
    assert "sparse=True" in repr(emb) and emb.get_config()["sparse"] is True
    W = np.random.default_rng(3).normal(size=(6, 3))
    res = gradient_check(lambda W: (F.embedding(np.array([[0, 5, 5], [2, 0, 1]]), W, sparse=True) ** 2).sum(),
                         W)
    assert res.ok, res


def test_matches_torch_sparse_embedding():
    torch = pytest.importorskip("torch")
    Wd, Ws = _tables()
    _loss(Ws, True).backward()
    tw = torch.tensor(Wd.data, requires_grad=True)
    y = torch.nn.functional.embedding(torch.from_numpy(IDS), tw, sparse=True)
    c = torch.arange(y.numel(), dtype=torch.float32).reshape(y.shape) / y.numel()
    (y * y * c).sum().backward()
    assert tw.grad.is_sparse
    np.testing.assert_allclose(np.asarray(Ws.grad), tw.grad.to_dense().numpy(), rtol=1e-6, atol=1e-7)


def test_row_sums_match_add_at_for_any_run_lengths():
    from zerodl.functions.embedding import _sum_rows

    rng = np.random.default_rng(0)
    for _ in range(200):
        n, V = int(rng.integers(0, 300)), int(rng.integers(1, 60))
        ids = rng.integers(0, V, n)
        ids[: int(rng.integers(0, n + 1))] = 0  # one long run (>= 16 rows) most of the time
        g = rng.standard_normal((n, 3))
        rows, sums = _sum_rows(ids, g)
        ref = np.zeros((V, 3))
        np.add.at(ref, ids, g)
        np.testing.assert_array_equal(rows, np.unique(ids))
        np.testing.assert_allclose(sums, ref[rows], atol=1e-12)
