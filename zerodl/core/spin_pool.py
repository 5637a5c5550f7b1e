"""The chunk pool's workers when Numba is installed: they wait for the next job spinning
without the GIL for a short while (``SPIN_ROUNDS``) before they sleep, and the caller waits
for them the same way, so that an op shared by two threads does not also pay for a sleeping
thread to wake (OpenMP runtimes spin likewise). What is left of a hand-off is the GIL: a worker
that sees a job must take the GIL from the caller, which lets go of it in its first NumPy call
or kernel, and waking a thread that waits for the GIL took some 25-30 µs on the VMs measured
(docs/benchmarks.md, "Issue 15 on an Intel host"). A finished job is reported from inside the
compiled wait (``_fast_spin.store_and_wait``), so the caller never waits for the GIL there.

``SpinPool(size, kernels).run(work, active)`` runs ``work()`` in the calling thread and in
``active`` of the ``size`` workers and returns when they are all done, raising a worker's
exception. One caller at a time (``try_acquire`` / ``release``); ``threads.map_chunks`` is
the only user.
"""
import threading

import numpy as np

__all__ = ["SpinPool", "SPIN_ROUNDS"]

# A worker's spin before it sleeps, in rounds of ``_fast_spin.wait_while`` (well under 1 ns
# each): long enough to span the gap between two ops of a training step, short enough not to
# keep a core from BLAS's own threads for long (docs/benchmarks.md, "Issue 15, the morning
# session": a three times longer spin slowed the GEMM after a pool op).
SPIN_ROUNDS = 100_000
_WAIT_ROUNDS = 100_000  # the caller's rounds between looks at signals (Ctrl-C)


class SpinPool:
    """``size`` daemon worker threads named ``name-<w>``; ``run`` hands them a job (see the
    module docstring), ``close`` lets them end."""

    def __init__(self, size, kernels, name="zerodl-chunks"):
        self.size, self.kernels = size, kernels
        # flags[0]: the number of the job posted; flags[1 + w]: the last job worker w finished
        self.flags = np.zeros(1 + size, dtype=np.int64)
        self.scratch = np.zeros(8, dtype=np.int64)
        self.job, self.active, self.errors = None, 0, [None] * size
        self.cond = threading.Condition()
        self.sleepers, self.closing = 0, False
        self._caller = threading.Lock()
        # compiled (or loaded from Numba's cache) here, before the workers start: a worker
        # compiling on its first wait would leave the first jobs to the caller alone
        kernels.store_and_wait(np.zeros(2, dtype=np.int64), 1, 0, 0, 1, self.scratch, 0)
        self.threads = [threading.Thread(target=self._loop, args=(w,), name=f"{name}-{w}", daemon=True)
                        for w in range(size)]
        for t in self.threads:
            t.start()

    def try_acquire(self):
        return self._caller.acquire(blocking=False)

    def release(self):
        self._caller.release()

    def _loop(self, w):
        flags, scratch, seen = self.flags, np.zeros(8, dtype=np.int64), 0
        store_and_wait = self.kernels.store_and_wait
        while True:
            # reports job ``seen`` done (again, harmlessly, after a wake with no new job) from
            # inside the compiled wait, the GIL let go (see store_and_wait), then waits for the next
            if not store_and_wait(flags, 1 + w, seen, 0, seen, scratch, SPIN_ROUNDS):
                with self.cond:
                    self.sleepers += 1
                    while flags[0] == seen and not self.closing:
                        self.cond.wait()
                    self.sleepers -= 1
            if self.closing:
                return
            job = int(flags[0])
            if job == seen:
                continue
            seen = job
            if w < self.active:
                try:
                    self.job()
                except BaseException as e:  # handed to the caller, which raises it
                    self.errors[w] = e

    def run(self, work, active):
        """``work()`` here and in workers 0 .. active - 1; returns when every worker is done."""
        self.job, self.active, self.errors = work, active, [None] * self.size
        job = int(self.flags[0]) + 1
        self.flags[0] = job
        if self.sleepers:
            with self.cond:
                self.cond.notify_all()
        try:
            work()
        finally:
            for w in range(self.size):
                while self.flags[1 + w] != job:
                    self.kernels.wait_while(self.flags, 1 + w, job - 1, self.scratch, _WAIT_ROUNDS)
        for e in self.errors:
            if e is not None:
                raise e

    def close(self):
        """Let the workers end (after the job they are on)."""
        with self.cond:
            self.closing = True
            self.flags[0] += 1
            self.cond.notify_all()
