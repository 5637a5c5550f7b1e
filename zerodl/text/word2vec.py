"""word2vec with negative sampling (book 2, chapter 4): CBOW and skip-gram.

Both models hold two tables, ``W_in`` (the word vectors kept at the end) and ``W_out``, each
(V, D), initialised N(0, 0.01**2) as in the book. For a batch of N examples with one positive
and ``k`` negative target words each (``targets`` (N, 1 + k), the positive in column 0)::

    CBOW:      h[n] = mean_j W_in[contexts[n, j]]          contexts (N, 2 * window)
    skip-gram: h[n] = W_in[centers[n]]                      one (center, context) pair per row
    s[n, j]  = h[n] . W_out[targets[n, j]]                  the book's EmbeddingDot
    loss     = sum_n ( -log sigmoid(s[n, 0]) - sum_{j>0} log sigmoid(-s[n, j]) )   (/ N for "mean")

Negatives come from the unigram distribution raised to 0.75 (:class:`UnigramSampler`); frequent
words are subsampled (:func:`subsample`, word2vec's formula); contexts are the ``window`` words
on each side (the book's ``create_contexts_target``). With ``sparse=True`` (default) both
tables get row-sparse gradients, so plain SGD touches only the rows a batch used.
"""
import numpy as np

from .. import functions as F
from .. import nn

__all__ = ["UnigramSampler", "subsample", "contexts_target", "SkipGram", "CBOW",
           "negative_sampling_loss", "Word2VecBatches"]


class UnigramSampler:
    """Draws word ids with probability ``counts ** power / sum(counts ** power)``.

    ``counts`` int (V,) (``Vocab.counts``; words with count 0, such as the specials, are never
    drawn). ``sample(shape, rng)`` -> int64 ids of that shape. Negatives may equal the positive
    word, rarely for a large vocabulary (the book's NumPy path and PyTorch recipes allow it).
    """

    def __init__(self, counts, power=0.75):
        p = np.asarray(counts, dtype=np.float64) ** power
        if p.ndim != 1 or not p.sum() > 0:
            raise ValueError("UnigramSampler: counts must be a 1-D array with a positive total")
        self.p = p / p.sum()
        self.cdf = np.cumsum(self.p)
        self.cdf[-1] = 1.0

    def sample(self, shape, rng):
        ids = np.searchsorted(self.cdf, rng.random(shape), side="right")
        return np.minimum(ids, len(self.cdf) - 1).astype(np.int64)


def subsample(ids, counts, t=1e-4, rng=None):
    """Drop frequent words at random: word w is kept with probability
    ``min(1, sqrt(t / f_w) + t / f_w)`` (word2vec's code), ``f_w = counts[w] / sum(counts)``.
    ``t=0`` keeps everything. Returns the kept ids, in order."""
    ids = np.asarray(ids)
    if not t:
        return ids
    f = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    with np.errstate(divide="ignore"):
        keep = np.minimum(1.0, np.sqrt(t / f) + t / f)
    return ids[rng.random(ids.shape) < keep[ids]]


def contexts_target(ids, window):
    """The book's ``create_contexts_target``: targets ``ids[window:-window]`` (N,) and their
    contexts (N, 2 * window), the ``window`` ids before and after each target."""
    ids = np.asarray(ids)
    n = len(ids) - 2 * window
    if window < 1 or n < 1:
        raise ValueError(f"contexts_target: need window >= 1 and more than {2 * window} ids, got {len(ids)}")
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    centre = np.arange(window, window + n)
    return ids[centre[:, None] + offsets[None, :]], ids[centre]


def _table(V, D, dtype):
    return nn.Parameter(nn.init.normal_(np.empty((V, D), dtype=dtype), std=0.01), dtype=dtype)


