"""Last of the suite (pytest runs files in name order): the example tests (tests/test_examples*.py
run every script with a temporary ``--out``) left nothing that git sees under examples/ --
no committed reference figure rewritten, no new file. The state before is taken when this
module is collected, which pytest does before running any test."""
import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _git_status():
    if shutil.which("git") is None:
        return None
    r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
                       cwd=EXAMPLES, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


_BEFORE = _git_status()


def test_examples_leave_the_work_tree_clean():
    if _BEFORE is None:
        pytest.skip("not a git work tree")
    assert _git_status() == _BEFORE
