"""Queries on word vectors (cosine similarity), and vectors saved with their vocabulary.

    most_similar("king", vocab, W)           -> [("prince", 0.71), ...]
    analogy("man", "king", "woman", vocab, W) -> [("queen", 0.64), ...]   # king - man + woman
    save_vectors("w2v.safetensors", W, vocab)  # + w2v.vocab.json beside it
    W, vocab = load_vectors("w2v.safetensors")
"""
from pathlib import Path

import numpy as np

from ..data.text import Vocab, vocab_path_for
from ..io import load, save

__all__ = ["normalize_rows", "most_similar", "analogy", "score_analogies", "save_vectors",
           "load_vectors", "project_2d"]


def normalize_rows(W):
    """Rows of ``W`` (V, D) scaled to unit length (zero rows stay zero)."""
    W = np.asarray(W, dtype=np.float64)
    n = np.linalg.norm(W, axis=1, keepdims=True)
    return W / np.where(n > 0, n, 1.0)


def _id(word, vocab):
    if word not in vocab:
        raise KeyError(f"word {word!r} is not in the vocabulary ({len(vocab)} tokens)")
    return vocab.stoi[word]


def _nearest(query, Wn, vocab, top, exclude):
    sims = Wn @ (query / max(np.linalg.norm(query), 1e-12))
    sims[list(exclude)] = -np.inf
    sims[[vocab.stoi[s] for s in vocab.specials]] = -np.inf
    best = np.argsort(-sims)[:top]
    return [(vocab.itos[i], float(sims[i])) for i in best]


def most_similar(word, vocab, W, top=5):
    """The ``top`` words closest to ``word`` by cosine similarity, as ``(word, similarity)``."""
    Wn = normalize_rows(W)
    i = _id(word, vocab)
    return _nearest(Wn[i], Wn, vocab, top, {i})


def analogy(a, b, c, vocab, W, top=1):
    """``a : b :: c : ?`` -- the words nearest to ``b - a + c`` (unit vectors; a, b, c excluded)."""
    Wn = normalize_rows(W)
    ia, ib, ic = (_id(w, vocab) for w in (a, b, c))
    return _nearest(Wn[ib] - Wn[ia] + Wn[ic], Wn, vocab, top, {ia, ib, ic})


def score_analogies(questions, vocab, W):
    """Accuracy on ``questions``: tuples ``(a, b, c, d)`` read "a is to b as c is to d"; a question
    counts as right when ``d`` is the nearest word to ``b - a + c``. Questions with a word out of
    the vocabulary are skipped. Returns ``(accuracy, n_asked, [(question, answer), ...])``."""
    asked, right, answers = 0, 0, []
    for q in questions:
        if not all(w in vocab for w in q):
            continue
        guess = analogy(q[0], q[1], q[2], vocab, W, top=1)[0][0]
        asked += 1
        right += guess == q[3]
        answers.append((tuple(q), guess))
    return (right / asked if asked else 0.0), asked, answers


def save_vectors(path, W, vocab):
    """``W`` (V, D) as a safetensors file (tensor ``vectors``) and the vocabulary beside it
    (``name.vocab.json``, see ``data.text.vocab_path_for``)."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != len(vocab):
        raise ValueError(f"save_vectors: expected vectors of shape ({len(vocab)}, D), got {W.shape}")
    path = Path(path)
    save({"vectors": W}, path, metadata={"vocab": vocab_path_for(path).name})
    vocab.save(vocab_path_for(path))
    return path


def load_vectors(path):
    """``(W, vocab)`` written by :func:`save_vectors`."""
    path = Path(path)
    W = load(path)["vectors"]
    vocab = Vocab.load(vocab_path_for(path))
    if W.shape[0] != len(vocab):
        raise ValueError(f"load_vectors: {path} holds {W.shape[0]} vectors but its vocabulary {len(vocab)} words")
    return W, vocab


def project_2d(X):
    """Principal-component projection of the rows of ``X`` (n, D) onto their first two axes (n, 2)."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:2].T
