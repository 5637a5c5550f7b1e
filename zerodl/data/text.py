"""Text data: a vocabulary, word and character tokenisation, stream batches for truncated
BPTT, padded batches (with lengths and masks) for variable-length sequences, and a reader for
the Penn Treebank files.

    tokens = tokenize_words("In the beginning God created the heaven and the earth.")
    vocab = Vocab.build([tokens], max_size=10000)       # specials first: <pad> <unk> <bos> <eos>
    ids = vocab.encode(tokens)                           # int64 (T,)
    vocab.save("model.vocab.json"); Vocab.load("model.vocab.json")
    for x, t in StreamBatches(ids, batch_size=20, bptt=35):   # x, t int64 (20, <=35)
        ...
    ids, lengths, mask = pad_batch([[5, 6, 7], [8]], pad_id=vocab.pad_id)

NumPy and the standard library only.
"""
from __future__ import annotations

import collections
import gzip
import json
import re
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_write

__all__ = [
    "Vocab", "SPECIALS", "tokenize_words", "tokenize_chars", "StreamBatches", "pad_batch",
    "length_mask", "read_ptb", "load_ptb", "vocab_path_for", "encode_lines",
]

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
_FORMAT = "zerodl.vocab/1"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize_words(text: str, lower: bool = True) -> list[str]:
    """Words of ``text``: runs of letters/digits (inner apostrophes kept: ``"lord's"``);
    punctuation and spaces are dropped; lower-cased unless ``lower=False``."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_words: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower() if lower else text)


def tokenize_chars(text: str) -> list[str]:
    """The characters of ``text``, one token each (spaces and newlines included)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_chars: expected a str, got {type(text).__name__}")
    return list(text)


