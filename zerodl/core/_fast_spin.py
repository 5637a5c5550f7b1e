"""The chunk pool's wait without the GIL (optional: numba; see ``threads.map_chunks``).

A thread that waits for a flag in a compiled loop that has let go of the GIL sees it change
within a microsecond or so, while the Python thread that sets it keeps running; a thread
asleep on a lock takes tens of microseconds to wake on a VM (measured in docs/benchmarks.md),
which an op of a few hundred microseconds shared by two threads cannot afford.
"""
import numba

__all__ = ["wait_while"]


@numba.njit(nogil=True, cache=True)
def wait_while(flags, i, value, scratch, rounds):
    """Spin while ``flags[i] == value``, at most ``rounds`` times; True when it changed.

    The store into ``scratch`` (which the compiler cannot tell apart from ``flags``) keeps the
    load of ``flags[i]`` inside the loop; callers call again after a False, so a stale read
    could only lengthen the wait, never end it early."""
    for k in range(rounds):
        if flags[i] != value:
            return True
        scratch[k & 7] = k
    return flags[i] != value
