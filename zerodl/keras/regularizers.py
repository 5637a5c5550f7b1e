"""``keras.regularizers``: ``L2(l2)`` / ``L1(l1)`` / ``L1L2``; ``fit`` adds ``reg(kernel)`` of
every layer with a ``kernel_regularizer`` to the loss."""
from .. import functions as F

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "get"]


class Regularizer:
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        out = 0.0
        if self.l1:
            out = out + self.l1 * F.where(w.data > 0, w, -w).sum()
        if self.l2:
            out = out + self.l2 * (w * w).sum()
        return out


class L1L2(Regularizer):
    pass


class L1(Regularizer):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)


class L2(Regularizer):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)


l1, l2 = L1, L2


def get(spec):
    if spec is None or isinstance(spec, Regularizer):
        return spec
    names = {"l1": L1, "l2": L2, "l1_l2": L1L2}
    if isinstance(spec, str) and spec.lower() in names:
        return names[spec.lower()]()
    raise ValueError(f"unknown regularizer {spec!r}; choose one of l1, l2, l1_l2")
