"""The seq2seq examples' --quick runs (in process): every figure of merit is printed, the
figures are PNGs, and the training loss goes down from the first epoch to the last."""
import re
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = {
    "seq2seq_addition": (["--models", "peeky,attention"],
                         ["peeky_exact_match_last_epoch", "peeky_exact_match_beam5",
                          "attention_exact_match_best"], ["accuracy.png"]),
    "attention_dates": ([], ["dates_attention_exact_match", "dates_attention_exact_match_beam3"],
                        ["accuracy.png", "attention_map.png"]),
    "transformer_dates": ([], ["dates_transformer_exact_match", "parameters"],
                          ["accuracy.png", "cross_attention.png"]),
}


@pytest.fixture(autouse=True)
def _examples_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_quick(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    argv, results, figures = CASES[name]
    module = __import__(name)
    try:
        module.main(["--quick", "--out", str(tmp_path), *argv])
    finally:
        sys.modules.pop(name, None)
    out = capsys.readouterr().out
    for r in results:
        m = re.search(rf"^result: {r} = ([0-9.]+)$", out, re.M)
        assert m, f"{name}: no 'result: {r}' line in\n{out[-2000:]}"
    for f in figures:
        assert (tmp_path / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for label in set(re.findall(r"^  (\w+) epoch", out, re.M)) or {"?"}:
        losses = [float(v) for v in re.findall(rf"^  {label} epoch +\d+: loss ([0-9.]+)", out, re.M)]
        assert len(losses) >= 2 and losses[-1] < losses[0], f"{name}: {label} losses {losses}"
