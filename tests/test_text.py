"""zerodl.data.text (vocabulary, tokenisers, BPTT stream batches, padding, PTB reader) and the
shipped King James Bible corpus."""
import gzip
import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from zerodl.data import datasets
from zerodl.data.text import (
    StreamBatches, Vocab, encode_lines, length_mask, load_ptb, pad_batch, read_ptb,
    tokenize_chars, tokenize_words, vocab_path_for,
)


def test_tokenize_words_and_chars():
    assert tokenize_words("And God said, Let there be light: and there was light.") == [
        "and", "god", "said", "let", "there", "be", "light", "and", "there", "was", "light"]
    assert tokenize_words("The LORD's house", lower=False) == ["The", "LORD's", "house"]
    assert tokenize_chars("ab c\n") == ["a", "b", " ", "c", "\n"]
    with pytest.raises(TypeError, match="tokenize_words"):
        tokenize_words(["a"])


def test_vocab_build_orders_by_frequency_and_specials_first():
    v = Vocab.build([["b", "a", "b", "c"], ["c", "b", "d"]], min_freq=1)
    assert v.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert v.itos[4:] == ["b", "c", "a", "d"]  # b:3, c:2, then a, d (1 each) in first-seen order
    assert v.counts.tolist() == [0, 0, 0, 0, 3, 2, 1, 1]
    v2 = Vocab.build([["b", "a", "b", "c"], ["c", "b", "d"]], min_freq=2)
    assert v2.itos[4:] == ["b", "c"]
    assert Vocab.build([["x", "y", "y", "z", "z", "z"]], max_size=2).itos[4:] == ["z", "y"]


def test_vocab_encode_decode_unknown_and_markers():
    v = Vocab(["in", "the", "beginning"])
    ids = v.encode(["in", "the", "end"], add_bos=True, add_eos=True)
    assert ids.dtype == np.int64
    assert ids.tolist() == [2, 4, 5, v.unk_id, 3]
    assert v.decode(ids) == ["<bos>", "in", "the", "<unk>", "<eos>"]
    assert v.decode(ids, skip_specials=True) == ["in", "the"]
    with pytest.raises(IndexError, match="out of range"):
        v.decode([99])
    strict = Vocab(["a"], specials=())
    with pytest.raises(KeyError, match="unknown token 'b'"):
        strict.encode(["a", "b"])


def test_vocab_json_round_trip_beside_weights(tmp_path):
    v = Vocab.build([tokenize_words("the king and the queen and the prince")])
    path = vocab_path_for(tmp_path / "lm.safetensors")
    assert path.name == "lm.vocab.json"
    v.save(path)
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["format"] == "zerodl.vocab/1" and d["tokens"][0] == "the"
    w = Vocab.load(path)
    assert w.itos == v.itos and w.counts.tolist() == v.counts.tolist()
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        Vocab.load(path)
    with pytest.raises(FileNotFoundError, match="no vocabulary file"):
        Vocab.load(tmp_path / "missing.json")


def test_stream_batches_follow_the_books_offsets():
    ids = np.arange(103)
    sb = StreamBatches(ids, batch_size=4, bptt=7)
    R = (103 - 1) // 4  # 25 ids per row
    chunks = list(sb)
    assert len(sb) == len(chunks) == 4  # 7 + 7 + 7 + 4
    assert [c[0].shape for c in chunks] == [(4, 7)] * 3 + [(4, 4)]
    xs = np.concatenate([c[0] for c in chunks], axis=1)
    ts = np.concatenate([c[1] for c in chunks], axis=1)
    # the book: xs[i, t] = corpus[offsets[i] + t], ts[i, t] = corpus[offsets[i] + t + 1]
    for i in range(4):
        np.testing.assert_array_equal(xs[i], ids[i * R:(i + 1) * R])
        np.testing.assert_array_equal(ts[i], ids[i * R + 1:(i + 1) * R + 1])
    with pytest.raises(ValueError, match="too short"):
        StreamBatches(np.arange(3), batch_size=4, bptt=2)
    with pytest.raises(ValueError, match="1-D integer"):
        StreamBatches(np.zeros(10), batch_size=2, bptt=2)


def test_pad_batch_lengths_and_mask():
    ids, lengths, mask = pad_batch([[5, 6, 7], [8], []], pad_id=0)
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    assert lengths.tolist() == [3, 1, 0]
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    assert mask.dtype == bool
    ids2, l2, m2 = pad_batch([[1, 2, 3, 4], [5]], pad_id=9, max_len=2)
    np.testing.assert_array_equal(ids2, [[1, 2], [5, 9]])
    assert l2.tolist() == [2, 1] and m2.shape == (2, 2)
    np.testing.assert_array_equal(length_mask([2, 0], 3), [[True, True, False], [False, False, False]])


def test_read_ptb(tmp_path):
    (tmp_path / "ptb.train.txt").write_text(" the cat sat \n the <unk> ran \n", encoding="utf-8")
    (tmp_path / "ptb.valid.txt").write_text(" the cat \n", encoding="utf-8")
    (tmp_path / "ptb.test.txt.gz").write_bytes(gzip.compress(b" a dog sat \n"))
    assert read_ptb(tmp_path, "train") == ["the", "cat", "sat", "<eos>", "the", "<unk>", "ran", "<eos>"]
    vocab, splits = load_ptb(tmp_path)
    assert vocab.itos[4] == "the"
    assert vocab.decode(splits["valid"]) == ["the", "cat", "<eos>"]
    assert vocab.decode(splits["test"]) == ["<unk>", "<unk>", "sat", "<eos>"]  # a, dog unseen
    with pytest.raises(FileNotFoundError, match="ptb.train.txt"):
        read_ptb(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split"):
        read_ptb(tmp_path, "dev")


def test_kjv_corpus_is_shipped_and_split_by_chapter():
    raw = resources.files("zerodl.data").joinpath("_files", "kjv_bible.tsv.gz").read_bytes()
    assert len(raw) < 2_000_000  # compressed, a small share of the wheel
    assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == (
        "ff15fa3c6de7467b30c3007ab12fd0c8c4edfe8646d8534c13774c66ea3006dc")
    train, valid, test = (datasets.kjv_bible(s) for s in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (28045, 1484, 1573)
    assert train[0] == "In the beginning God created the heaven and the earth."
    everything = datasets.kjv_bible("all", with_refs=True)
    assert len(everything) == 31102 and everything[-1][:3] == ("Rev", 22, 21)
    assert 3_500_000 < sum(map(len, train)) + sum(map(len, valid)) + sum(map(len, test)) < 5_000_000
    refs = datasets.kjv_bible("valid", with_refs=True)
    assert refs[0][:3] == ("Ge", 19, 1)  # chapter index 18
    assert datasets.kjv_bible("validation") == valid
    with pytest.raises(ValueError, match="split"):
        datasets.kjv_bible("dev")


def test_encode_lines_adds_eos_per_line():
    v = Vocab.build([tokenize_words("a b a")])
    ids = encode_lines(["A b", "c a"], v)
    assert v.decode(ids) == ["a", "b", "<eos>", "<unk>", "a", "<eos>"]
