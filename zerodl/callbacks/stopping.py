"""Callbacks that end training: ``EarlyStopping`` (no more improvement) and ``TerminateOnNaN``."""
import copy
import math

from ..core import Tensor
from .base import Callback
from .monitor import MonitorCallback, log_value, say

__all__ = ["EarlyStopping", "TerminateOnNaN", "get_weights"]


def _copy_array(v):
    if isinstance(v, Tensor):
        v = v.data
    return v.copy() if hasattr(v, "copy") else copy.deepcopy(v)


def get_weights(model):
    """A copy of every array of ``model.state_dict()`` (parameters and buffers)."""
    return {k: _copy_array(v) for k, v in model.state_dict().items()}


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    Each epoch: an improvement (``MonitorCallback.is_improvement``, by more than
    ``min_delta``) resets the wait counter, otherwise it grows; when it reaches ``patience``
    (and the epoch is not the first), training stops after this epoch and ``stopped_epoch``
    is that epoch (0-based; 0 when it ran out of epochs). ``best`` is the best monitored
    value, ``best_epoch`` its epoch.

    ``restore_best_weights=True``: at the end of training the model gets the weights (all of
    ``state_dict``, buffers included) from the end of the best epoch. As in Keras 3 this
    happens whenever a best epoch was recorded, also when training ran out of epochs
    without stopping early (Keras 2 restored only on an early stop).
    ``baseline`` and ``start_from_epoch`` are Keras's too.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, mode="auto",
                 restore_best_weights=False, verbose=0, baseline=None, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.reset_best()

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # No best yet: the current weights are the best so far.
            self.best_weights = get_weights(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = get_weights(self.model)
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            say(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                say(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_epoch = int(state["best_epoch"])
        if state.get("best_weights"):
            self.best_weights = dict(state["best_weights"])


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite (and say so)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            loss = log_value(loss)
            if math.isnan(loss) or math.isinf(loss):
                say(f"Batch {batch}: Invalid loss ({loss}), terminating training")
                self.model.stop_training = True