class Vocab:
    """Tokens <-> integer ids.

    ``Vocab(tokens)`` takes the tokens in id order; ``Vocab.build(sequences, ...)`` counts them
    (most frequent first; ties in order of first appearance). ``specials`` come first, so
    with the default ``<pad>`` is 0, ``<unk>`` 1, ``<bos>`` 2 and ``<eos>`` 3; their ids are
    ``pad_id``, ``unk_id``, ``bos_id``, ``eos_id`` (None when a special is absent). Unknown
    tokens encode to ``unk_id`` (a KeyError when there is none). ``counts`` (id-aligned int64,
    0 for specials) is kept when built from data: word2vec's samplers use it.
    """

    def __init__(self, tokens, specials=SPECIALS, counts=None):
        tokens = list(tokens)
        specials = tuple(specials)
        for s in specials:
            if s in tokens:
                tokens.remove(s)
        self.itos = list(specials) + tokens
        self.stoi = {}
        for i, tok in enumerate(self.itos):
            if not isinstance(tok, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(tok).__name__} ({tok!r})")
            if tok in self.stoi:
                raise ValueError(f"Vocab: token {tok!r} appears twice")
            self.stoi[tok] = i
        self.specials = specials
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(self.itos),):
                raise ValueError(f"Vocab: counts must have shape ({len(self.itos)},), got {counts.shape}")
        self.counts = counts

    @classmethod
    def build(cls, sequences, max_size=None, min_freq=1, specials=SPECIALS):
        """Count the tokens of ``sequences`` (an iterable of token lists) and keep those seen at
        least ``min_freq`` times, at most ``max_size`` of them (specials not counted)."""
        counter = collections.Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise TypeError("Vocab.build: expected an iterable of token lists, got a str "
                                "(wrap one token list in a list, or tokenise the text first)")
            counter.update(seq)
        specials = tuple(specials)
        kept = [(t, c) for t, c in counter.items() if c >= min_freq and t not in specials]
        kept.sort(key=lambda tc: -tc[1])  # stable: ties keep first-appearance order
        if max_size is not None:
            kept = kept[: int(max_size)]
        counts = [0] * len(specials) + [c for _, c in kept]
        return cls([t for t, _ in kept], specials=specials, counts=counts)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __repr__(self):
        return f"Vocab({len(self)} tokens, specials={list(self.specials)})"

    def _special(self, name):
        return self.stoi.get(name)

    pad_id = property(lambda self: self._special("<pad>"))
    unk_id = property(lambda self: self._special("<unk>"))
    bos_id = property(lambda self: self._special("<bos>"))
    eos_id = property(lambda self: self._special("<eos>"))

    def token_to_id(self, token):
        i = self.stoi.get(token)
        if i is None:
            if self.unk_id is None:
                raise KeyError(f"Vocab: unknown token {token!r} and no <unk> token in this vocabulary")
            return self.unk_id
        return i

    def id_to_token(self, i):
        return self.itos[int(i)]

    def encode(self, tokens, add_bos=False, add_eos=False) -> np.ndarray:
        """Ids of ``tokens`` (int64 (T,)), with ``<bos>``/``<eos>`` around them if asked."""
        get, unk = self.stoi.get, self.unk_id
        ids = [get(t, unk) for t in tokens]
        if unk is None and None in ids:
            bad = next(t for t, i in zip(tokens, ids) if i is None)
            raise KeyError(f"Vocab.encode: unknown token {bad!r} and no <unk> token in this vocabulary")
        if add_bos:
            ids.insert(0, self._required("<bos>"))
        if add_eos:
            ids.append(self._required("<eos>"))
        return np.asarray(ids, dtype=np.int64)

    def _required(self, name):
        i = self.stoi.get(name)
        if i is None:
            raise KeyError(f"Vocab: this vocabulary has no {name} token")
        return i

    def decode(self, ids, skip_specials=False) -> list[str]:
        """Tokens of ``ids`` (an int sequence or array); specials dropped if asked."""
        ids = np.asarray(ids).ravel()
        n = len(self.itos)
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise IndexError(f"Vocab.decode: id out of range [0, {n}) (got {int(ids.min())}..{int(ids.max())})")
        drop = set(self.specials) if skip_specials else ()
        return [t for t in (self.itos[i] for i in ids.tolist()) if t not in drop]

    # ----- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {"format": _FORMAT, "specials": list(self.specials), "tokens": self.itos[len(self.specials):]}
        if self.counts is not None:
            d["counts"] = self.counts.tolist()
        return d

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"Vocab: not a zerodl vocabulary (expected format {_FORMAT!r})")
        return cls(d["tokens"], specials=d["specials"], counts=d.get("counts"))

    def save(self, path):
        """Write the vocabulary as UTF-8 JSON to ``path``, atomically (temporary file + rename)."""
        path = Path(path)
        text = json.dumps(self.to_dict(), ensure_ascii=False)
        atomic_write(path, text)
        return path

    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"Vocab.load: no vocabulary file {str(path)!r}") from None
        except ValueError as e:
            raise ValueError(f"Vocab.load: {str(path)!r} is not valid JSON ({e})") from None
        return cls.from_dict(d)


def vocab_path_for(weights_path) -> Path:
    """Where the vocabulary of a weights file goes: ``lm.safetensors`` -> ``lm.vocab.json``."""
    p = Path(weights_path)
    return p.with_name(p.name.split(".")[0] + ".vocab.json")


def encode_lines(lines, vocab, tokenize=tokenize_words, add_eos=True) -> np.ndarray:
    """One id stream (int64) of many lines: each line tokenised, encoded, ``<eos>`` after it."""
    parts = [vocab.encode(tokenize(line), add_eos=add_eos) for line in lines]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


