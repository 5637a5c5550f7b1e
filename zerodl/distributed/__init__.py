"""Data-parallel training over MPI (mpi4py's ``COMM_WORLD``), as ChainerMN and Horovod do it.

Every rank holds the whole model and trains on its own shard of each batch; gradients are
averaged with an Allreduce before every update, so all ranks keep the same weights. Launch
with ``mpiexec -n N python script.py`` (or ``mpiexec -n N zerodl train --distributed``)::

    import zerodl.distributed as dist
    dist.init()
    model(x[:1])                                   # build lazy layers first
    dist.broadcast_parameters(model, root=0)       # the same start on every rank
    opt = dist.DistributedOptimizer(optim.Adam(model.parameters()))
    loader = dist.DistributedLoader(TensorDataset(x, t), batch_size=50, seed=0)
    for epoch in range(epochs):
        for xb, tb in loader:                      # this rank's piece of each global batch
            loss = F.softmax_cross_entropy(model(zd.tensor(xb)), tb)
            opt.zero_grad(); loss.backward()
            opt.step(weight=len(xb))               # average, then update
    if dist.rank() == 0:
        model.save("model.safetensors")            # rank 0 writes

mpi4py is imported at the first call that needs it (``pip install "zerodl[mpi]"``); without
it and without a launcher everything runs as a world of one. An uncaught exception on any
rank aborts the whole job with that rank's traceback (:mod:`.failure`). See
docs/distributed.md.
"""
from .buckets import GradientReducer
from .comm import (abort, allgather_object, allreduce_, barrier, broadcast_, broadcast_object, init,
                   is_initialized, is_main_process, launched_by_mpi, rank, world_size)
from .optimizer import DistributedOptimizer
from .sampler import DistributedLoader, DistributedSampler, shard_layout
from .state import average_buffers, average_metrics, broadcast_parameters
from .strategy import DataParallel, resolve

__all__ = [
    "init", "rank", "world_size", "is_initialized", "is_main_process", "launched_by_mpi", "barrier", "abort",
    "allreduce_", "broadcast_", "broadcast_object", "allgather_object",
    "broadcast_parameters", "average_buffers", "average_metrics",
    "DistributedOptimizer", "GradientReducer", "DistributedSampler", "DistributedLoader", "shard_layout",
    "DataParallel", "resolve",
]
