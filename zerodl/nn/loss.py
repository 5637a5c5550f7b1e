"""Loss modules with PyTorch's names and arguments: ``criterion = nn.CrossEntropyLoss(); loss =
criterion(model(x), y)``. Each calls the function of ``zerodl.nn.functional`` of the same name;
``reduction`` is "mean" (default), "sum" or "none". A loss takes (input, target) and has no
parameters; ``weight`` / ``pos_weight`` are kept as buffers (they follow ``.to()``)."""
import numpy as np

from ..core import Tensor
from . import loss_functions as L
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss"]


def _array_or_none(v):
    if v is None:
        return None
    return np.asarray(v.data if isinstance(v, Tensor) else v, dtype=np.float64)


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        L._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _array_or_none(weight))


class CrossEntropyLoss(_WeightedLoss):
    """``F.cross_entropy`` on raw scores (N, C) or (N, C, d1, ...) against int classes or probabilities."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input, target):  # noqa: A002
        return L.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """``F.nll_loss`` on log-probabilities (after ``nn.LogSoftmax(dim=1)``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):  # noqa: A002
        return L.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """``F.mse_loss``: squared error, same shapes."""

    def forward(self, input, target):  # noqa: A002
        return L.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """``F.l1_loss``: absolute error, same shapes."""

    def forward(self, input, target):  # noqa: A002
        return L.l1_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """``F.binary_cross_entropy`` on probabilities (after ``nn.Sigmoid()``)."""

    def forward(self, input, target):  # noqa: A002
        return L.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """``F.binary_cross_entropy_with_logits`` on raw scores (stable); ``pos_weight`` weighs positives."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _array_or_none(pos_weight))

    def forward(self, input, target):  # noqa: A002
        return L.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
