"""Optional compiled kernels (Numba, ``pip install zerodl[fast]``), imported lazily, once.

``fast_module("functions._fast_winograd")`` is that module of zerodl when numba is installed
and the environment variable ``ZERODL_NUMBA`` is not ``0``, else None: the NumPy code (or,
for the chunk pool, the plain thread pool) then does the same work.
"""
import importlib
import os

__all__ = ["fast_module"]

_fast_modules = {}


def fast_module(path):
    """The kernel module ``zerodl.<path>``, or None without numba or with ``ZERODL_NUMBA=0``."""
    if path not in _fast_modules:
        module = None
        if os.environ.get("ZERODL_NUMBA", "1") != "0":
            try:
                module = importlib.import_module(f"{__package__.partition('.')[0]}.{path}")
            except ImportError:
                module = None
        _fast_modules[path] = module
    return _fast_modules[path]
