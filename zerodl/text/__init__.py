"""zerodl.text: word2vec and recurrent language models built from ``zerodl.nn`` layers.

- :mod:`~zerodl.text.lm`: ``RNNLM`` (the book's BetterRnnlm: LSTM/GRU, dropout, weight tying),
  truncated-BPTT training with gradient clipping, ``perplexity``.
- :mod:`~zerodl.text.generate`: sampling with temperature and top-k.
- :mod:`~zerodl.text.word2vec`: CBOW and skip-gram with negative sampling.
- :mod:`~zerodl.text.vectors`: ``most_similar``, analogies, vectors saved with their vocabulary.

Layering: this package sits beside ``keras``/``cli`` (it uses ``nn``, ``optim``, ``data`` and
``io``).
"""
from .generate import generate, sample_next
from .lm import RNNLM, perplexity, train_epoch

__all__ = ["RNNLM", "perplexity", "train_epoch", "generate", "sample_next"]