class _Word2Vec(nn.Module):
    def __init__(self, vocab_size, embed_dim=100, sparse=True):
        super().__init__()
        self.vocab_size, self.embed_dim, self.sparse = int(vocab_size), int(embed_dim), bool(sparse)
        self.W_in = _table(self.vocab_size, self.embed_dim, self._dtype)
        self.W_out = _table(self.vocab_size, self.embed_dim, self._dtype)

    def _hidden(self, words):
        raise NotImplementedError

    def forward(self, words, targets):
        """Scores (N, K) of ``targets`` (N, K) given ``words`` (centres (N,) or contexts (N, C))."""
        return F.embedding_dot(self._hidden(words), targets, self.W_out, sparse=self.sparse)

    @property
    def vectors(self):
        """The word vectors: ``W_in`` as an array (V, D)."""
        return self.W_in.data


class SkipGram(_Word2Vec):
    """Skip-gram: predict each context word from the centre word. ``forward(centers (N,),
    targets (N, 1 + k)) -> scores (N, 1 + k)``."""

    def _hidden(self, centers):
        return F.embedding(centers, self.W_in, sparse=self.sparse)


class CBOW(_Word2Vec):
    """CBOW: predict the centre word from the mean of its contexts. ``forward(contexts (N, C),
    targets (N, 1 + k)) -> scores (N, 1 + k)``."""

    def _hidden(self, contexts):
        return F.embedding(contexts, self.W_in, sparse=self.sparse).mean(axis=1)


def negative_sampling_loss(scores, reduction="sum"):
    """``-log sigmoid(s[:, 0]) - sum_j log sigmoid(-s[:, j>0])`` summed over the batch (word2vec's
    per-pair SGD scale) or, ``reduction="mean"``, averaged over it (the book's, used with Adam)."""
    N, K = scores.shape
    labels = np.zeros((N, K), dtype=scores.dtype)
    labels[:, 0] = 1
    per_elem = F.binary_cross_entropy_with_logits(scores, labels)  # mean over N * K
    if reduction not in ("sum", "mean"):
        raise ValueError(f"negative_sampling_loss: reduction must be 'sum' or 'mean', got {reduction!r}")
    return per_elem * float(N * K if reduction == "sum" else K)


class Word2VecBatches:
    """One epoch of word2vec batches from a stream of ids, drawn afresh at each iteration:
    subsample, take contexts and targets, shuffle, draw ``negatives`` per example.

    ``model="skipgram"``: yields ``(centers (B,), targets (B, 1 + k))``, one row per (centre,
    context) pair; ``"cbow"``: ``(contexts (B, 2 * window), targets (B, 1 + k))``. Ids in
    ``drop`` (for example ``<unk>``) are removed before anything else.
    """

    def __init__(self, ids, counts, model="skipgram", window=5, negatives=5, batch_size=1024,
                 t=1e-4, power=0.75, drop=(), seed=0):
        if model not in ("skipgram", "cbow"):
            raise ValueError(f"Word2VecBatches: model must be 'skipgram' or 'cbow', got {model!r}")
        ids = np.asarray(ids)
        self.ids = ids[~np.isin(ids, list(drop))] if len(drop) else ids
        self.counts = np.asarray(counts)
        self.model, self.window, self.negatives, self.batch_size, self.t = model, window, negatives, batch_size, t
        self.sampler = UnigramSampler(counts, power)
        self.rng = np.random.default_rng(seed)

    def examples(self):
        """``(inputs, positives)`` for one epoch, shuffled."""
        kept = subsample(self.ids, self.counts, self.t, self.rng)
        contexts, target = contexts_target(kept, self.window)
        if self.model == "skipgram":
            inputs = np.repeat(target, contexts.shape[1])
            positives = contexts.reshape(-1)
        else:
            inputs, positives = contexts, target
        order = self.rng.permutation(len(positives))
        return inputs[order], positives[order]

    def __iter__(self):
        inputs, positives = self.examples()
        B, k = self.batch_size, self.negatives
        for s in range(0, len(positives), B):
            pos = positives[s:s + B]
            targets = np.empty((len(pos), 1 + k), dtype=np.int64)
            targets[:, 0] = pos
            targets[:, 1:] = self.sampler.sample((len(pos), k), self.rng)
            yield inputs[s:s + B], targets
