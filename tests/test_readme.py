"""The README's Python examples run as written (so the README stays true)."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
BLOCKS = re.findall(r"```python\n(.*?)```", open(README, encoding="utf-8").read(), re.S)


def test_readme_has_the_two_setup_commands():
    text = open(README, encoding="utf-8").read()
    assert "pip install . && zerodl train" in text
    assert 'pip install -e ".[test]" && python -m pytest -q' in text
    ci = open(os.path.join(os.path.dirname(README), ".ci", "run"), encoding="utf-8").read()
    assert 'pip install --quiet -e ".[test]"' in ci and "python -m pytest -q" in ci


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
