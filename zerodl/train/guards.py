"""What ``fit`` refuses to train on, and how it stops when training diverges.

- :func:`check_finite`: an input array holding NaN or Inf is refused before the first step,
  with the count and the first index (one NaN in the inputs would otherwise turn every
  weight into NaN, with no word). One sum per array: a finite sum proves every element
  finite; only a NaN/Inf (or an overflowing) sum pays for the full ``isfinite`` pass.
- :class:`TrainingDiverged`: raised by ``fit`` at the first batch whose loss is NaN or
  infinite, before that batch's backward pass and update, so the model keeps the weights of
  the step before (the epoch's end hooks do not run either: no checkpoint of a diverged
  epoch). This is ``fit``'s built-in ``TerminateOnNaN``; ``fit(..., terminate_on_nan=False)``
  turns it off, and a ``TerminateOnNaN`` callback given by the user takes over with Keras's
  behaviour (stop after the batch, no error). While it is on, NumPy's overflow / invalid /
  divide warnings are not printed inside ``fit``: the loss check reports what they lead to.
"""
import contextlib
import math

import numpy as np

from ..callbacks import TerminateOnNaN
from ..core.backend import as_numpy, get_array_module

__all__ = ["check_finite", "TrainingDiverged", "nan_guard"]


def check_finite(a, name, where="fit"):
    """Raise ``ValueError`` if the floating array ``a`` holds NaN or Inf."""
    if getattr(a, "dtype", None) is None or a.dtype.kind not in "fc" or a.size == 0:
        return
    xp = get_array_module(a)
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(a.sum())):
            return
    bad = ~xp.isfinite(a)
    count = int(bad.sum())
    if count == 0:  # the sum overflowed, the values are fine
        return
    first = tuple(int(i) for i in as_numpy(xp.argwhere(bad)[0]))
    value = float(a[first])
    raise ValueError(
        f"{where}: {name} holds {count} NaN or infinite value{'s' * (count != 1)} (the first, {value}, "
        f"at index {first if len(first) > 1 else first[0]}); drop those samples or replace the values "
        "(np.nan_to_num) before training"
    )


class TrainingDiverged(FloatingPointError):
    """The loss of a training batch was NaN or infinite (``epoch``, ``batch``: 0-based)."""

    def __init__(self, epoch, epochs, batch, steps, loss, weights_finite):
        self.epoch, self.batch, self.loss = epoch, batch, loss
        self.weights_finite = weights_finite
        state = ("the model keeps the weights from before this batch" if weights_finite else
                 "the weights already hold NaN/Inf (an update before overflowed): restore a checkpoint")
        super().__init__(
            f"fit: the loss became {loss} at epoch {epoch + 1}/{epochs}, batch {batch + 1}/{steps}; "
            f"training stopped and {state}. Lower the learning rate or check the data "
            "(fit(..., terminate_on_nan=False) trains on regardless)"
        )


def weights_finite(model):
    return all(bool(get_array_module(p.data).isfinite(p.data).all()) for p in model.parameters())


def nan_guard(terminate_on_nan, callbacks):
    """Whether ``fit`` checks the loss itself: on unless switched off or the user gave a
    ``TerminateOnNaN``; and the ``np.errstate`` the loop runs under."""
    cbs = [callbacks] if isinstance(callbacks, TerminateOnNaN) else list(callbacks or [])
    on = bool(terminate_on_nan) and not any(isinstance(cb, TerminateOnNaN) for cb in cbs)
    quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore") if on else contextlib.nullcontext()
    return on, quiet
