"""``MonitorCallback``: the base of callbacks that watch one logged value (as Keras 3's).

It owns ``monitor`` (the log key), ``mode`` (``"min"``/``"max"``; ``"auto"`` maximises names
containing ``acc`` and a few other scores, minimises the rest), ``min_delta`` and ``best``:
a value improves on a reference when ``value + min_delta < reference`` (mode min) or
``value - min_delta > reference`` (mode max). ``EarlyStopping``, ``ModelCheckpoint`` and
``ReduceLROnPlateau`` build on it.
"""
import math
import sys
import warnings

import numpy as np

from .base import Callback

__all__ = ["MonitorCallback", "monitor_mode", "log_value"]

_SCORES = ("auc", "precision", "recall", "f1", "f1_score")


def monitor_mode(monitor, mode, where):
    """'min' or 'max' for ``monitor`` (Keras's 'auto': names with 'acc' are maximised)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{where}: mode {mode!r} is unknown, falling back to 'auto'", stacklevel=3)
        mode = "auto"
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        maximise = "acc" in name or name.startswith("fmeasure") or name in _SCORES
        mode = "max" if maximise else "min"
    return mode


def log_value(v):
    """A log value as a Python float (Tensor / ndarray / numpy scalar accepted)."""
    v = getattr(v, "data", v) if not isinstance(v, (float, int, np.generic, np.ndarray)) else v
    return float(v)


def say(msg):
    """What the callbacks print with ``verbose > 0`` (stdout, flushed: it interleaves with the bar)."""
    print(msg, file=sys.stdout, flush=True)


class MonitorCallback(Callback):
    """Watches ``logs[monitor]``; ``best`` is the best value seen (see the module docstring)."""

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = monitor_mode(monitor, mode, type(self).__name__)
        self.min_delta = abs(float(min_delta))
        self.reset_best()

    def reset_best(self):
        self.best = math.inf if self.mode == "min" else -math.inf

    def is_improvement(self, value, reference):
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def get_monitor_value(self, logs, missing=None):
        """``logs[monitor]`` as a float, or None with a warning (``missing``: its text) when absent."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            text = missing or f"monitor {self.monitor!r} is not in the logs"
            warnings.warn(f"{type(self).__name__}: {text}; available: {', '.join(logs or {})}", stacklevel=3)
            return None
        return log_value(value)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = float(state["best"])
