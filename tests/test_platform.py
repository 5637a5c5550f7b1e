"""zerodl/_platform.py: the glibc malloc tuning applied at import (ZERODL_MALLOC_TUNE)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zerodl import _platform

ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc only",
)


def _python(code, **env):
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for k, v in env.items():
        if v is None:
            full.pop(k)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("value, wanted", [(None, True), ("1", True), ("0", False),
                                           ("off", False), (" False ", False), ("no", False)])
def test_opt_out_parsing(value, wanted):
    environ = {} if value is None else {"ZERODL_MALLOC_TUNE": value}
    assert _platform.malloc_tune_wanted(environ) is wanted


def test_platform_module_does_not_import_numpy():
    # it runs first in zerodl/__init__.py and must stay cheap and NumPy-free
    code = """
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("p", "zerodl/_platform.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        print("numpy" in sys.modules)
    """
    assert _python(code) == "False"


# Allocate, free and allocate again an 8 MiB array: with the tuning the second one reuses the
# heap (no page faults); with glibc's defaults it is fresh memory, faulted in page by page.
_FAULTS = """
    import resource
    import zerodl, zerodl._platform as p
    import numpy as np
    a = np.ones(2 << 20, np.float32); del a
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        a = np.ones(2 << 20, np.float32); del a
    print(p.malloc_tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


@glibc_only
def test_import_tunes_malloc_so_freed_arrays_are_reused():
    tuned, faults = _python(_FAULTS, ZERODL_MALLOC_TUNE=None, MALLOC_MMAP_THRESHOLD_=None).split()
    assert tuned == "True"
    assert int(faults) < 50  # 5 x 8 MiB fresh would be thousands of 4 KiB pages (or 20+ huge pages)


@glibc_only
def test_opt_out_leaves_glibc_defaults():
    tuned, faults = _python(_FAULTS, ZERODL_MALLOC_TUNE="0", MALLOC_MMAP_THRESHOLD_=None,
                            MALLOC_TRIM_THRESHOLD_=None).split()
    assert tuned == "False"
    assert int(faults) >= 10
