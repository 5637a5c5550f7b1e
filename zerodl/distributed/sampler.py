"""Sharding a data set by rank: ``DistributedSampler`` (indices) and ``DistributedLoader``
(batches), with a seeded shuffle that changes every epoch.

Layout. Every epoch draws one permutation of the ``n`` samples, the same on every rank
(``numpy.random.default_rng([seed, epoch])``; no shuffle: ``0..n-1``). The permutation is cut
into global batches of ``world_size * batch_size`` samples and each global batch into
``world_size`` contiguous pieces, piece ``r`` going to rank ``r``. So rank r's batch k and the
other ranks' batch k together are exactly the k-th batch that one process with batch
``world_size * batch_size`` would take from the same permutation, and each sample is visited
exactly once per epoch. A short last global batch is split as evenly as the ranks allow
(pieces differ by at most one sample); when it holds fewer samples than there are ranks it
borrows from the one before (with ``batch_size=1``: is merged into it, a few ranks taking two
samples), so that every rank has a non-empty batch at every step and all ranks run the same
number of steps (none waits in an Allreduce for a step that never comes).
``drop_last=True`` drops the short last global batch instead.

With pieces of unequal size, averaging the gradients weighted by each rank's batch size
(``DistributedOptimizer.step(weight=n)``) gives the gradient of the mean loss of the global
batch, as ``fit(distributed=True)`` does.
"""
import numpy as np

from ..data import TensorDataset
from ..data.dataset import _as_array, _collate
from . import comm

__all__ = ["DistributedSampler", "DistributedLoader", "shard_layout"]


def _check_int(v, name, where, low):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{where}: {name} must be an int >= {low}, got {v!r}")
    return int(v)


