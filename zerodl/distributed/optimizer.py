"""``DistributedOptimizer``: any zerodl optimizer, with gradients averaged over the ranks
before each update.

Every rank computes gradients on its own shard of the batch; ``step()`` averages them (one
Allreduce per bucket, :mod:`zerodl.distributed.buckets`) and then runs the wrapped
optimizer's own ``step``. Since every rank starts from the same weights
(:func:`zerodl.distributed.broadcast_parameters`) and applies the same averaged gradient,
the weights stay identical everywhere, and N ranks with batch B follow the same path as
one process with batch N*B.
"""
from ..core import enable_grad
from .buckets import DEFAULT_BUCKET_BYTES, GradientReducer

__all__ = ["DistributedOptimizer"]


class DistributedOptimizer:
    """Wrap ``optimizer`` (any zerodl.optim optimizer, parameter groups included).

    ``step(closure=None, weight=None)``: optional closure (re-computes the loss, as PyTorch),
    then the gradients are averaged over the ranks, weighted by ``weight`` (this rank's batch
    size when the ranks' batches can differ; None weighs the ranks equally), then the wrapped
    optimizer steps. Everything else (``zero_grad``, ``param_groups``, ``state``, ``lr``,
    ``state_dict``, ``load_state_dict``, ``add_param_group``) is the wrapped optimizer's, so
    a checkpoint of a distributed run loads into a plain optimizer. ``comm_seconds``: the time
    spent averaging so far.
    """

    def __init__(self, optimizer, bucket_bytes=DEFAULT_BUCKET_BYTES):
        if isinstance(optimizer, DistributedOptimizer):
            optimizer = optimizer.optimizer
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "param_groups")):
            raise TypeError("DistributedOptimizer: expected a zerodl.optim optimizer (with step() and "
                            f"param_groups), got {type(optimizer).__name__}")
        self.__dict__["optimizer"] = optimizer
        self.__dict__["bucket_bytes"] = bucket_bytes
        self.__dict__["_reducer"] = None
        self.__dict__["skipped"] = False

    def _params(self):
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    @property
    def reducer(self):
        """The :class:`GradientReducer` over the optimizer's current parameters."""
        params = self._params()
        r = self._reducer
        if r is None or len(r.params) != len(params) or any(a is not b for a, b in zip(r.params, params)):
            spent = r.comm_seconds if r is not None else 0.0
            r = GradientReducer(params, self.bucket_bytes)
            r.comm_seconds = spent
            self.__dict__["_reducer"] = r
        return r

    @property
    def comm_seconds(self):
        return self._reducer.comm_seconds if self._reducer is not None else 0.0

    def synchronize(self, weight=None, skip=False):
        """Average the gradients over the ranks now (``step`` does it too); returns whether
        ``skip`` was true on any rank."""
        return self.reducer.reduce(1.0 if weight is None else weight, skip)

    def step(self, closure=None, weight=None, skip=False):
        """Average, then update; ``skip=True`` on any rank (its loss was NaN/Inf) means no rank
        updates this step (``self.skipped`` says so)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self.__dict__["skipped"] = self.synchronize(weight, skip)
        if not self.skipped:
            self.optimizer.step()
        return loss

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name, value):
        if name in type(self).__dict__:
            object.__setattr__(self, name, value)
        else:
            setattr(self.optimizer, name, value)

    def __repr__(self):
        return f"DistributedOptimizer({self.optimizer!r})"
