"""Every example script in examples/ runs with --quick and writes at least one PNG.

Each script runs in a subprocess from a temporary folder with ZERODL_DATA unset, so the quick
path never needs downloaded data (the scripts fall back to a small stand-in built from the
embedded 8x8 digits), with matplotlib's Agg backend and one BLAS thread, writing into a
temporary ``--out`` (tests/test_zz_clean_worktree.py checks, after every test, that git sees
no change under examples/).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = 180  # a --quick run takes a few seconds; this only catches hangs


def _env():
    env = dict(os.environ)
    env.pop("ZERODL_DATA", None)
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    root = str(EXAMPLES.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_examples_found():
    assert SCRIPTS, f"no example scripts in {EXAMPLES}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_quick(script, tmp_path):
    out = tmp_path / "out"
    run_dir = tmp_path / "cwd"  # no ../shared/data next to it: the quick path must not need it
    run_dir.mkdir()
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        cwd=run_dir, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, (
        f"{script.name} --quick exited with {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    )
    pngs = list(out.rglob("*.png"))
    assert pngs, f"{script.name} --quick wrote no PNG under {out}\n{proc.stdout[-2000:]}"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG file"


def test_hyperparameter_search_without_optuna(tmp_path):
    """The NumPy random-search fallback (what runs where Optuna is not installed)."""
    script = EXAMPLES / "hyperparameter_search.py"
    if not script.exists():
        pytest.skip("no hyperparameter_search.py")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--no-optuna", "--out", str(out)],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "falling back to a plain random search" in proc.stdout
    assert "result: random_best_lr" in proc.stdout
    assert list(out.glob("*.png"))


def test_quick_never_writes_the_reference_figures(tmp_path):
    """--quick into examples/out/ (by --reference or --out) is refused before anything runs."""
    script = EXAMPLES / "forward_pass.py"
    before = sorted(p.name for p in (EXAMPLES / "out").rglob("*"))
    for extra in (["--reference"], ["--out", str(EXAMPLES / "out" / "forward_pass")],
                  ["--out", str(EXAMPLES / "out")]):
        proc = subprocess.run([sys.executable, str(script), "--quick", *extra], cwd=tmp_path, env=_env(),
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "--quick does not write into" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in (EXAMPLES / "out").rglob("*")) == before


def test_default_output_folder_is_runs_examples_under_the_current_folder(tmp_path):
    script = EXAMPLES / "forward_pass.py"
    proc = subprocess.run([sys.executable, str(script), "--quick"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list((tmp_path / "runs" / "examples" / "forward_pass").glob("*.png"))

