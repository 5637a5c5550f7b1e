"""``DataParallel``: what ``fit(..., distributed=...)`` asks of the distributed run.

``fit`` stays one loop; with a strategy it asks it for five things and otherwise runs as
usual:

- ``loader(loader)``: this rank's shard of the training loader (a :class:`DistributedLoader`
  with the same data set, batch size, shuffle and drop_last; the seed is rank 0's, so every
  rank draws the same permutation);
- ``optimizer(model, optimizer)``: rank 0's weights broadcast to every rank, and the
  optimizer wrapped in a :class:`DistributedOptimizer`;
- ``step(optimizer, n, skip)``: average the gradients (weighted by the batch size ``n``), then
  update; a NaN/Inf loss on any rank (``skip``) travels in the same Allreduce, so every rank
  skips that update and raises ``TrainingDiverged`` at the same step;
- ``epoch_logs(model, logs, seen)``: the epoch's training logs averaged over the ranks
  (weighted by the samples each saw) and BatchNorm's running statistics averaged
  (:func:`average_buffers`; normalisation during training uses each rank's own batch);
- ``is_writer``: whether this rank prints progress and writes files (rank 0 only);
- ``any_rank(flag)``: ``stop_training`` agreed over the ranks (after each batch when callbacks
  have batch hooks, and after each epoch), so that all ranks stop at the same step.

Validation runs on every rank over the whole validation data (the weights and buffers are
the same everywhere, so every rank gets the same numbers and takes the same decisions in
EarlyStopping or ReduceLROnPlateau).
"""
import numpy as np

from . import comm
from .buckets import DEFAULT_BUCKET_BYTES
from .optimizer import DistributedOptimizer
from .sampler import DistributedLoader
from .state import average_buffers, average_metrics, broadcast_parameters

__all__ = ["DataParallel", "resolve"]


class DataParallel:
    """Data-parallel training over ``COMM_WORLD`` (see the module docstring)."""

    def __init__(self, bucket_bytes=DEFAULT_BUCKET_BYTES):
        self.rank, self.world_size = comm.init()
        self.bucket_bytes = bucket_bytes

    @property
    def is_writer(self):
        return self.rank == 0

    def loader(self, loader):
        seed = getattr(loader, "seed", None)
        if not isinstance(seed, (int, np.integer)):  # an unseeded loader: a fresh seed, rank 0's for all
            seed = np.random.default_rng().integers(0, 2**62)
        seed = comm.broadcast_object(int(seed) % 2**63)
        return DistributedLoader(loader.dataset, batch_size=loader.batch_size, shuffle=loader.shuffle, seed=seed,
                                 drop_last=getattr(loader, "drop_last", False))

    def optimizer(self, model, optimizer):
        broadcast_parameters(model)
        if isinstance(optimizer, DistributedOptimizer):
            return optimizer
        return DistributedOptimizer(optimizer, bucket_bytes=self.bucket_bytes)

    @staticmethod
    def step(optimizer, n, skip=False):
        """Average the gradients (weighted by the batch size ``n``) and update. ``skip``: this
        rank's loss was NaN/Inf; returns True, and no rank updates, when any rank skipped."""
        optimizer.step(weight=n, skip=skip)
        return optimizer.skipped

    @staticmethod
    def any_rank(flag):
        """True on every rank when ``flag`` is true on any (``stop_training`` set by a callback
        on one rank stops them all at the same step)."""
        buf = np.array([1.0 if flag else 0.0])
        comm.allreduce_(buf)
        return bool(buf[0] > 0)

    @staticmethod
    def epoch_logs(model, logs, seen):
        average_buffers(model)
        return average_metrics(logs, weight=seen)

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, world_size={self.world_size})"


def resolve(distributed):
    """The strategy for ``fit(distributed=...)``: None (the default) means data-parallel when an
    MPI launcher started more than one process, True always, False never; a
    :class:`DataParallel` is used as given."""
    if isinstance(distributed, DataParallel):
        return distributed
    if distributed is None:
        return DataParallel() if comm.launched_by_mpi() and comm.world_size() > 1 else None
    if distributed is True:
        return DataParallel()
    if distributed is False:
        return None
    raise TypeError(f"fit: distributed must be None, True, False or a zerodl.distributed.DataParallel, "
                    f"got {distributed!r}")
