"""The text examples (rnnlm.py, word2vec.py) with --quick: what they write, and the PTB path."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import zerodl as zd
from zerodl.data.text import Vocab
from zerodl.text import RNNLM
from zerodl.text.vectors import load_vectors

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script, tmp_path, *extra):
    env = dict(os.environ)
    env.pop("ZERODL_DATA", None)
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    root = str(EXAMPLES.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out), *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    return proc, out


def _results(stdout):
    return {line.split(" = ")[0][len("result: "):]: line.split(" = ")[1]
            for line in stdout.splitlines() if line.startswith("result: ")}


def test_rnnlm_quick_writes_weights_vocab_and_figure(tmp_path):
    proc, out = _run("rnnlm.py", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = _results(proc.stdout)
    assert 1 < float(res["test_perplexity"]) < 3372  # better than uniform over the vocabulary
    assert "sample 1" in proc.stdout and (out / "perplexity.png").read_bytes()[:4] == b"\x89PNG"
    vocab = Vocab.load(out / "rnnlm.vocab.json")
    state = zd.load(out / "rnnlm.safetensors")
    m = RNNLM(len(vocab), 32, 32, num_layers=1)
    m.load_state_dict(state)  # the saved weights fit the model the options describe
    assert vocab.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]


def test_rnnlm_quick_char_gru(tmp_path):
    proc, out = _run("rnnlm.py", tmp_path, "--level", "char", "--cell", "gru")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "GRU" in proc.stdout and "character" not in proc.stderr
    vocab = Vocab.load(out / "rnnlm.vocab.json")
    assert "e" in vocab and " " in vocab and len(vocab) < 100


def test_rnnlm_reads_ptb_from_data_dir(tmp_path):
    ptb = tmp_path / "ptb"
    ptb.mkdir()
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    for split, n in (("train", 400), ("valid", 60), ("test", 60)):
        lines = [" ".join(rng.choice(words, 12)) for _ in range(n)]
        (ptb / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc, out = _run("rnnlm.py", tmp_path, "--data-dir", str(ptb))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Penn Treebank" in proc.stdout
    assert len(Vocab.load(out / "rnnlm.vocab.json")) == 30 + 4
    empty = tmp_path / "empty"
    empty.mkdir()
    proc, _ = _run("rnnlm.py", tmp_path, "--data-dir", str(empty))
    assert proc.returncode != 0 and "no ptb.train.txt" in proc.stderr and "Traceback" not in proc.stderr


def test_word2vec_quick_saves_vectors_and_scores_analogies(tmp_path):
    proc, out = _run("word2vec.py", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = _results(proc.stdout)
    assert int(res["analogy_questions"]) > 50
    assert 0.0 <= float(res["analogy_accuracy"]) <= 1.0
    assert "lord     ->" in proc.stdout
    W, vocab = load_vectors(out / "vectors.safetensors")
    assert W.shape == (len(vocab), 16)
    assert (out / "projection.png").read_bytes()[:4] == b"\x89PNG"
    proc, _ = _run("word2vec.py", tmp_path, "--model", "cbow")
    assert proc.returncode == 0, proc.stderr[-3000:]
