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

__all__ = ["kjv_bible", "KJV_SPLITS"]

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
