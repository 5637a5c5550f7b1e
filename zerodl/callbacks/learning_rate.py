"""Callbacks that set the optimizer's learning rate: ``ReduceLROnPlateau``, ``LearningRateScheduler``.

Both add ``learning_rate`` (the rate used in the epoch) to the epoch logs, as Keras 3 does.
"""
import math

import numpy as np

from .base import Callback
from .monitor import MonitorCallback, say

__all__ = ["ReduceLROnPlateau", "LearningRateScheduler", "get_lr", "set_lr"]


def _optimizer(model, where):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise RuntimeError(f"{where}: the model has no optimizer; use it inside model.fit after compile")
    return opt


def get_lr(model, where):
    """``model.optimizer``'s learning rate (``lr``, or Keras's ``learning_rate``) as a float."""
    opt = _optimizer(model, where)
    lr = getattr(opt, "lr", None)
    if lr is None:
        lr = getattr(opt, "learning_rate")
    return float(lr)


def set_lr(model, lr, where):
    _optimizer(model, where).lr = float(lr)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the optimizer's ``lr`` by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras semantics: improvement means better than ``best`` by more than
    ``min_delta``; after a reduction, ``cooldown`` epochs pass before counting again; the
    rate never goes below ``min_lr``)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
                 min_lr=0.0, verbose=0, mode="auto"):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor = float(factor)
        self.patience = int(patience)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.reset_best()
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = get_lr(self.model, "ReduceLROnPlateau")
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = get_lr(self.model, "ReduceLROnPlateau")
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    set_lr(self.model, new_lr, "ReduceLROnPlateau")
                    if self.verbose > 0:
                        say(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr:.4g}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])


class LearningRateScheduler(Callback):
    """At the start of every epoch set ``lr = schedule(epoch, lr)`` (epoch 0-based; a
    one-argument ``schedule(epoch)`` is accepted too, as Keras does)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable: schedule(epoch, lr) -> lr")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = get_lr(self.model, "LearningRateScheduler")
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # the old one-argument form
            new_lr = self.schedule(epoch)
        try:
            new_lr = float(new_lr)
        except (TypeError, ValueError):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a number, got {type(new_lr).__name__}"
            ) from None
        if not math.isfinite(new_lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned {new_lr} at epoch {epoch}")
        set_lr(self.model, new_lr, "LearningRateScheduler")
        if self.verbose > 0:
            say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr:.4g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_lr(self.model, "LearningRateScheduler")
