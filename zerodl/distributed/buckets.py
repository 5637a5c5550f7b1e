"""Gradient averaging across ranks with one Allreduce per large, contiguous bucket.

Gradients are copied into a few preallocated flat buffers (one per dtype, split when a
buffer would pass ``bucket_bytes``), each buffer is summed over the ranks with a single
in-place ``Allreduce``, and every parameter's gradient becomes its slice of the sum divided
by the total weight. One call per bucket instead of one per parameter keeps the per-message
latency out of the step (a model has tens of small bias vectors).

Layout of one bucket (length ``sum(p.size) + len(params) + 2``)::

    [ w*g_0.ravel() | w*g_1.ravel() | ... | has_0 | has_1 | ... | w | skip ]

``w`` is this rank's weight (its batch size when batches differ, else 1) and ``has_i`` is 1
when parameter i has a gradient on this rank (a missing one contributes zeros). After the
sum, ``grad_i = sum_r(w_r g_i,r) / sum_r(w_r)``: the gradient of the mean loss over all the
ranks' samples. A parameter that no rank has a gradient for keeps ``grad = None``, so
optimizers still skip it. ``skip`` rides along for free: 1 on a rank whose loss was NaN/Inf,
so that every rank learns in the same Allreduce that this step must not update.

One pass over the gradients per step: each is written into its bucket already multiplied by
``w / T``, where ``T`` is the previous step's total weight (the same number on every rank),
so the sum is the mean as it comes out of the Allreduce; only a step whose total differs (the
first one, a short last batch) takes a second pass to rescale. As PyTorch's
``gradient_as_bucket_view``, the averaged gradients are views of the bucket (made once, no
copy): valid until the next reduction, which overwrites them (backward and ``zero_grad``
always make new gradient arrays, so training never notices).
"""
import time

import numpy as np

from ..core.backend import as_numpy, get_array_module
from . import comm

__all__ = ["GradientReducer", "DEFAULT_BUCKET_BYTES"]

DEFAULT_BUCKET_BYTES = 16 * 2**20


class _Bucket:
    def __init__(self, params, dtype):
        self.params = params
        self.dtype = dtype
        sizes = [int(np.prod(p.data.shape)) for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n = int(self.offsets[-1])
        self.flags_at = n
        self.weight_at = n + len(params)
        self.buffer = np.zeros(n + len(params) + 2, dtype=dtype)
        self.grads = self.buffer[:n]
        self.flags = self.buffer[n:n + len(params)]
        # one view per parameter, made once: after the sum, p.grad is its view (no copy)
        self.views = [self.buffer[a:b].reshape(p.data.shape)
                      for p, a, b in zip(params, self.offsets[:-1], self.offsets[1:])]
        self.on_host = [type(p.data) is np.ndarray for p in params]


class GradientReducer:
    """Average the gradients of ``params`` over every rank (see the module docstring).

    ``params``: the parameters (Tensors) in the same order on every rank. ``bucket_bytes``:
    the largest bucket (a parameter larger than that gets a bucket of its own).
    ``comm_seconds`` accumulates the time spent packing, reducing and unpacking;
    ``timings`` splits it into ``pack`` (gradients into the buckets), ``allreduce`` (the
    Allreduce calls, waiting for the slower rank included) and ``unpack``.
    """

    def __init__(self, params, bucket_bytes=DEFAULT_BUCKET_BYTES):
        self.params = list(params)
        self.bucket_bytes = int(bucket_bytes)
        self.buckets = None
        self.comm_seconds = 0.0
        self.timings = {"pack": 0.0, "allreduce": 0.0, "unpack": 0.0}
        self.calls = 0
        # The previous step's summed weight, the same number on every rank: gradients are
        # packed pre-divided by it, so that when this step's sum equals it (every step but a
        # short last batch) no second pass over the buckets is needed.
        self._expected_total = None

    def _build(self):
        shapes = [[list(p.data.shape), str(p.data.dtype)] for p in self.params]
        every = comm.allgather_object(shapes)
        for r, theirs in enumerate(every):
            if theirs != shapes:
                raise RuntimeError(
                    f"zerodl.distributed: rank {comm.rank()} and rank {r} hold different parameters "
                    f"({len(shapes)} vs {len(theirs)}; first shapes {shapes[:3]} vs {theirs[:3]}); every rank "
                    "must build the same model, and broadcast_parameters must run after lazy layers are built")
        by_dtype = {}
        for p in self.params:
            by_dtype.setdefault(np.dtype(p.data.dtype), []).append(p)
        buckets = []
        for dtype, ps in by_dtype.items():
            group, size = [], 0
            for p in ps:
                nbytes = int(np.prod(p.data.shape)) * dtype.itemsize
                if group and size + nbytes > self.bucket_bytes:
                    buckets.append(_Bucket(group, dtype))
                    group, size = [], 0
                group.append(p)
                size += nbytes
            if group:
                buckets.append(_Bucket(group, dtype))
        self.buckets = buckets

    def reduce(self, weight=1.0, skip=False):
        """Replace every ``p.grad`` by the weighted mean over the ranks (in a world of one,
        nothing happens). ``weight``: this rank's share, e.g. its number of samples. Returns
        whether ``skip`` was true on any rank."""
        if comm.world_size() == 1:
            return bool(skip)
        t0 = time.perf_counter()
        if self.buckets is None:
            self._build()
        w = float(weight)
        expected = self._expected_total
        scale = w if expected is None else w / expected
        for b in self.buckets:
            buf, off = b.buffer, b.offsets
            for i, p in enumerate(b.params):
                g = p.grad
                if g is None:
                    buf[off[i]:off[i + 1]] = 0
                    b.flags[i] = 0
                else:
                    np.multiply(as_numpy(g).reshape(-1), scale, out=buf[off[i]:off[i + 1]], casting="unsafe")
                    b.flags[i] = 1
            buf[b.weight_at] = w
            buf[-1] = 1 if skip else 0
        t1 = time.perf_counter()
        for b in self.buckets:
            comm.allreduce_(b.buffer)
        t2 = time.perf_counter()
        skipped = False
        for b in self.buckets:
            buf = b.buffer
            total = float(buf[b.weight_at])
            skipped = skipped or buf[-1] > 0
            if total != 0 and total != expected:
                b.grads *= (1.0 if expected is None else expected) / total
            for i, p in enumerate(b.params):
                if b.flags[i] == 0 or total == 0:
                    p.grad = None
                else:
                    p.grad = b.views[i] if b.on_host[i] else get_array_module(p.data).asarray(b.views[i])
            if total != 0:
                self._expected_total = total
        t3 = time.perf_counter()
        tm = self.timings
        tm["pack"] += t1 - t0
        tm["allreduce"] += t2 - t1
        tm["unpack"] += t3 - t2
        self.comm_seconds += t3 - t0
        self.calls += 1
        return skipped