class StreamBatches:
    """Truncated-BPTT batches over one id stream (the book's per-row offsets).

    The stream (length L) is cut into ``batch_size`` rows of equal length ``R = (L - 1) //
    batch_size``; row i starts at offset ``i * R`` (the book's ``offsets = [i * jump ...]``),
    the leftover tail is dropped. Iterating gives consecutive chunks ``(x, t)``, each int64
    (batch_size, T) with T = ``bptt`` (the last chunk may be shorter), ``t`` being ``x``
    shifted by one: chunk k+1 of row i continues chunk k of row i, so an RNN's last state
    carries over. ``len()`` is the number of chunks.
    """

    def __init__(self, ids, batch_size, bptt):
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(f"StreamBatches: ids must be a 1-D integer array, got {ids.dtype} shape {ids.shape}")
        for name, v in (("batch_size", batch_size), ("bptt", bptt)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"StreamBatches: {name} must be a positive integer, got {v!r}")
        rows = (len(ids) - 1) // batch_size
        if rows < 1:
            raise ValueError(f"StreamBatches: a stream of {len(ids)} ids is too short for batch_size={batch_size}")
        n = rows * batch_size
        self.x = ids[:n].reshape(batch_size, rows).astype(np.int64)
        # row i of t is row i of x moved by one id: the next token of the same stream
        self.t = ids[1:n + 1].reshape(batch_size, rows).astype(np.int64)
        self.batch_size, self.bptt, self.row_len = int(batch_size), int(bptt), rows

    def __len__(self):
        return -(-self.row_len // self.bptt)

    def __iter__(self):
        for s in range(0, self.row_len, self.bptt):
            yield self.x[:, s:s + self.bptt], self.t[:, s:s + self.bptt]


def length_mask(lengths, max_len=None) -> np.ndarray:
    """Boolean (N, max_len): True at positions ``j < lengths[i]`` (real tokens), False at padding."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.ndim != 1 or (lengths.size and lengths.min() < 0):
        raise ValueError(f"length_mask: lengths must be a 1-D array of counts >= 0, got {lengths!r}")
    T = int(lengths.max()) if max_len is None and lengths.size else int(max_len or 0)
    return np.arange(T)[None, :] < lengths[:, None]


def pad_batch(seqs, pad_id=0, max_len=None, dtype=np.int64):
    """Pad variable-length sequences on the right.

    Returns ``(ids (N, T), lengths int64 (N,), mask bool (N, T))`` with T the longest length
    (or ``max_len``: longer sequences are cut), ``ids`` filled with ``pad_id`` past each length
    and ``mask`` True on real tokens.
    """
    seqs = [np.asarray(s).ravel() for s in seqs]
    if not seqs:
        raise ValueError("pad_batch: got no sequences")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if max_len is not None:
        lengths = np.minimum(lengths, int(max_len))
    T = int(lengths.max()) if max_len is None else int(max_len)
    out = np.full((len(seqs), T), pad_id, dtype=dtype)
    for i, (s, n) in enumerate(zip(seqs, lengths)):
        out[i, :n] = s[:n]
    return out, lengths, length_mask(lengths, T)


# ----------------------------------------------------------------------------- PTB
_PTB_SPLITS = ("train", "valid", "test")


def read_ptb(data_dir, split="train") -> list[str]:
    """The tokens of ``ptb.<split>.txt`` in ``data_dir`` (split: train, valid or test), as the
    book reads them: whitespace-separated words with ``<eos>`` at each line end (the files
    already hold ``<unk>``). A ``.gz`` copy is read too."""
    if split not in _PTB_SPLITS:
        raise ValueError(f"read_ptb: split must be one of {_PTB_SPLITS}, got {split!r}")
    folder = Path(data_dir)
    for cand in (folder / f"ptb.{split}.txt", folder / f"ptb.{split}.txt.gz"):
        if cand.exists():
            break
    else:
        raise FileNotFoundError(
            f"read_ptb: no ptb.{split}.txt in {str(folder)!r} (the Penn Treebank files ptb.train.txt, "
            "ptb.valid.txt and ptb.test.txt are not shipped with zerodl: pass the folder that holds them)")
    if cand.suffix == ".gz":
        text = gzip.decompress(cand.read_bytes()).decode("utf-8")
    else:
        text = cand.read_text(encoding="utf-8")
    tokens = []
    for line in text.splitlines():
        words = line.split()
        if words:
            tokens.extend(words)
            tokens.append("<eos>")
    return tokens


def load_ptb(data_dir):
    """``(vocab, {"train": ids, "valid": ids, "test": ids})`` from the three PTB files; the
    vocabulary is the training split's words (PTB's own ``<unk>`` is its unknown token)."""
    toks = {s: read_ptb(data_dir, s) for s in _PTB_SPLITS}
    vocab = Vocab.build([toks["train"]], specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    return vocab, {s: vocab.encode(t) for s, t in toks.items()}
