"""The King James Bible (1611), shipped with zerodl as a real English corpus for word2vec and
language models (about 4.1 million characters, 790,000 words, 31,102 verses).

The file ``_files/kjv_bible.tsv.gz`` holds one verse per line: ``book<TAB>chapter<TAB>verse
<TAB>text``; its source and licence are in ``_files/README.md``. The splits are fixed: the
1,189 chapters are numbered in canonical order from 0, and chapter k goes to ``valid`` when
``k % 20 == 18``, to ``test`` when ``k % 20 == 19``, else to ``train`` (90 / 5 / 5 per cent of
the chapters, every part of the book represented in each split).
"""
from __future__ import annotations

import functools
import gzip
from importlib import resources

from .text import Vocab, encode_lines, tokenize_chars, tokenize_words

__all__ = ["kjv_bible", "kjv_lm_splits", "KJV_SPLITS"]

KJV_SPLITS = ("train", "valid", "test")
_ALIASES = {"validation": "valid", "val": "valid"}


@functools.lru_cache(maxsize=1)
def _kjv_verses():
    """``(split, book, chapter, verse, text)`` for every verse, in order."""
    raw = resources.files("zerodl.data").joinpath("_files", "kjv_bible.tsv.gz").read_bytes()
    rows, chapter_index, last = [], -1, None
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        book, chapter, verse, text = line.split("\t")
        if (book, chapter) != last:
            chapter_index += 1
            last = (book, chapter)
        r = chapter_index % 20
        split = "valid" if r == 18 else "test" if r == 19 else "train"
        rows.append((split, book, int(chapter), int(verse), text))
    return tuple(rows)


def kjv_bible(split="train", with_refs=False):
    """The verses of one split of the King James Bible, as a list of str.

    ``split``: ``"train"``, ``"valid"`` (also ``"validation"``), ``"test"`` or ``"all"``.
    With ``with_refs=True`` each item is ``(book, chapter, verse, text)``, e.g.
    ``("Ge", 1, 1, "In the beginning God created the heaven and the earth.")``.
    """
    split = _ALIASES.get(split, split)
    if split not in KJV_SPLITS + ("all",):
        raise ValueError(f"kjv_bible: split must be one of {KJV_SPLITS + ('all',)}, got {split!r}")
    rows = [r for r in _kjv_verses() if split == "all" or r[0] == split]
    return [r[1:] for r in rows] if with_refs else [r[4] for r in rows]


def kjv_lm_splits(level="word", min_freq=3, max_size=None):
    """The corpus ready for a language model: ``(vocab, {"train", "valid", "test"} -> ids)``.

    ``level="word"``: ``tokenize_words`` (lower case, punctuation dropped), vocabulary of the
    training words seen at least ``min_freq`` times (others are ``<unk>``); ``"char"``: every
    character is a token (``min_freq`` ignored). Each verse ends with ``<eos>``; each split is
    one int64 stream of ids.
    """
    if level not in ("word", "char"):
        raise ValueError(f"kjv_lm_splits: level must be 'word' or 'char', got {level!r}")
    tokenize = tokenize_words if level == "word" else tokenize_chars
    texts = {s: kjv_bible(s) for s in KJV_SPLITS}
    vocab = Vocab.build((tokenize(v) for v in texts["train"]),
                        min_freq=min_freq if level == "word" else 1, max_size=max_size)
    return vocab, {s: encode_lines(t, vocab, tokenize) for s, t in texts.items()}