def shard_layout(n, world, batch_size, drop_last=False):
    """The global batches as ``[(start, piece sizes per rank), ...]`` over a permutation of n.

    >>> shard_layout(10, 2, 2)
    [(0, [2, 2]), (4, [2, 2]), (8, [1, 1])]
    """
    g = world * batch_size
    sizes = [g] * (n // g)
    m = n - len(sizes) * g
    if m and not drop_last:
        if m >= world:
            sizes.append(m)
        elif sizes and batch_size > 1:
            sizes[-1] -= world - m
            sizes.append(world)
        elif sizes:  # one sample per rank per step: m ranks take two in the last step
            sizes[-1] += m
        else:
            raise ValueError(f"DistributedSampler: {n} samples cannot give each of {world} ranks at least one")
    out, start = [], 0
    for s in sizes:
        base, extra = divmod(s, world)
        out.append((start, [base + (r < extra) for r in range(world)]))
        start += s
    return out


class DistributedSampler:
    """This rank's share of ``range(len(dataset))`` for the current epoch (see the module docstring).

    Parameters
    ----------
    dataset : anything with ``__len__``
    shuffle : bool
        A new permutation every epoch, from ``seed`` and the epoch number (call
        :meth:`set_epoch` at the start of each epoch, as with PyTorch's sampler).
    seed : int
        The same on every rank.
    batch_size : int or None
        Samples per rank per step. None: one piece per rank (``ceil(n / world_size)``).
    drop_last : bool
        Drop the short last global batch.
    num_replicas, rank : int or None
        The world size and this rank (default: from ``COMM_WORLD``).

    ``iter(sampler)`` yields this rank's indices (its batches one after the other),
    ``len(sampler)`` counts them, ``batches()`` returns them as one index array per step.
    """

    def __init__(self, dataset, shuffle=True, seed=0, batch_size=None, drop_last=False, num_replicas=None,
                 rank=None):
        where = "DistributedSampler"
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"{where}: dataset must have __len__, got {type(dataset).__name__}")
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = _check_int(seed, "seed", where, 0)
        self.num_replicas = comm.world_size() if num_replicas is None else _check_int(num_replicas,
                                                                                      "num_replicas", where, 1)
        self.rank = comm.rank() if rank is None else _check_int(rank, "rank", where, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"{where}: rank {self.rank} is not below num_replicas {self.num_replicas}")
        n = len(dataset)
        if batch_size is None:
            batch_size = max(1, -(-n // self.num_replicas))
        self.batch_size = _check_int(batch_size, "batch_size", where, 1)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._layout = shard_layout(n, self.num_replicas, self.batch_size, self.drop_last)

    def set_epoch(self, epoch):
        """Choose the epoch whose permutation the next iteration uses."""
        self.epoch = _check_int(epoch, "epoch", "DistributedSampler.set_epoch", 0)

    def order(self):
        """The permutation of the current epoch (the same on every rank)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def batches(self):
        """This rank's index arrays for the current epoch, one per step."""
        order, r = self.order(), self.rank
        out = []
        for start, pieces in self._layout:
            lo = start + sum(pieces[:r])
            out.append(order[lo:lo + pieces[r]])
        return out

    def __len__(self):
        return sum(pieces[self.rank] for _, pieces in self._layout)

    def __iter__(self):
        for idx in self.batches():
            yield from (int(i) for i in idx)

    def __repr__(self):
        return (f"DistributedSampler(n={len(self.dataset)}, rank={self.rank}/{self.num_replicas}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch})")


class DistributedLoader:
    """Mini-batches of this rank's shard: a ``DataLoader`` for data-parallel training.

    ``DistributedLoader(dataset, batch_size, shuffle=True, seed=0, drop_last=False)``: each
    ``iter`` is one epoch (the sampler's epoch is advanced automatically) and yields tuples of
    arrays of shape ``(b, ...)``, ``b <= batch_size``. Every rank gets ``len(loader)``
    batches. ``state_dict()`` / ``load_state_dict()`` hold the epoch and the position inside
    it (the order is a function of the seed and the epoch), so ``BackupAndRestore`` resumes
    a distributed run on the same batches.
    """

    def __init__(self, dataset, batch_size=1, shuffle=True, seed=0, drop_last=False, num_replicas=None, rank=None):
        if isinstance(dataset, np.ndarray):
            dataset = TensorDataset(dataset)
        self.dataset = dataset
        self.sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, batch_size=batch_size,
                                          drop_last=drop_last, num_replicas=num_replicas, rank=rank)
        self.batch_size = self.sampler.batch_size
        self.shuffle = self.sampler.shuffle
        self.drop_last = self.sampler.drop_last
        self._epoch = 0  # epochs started
        self._position = 0
        self._running = False
        self._resume_batch = 0

    def __len__(self):
        return len(self.sampler._layout)

    @property
    def epoch(self):
        return self._epoch

    def __iter__(self):
        self.sampler.set_epoch(self._epoch)
        self._epoch += 1
        start, self._resume_batch = self._resume_batch, 0
        self._position, self._running = start, True
        return self._batches(self.sampler.batches(), start, self._epoch)

    def _batches(self, index_arrays, start, epoch):
        ds = self.dataset
        get_batch = getattr(ds, "get_batch", None)
        try:
            for b in range(start, len(index_arrays)):
                idx = index_arrays[b]
                if get_batch is not None:
                    batch = tuple(_as_array(a) for a in get_batch(idx))
                else:
                    batch = _collate([ds[int(i)] for i in idx], "DistributedLoader")
                if self._epoch == epoch:
                    self._position = b + 1
                yield batch
        finally:
            if self._epoch == epoch:
                self._running = False

    def state_dict(self):
        """``{"epoch", "batch", ...}``: the epoch to run next and the batches of it already done."""
        in_epoch = self._running and self._position < len(self)
        epoch, batch = (self._epoch - 1, self._position) if in_epoch else (self._epoch, self._resume_batch)
        s = self.sampler
        return {"epoch": int(epoch), "batch": int(batch), "seed": s.seed, "shuffle": s.shuffle,
                "batch_size": s.batch_size, "drop_last": s.drop_last, "num_samples": int(len(self.dataset)),
                "world_size": s.num_replicas}

    def load_state_dict(self, state):
        s = self.sampler
        if "world_size" in state and int(state["world_size"]) != s.num_replicas:
            raise ValueError(f"DistributedLoader.load_state_dict: the state was saved by {state['world_size']} "
                             f"ranks, this job has {s.num_replicas}; resume it with mpiexec -n {state['world_size']}")
        for key, mine in (("batch_size", s.batch_size), ("num_samples", len(self.dataset)), ("seed", s.seed)):
            if key in state and int(state[key]) != mine:
                raise ValueError(f"DistributedLoader.load_state_dict: the state was saved with {key}={state[key]} "
                                 f"but this loader has {key}={mine}; the data order would not match")
        self._epoch = int(state["epoch"])
        self._resume_batch = int(state.get("batch", 0))
        self._running, self._position = False, 0

    def __repr__(self):
        return f"DistributedLoader({self.sampler!r}, batches={len(self)})"
