"""Keeping the ranks' copies of a model in agreement: parameters broadcast from one rank,
buffers (BatchNorm's running statistics) and metrics averaged.

BatchNorm. During training each rank normalises with the statistics of its own batch
(local, as PyTorch's DistributedDataParallel without SyncBatchNorm): with B samples per rank
that is BatchNorm with batch B, not N*B. The running mean and variance, which each rank
updates from its own batches, are averaged over the ranks by :func:`average_buffers` (``fit``
does it at every epoch end), so evaluation and the saved model use one set of statistics.
"""
import numpy as np

from ..core.backend import as_numpy, get_array_module
from . import comm

__all__ = ["broadcast_parameters", "average_buffers", "average_metrics"]


def _arrays(model, buffers=True):
    items = [p.data for p in model.parameters()]
    if buffers:
        items += [b for b in model.buffers() if b is not None]
    return items


def broadcast_parameters(model, root=0):
    """Copy ``root``'s parameters and buffers into every rank's ``model``, in place.

    Call it once after the model is built (lazy layers create their parameters at the first
    call) and before training, so that every rank starts from the same weights. Returns the
    model. ``model`` may also be a list of parameters (Tensors) or of arrays.
    """
    if comm.world_size() == 1:
        return model
    if hasattr(model, "parameters"):
        arrays = _arrays(model)
    else:
        arrays = [getattr(p, "data", p) for p in model]
    shapes = [list(a.shape) for a in arrays]
    if comm.broadcast_object(shapes, root=root) != shapes:
        raise RuntimeError(f"broadcast_parameters: rank {comm.rank()} holds different parameter shapes than "
                           f"rank {root}; build the same model on every rank (and call it once on a batch "
                           "first if it has lazy layers)")
    for a in arrays:
        comm.broadcast_(a, root=root)
    return model


def average_buffers(model):
    """Replace every floating buffer of ``model`` (running statistics) by its mean over the ranks."""
    n = comm.world_size()
    if n == 1:
        return model
    for b in model.buffers():
        if b is None or np.dtype(b.dtype).kind != "f":
            continue
        host = np.ascontiguousarray(as_numpy(b))
        comm.allreduce_(host)
        host /= n
        b[...] = host if get_array_module(b) is np else get_array_module(b).asarray(host)
    return model


def average_metrics(logs, weight=1.0):
    """``{name: mean over the ranks}`` of a dict of numbers, each rank weighted by ``weight``
    (e.g. the samples its values were averaged over). Every rank must pass the same keys."""
    keys = sorted(logs)
    if comm.world_size() == 1:
        return dict(logs)
    names = comm.allgather_object(keys)
    if any(k != keys for k in names):
        raise RuntimeError(f"average_metrics: the ranks logged different names: {names}")
    w = float(weight)
    buf = np.array([float(logs[k]) * w for k in keys] + [w], dtype=np.float64)
    comm.allreduce_(buf)
    total = buf[-1]
    mean = {k: float(buf[i] / total) if total else float("nan") for i, k in enumerate(keys)}
    return {k: mean[k] for k in logs}  # the caller's order
