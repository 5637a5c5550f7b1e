"""Process-wide settings applied once, when zerodl is imported (before anything else in it).

glibc malloc: keep freed arrays for reuse
-----------------------------------------
By default glibc hands every freed block above its mmap threshold (128 KiB, rising to at
most 32 MiB) straight back to the OS, so the next array of that size is fresh memory that
the kernel zeroes page by page on first touch. A training step allocates and frees the same
arrays every step, so it pays those page faults every step, a large share of the
convolutional benchmarks' time (measured in docs/benchmarks.md, "Same environment for every
framework"). ``tune_malloc`` raises
the mmap threshold to 1 GiB and the trim threshold to 2 GiB, so freed arrays stay in the
heap and are reused. The price: the process's resident memory stays at its high-water mark
instead of shrinking after a peak (freed memory is still reused by the next arrays).

Set ``ZERODL_MALLOC_TUNE=0`` in the environment to leave glibc's defaults alone; elsewhere
(not Linux/glibc) nothing is done. The same effect without zerodl: start the process with
``MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=2147483647``.

OpenBLAS: idle worker threads sleep at once
-------------------------------------------
After each multithreaded call OpenBLAS's worker threads spin (busy-wait, yielding) for 2**28
cycles, about 0.1 s, before they sleep. zerodl's chunk pool (``core.threads.map_chunks``) runs
its own threads between GEMMs, and those spinning threads take their cores: DeepConvNet's step
at two threads took 66 ms with the default and 53 ms with ``OPENBLAS_THREAD_TIMEOUT=4`` (2**4
cycles), against 67 ms at one thread (docs/benchmarks.md, "Two threads"). So zerodl sets
``OPENBLAS_THREAD_TIMEOUT=4`` unless the environment already sets it. OpenBLAS reads it when it
loads, so it takes effect only when zerodl is imported before NumPy; otherwise set it when the
process starts.

This module must not import NumPy (nor anything that does).
"""
import os
import sys

MMAP_THRESHOLD = 1 << 30  # bytes; blocks above it are mmapped (and unmapped when freed)
TRIM_THRESHOLD = 2**31 - 1  # bytes of free heap top kept before giving memory back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers

malloc_tuned = False  # whether tune_malloc() changed the settings in this process


def malloc_tune_wanted(environ=os.environ):
    """False when the user opted out with ``ZERODL_MALLOC_TUNE=0`` (or off/false/no)."""
    return environ.get("ZERODL_MALLOC_TUNE", "1").strip().lower() not in ("0", "off", "false", "no")


def tune_malloc():
    """Raise glibc's mmap and trim thresholds (see the module docstring). Returns whether it did."""
    global malloc_tuned
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt to speak of)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    malloc_tuned = malloc_tuned or ok
    return ok


if malloc_tune_wanted():
    tune_malloc()
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
