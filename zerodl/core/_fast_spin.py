"""The chunk pool's wait without the GIL (optional: numba; see ``threads.map_chunks``).

A thread that waits for a flag in a compiled loop that has let go of the GIL sees it change
within a microsecond or so, while the Python thread that sets it keeps running; a thread
asleep on a lock takes tens of microseconds to wake on a VM (measured in docs/benchmarks.md),
which an op of a few hundred microseconds shared by two threads cannot afford.
"""
import numba

__all__ = ["wait_while", "store_and_wait"]


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


@numba.njit(nogil=True, cache=True)
def store_and_wait(flags, j, done, i, value, scratch, rounds):
    """``flags[j] = done``, then ``wait_while(flags, i, value, scratch, rounds)``.

    A worker reports its job done with this store made inside the compiled call, after the
    GIL has been let go: the caller, which spins on ``flags[j]``, then finds the GIL free when
    it goes back to Python. Stored from Python, the flag could be seen while the worker still
    held the GIL, and the caller would sleep on the GIL until the worker let it go, a wake of
    tens of microseconds (docs/benchmarks.md, "the chunk pool's hand-off")."""
    flags[j] = done
    return wait_while(flags, i, value, scratch, rounds)
