"""Callbacks for ``fit``, with Keras's names, hooks and semantics (re-exported as ``zerodl.callbacks``).

- :class:`Callback`: the base class. ``fit`` calls ``set_model(model)`` and ``set_params(params)``
  (``{"epochs", "steps", "verbose"}``), then ``on_train_begin``, per epoch ``on_epoch_begin``,
  per batch ``on_train_batch_begin`` / ``on_train_batch_end`` (which call ``on_batch_begin`` /
  ``on_batch_end``), ``on_epoch_end(epoch, logs)`` and finally ``on_train_end``. Epochs are
  0-based as in Keras. Setting ``self.model.stop_training = True`` ends training: the loop
  checks it after every batch (then finishes the epoch's validation and ``on_epoch_end``) and
  after every epoch.
- Batch logs are ``{"batch": i, "size": n, "loss": <this batch's loss>}`` (the loss of that
  batch, not a running mean: that is what ``TerminateOnNaN`` needs). Batch hooks cost nothing
  unless some callback overrides them.
- Epoch logs: ``loss``, each metric, then ``val_loss`` and ``val_<metric>`` when there is
  validation data; the learning-rate callbacks add ``learning_rate`` as Keras 3 does.
- :class:`CallbackList` runs a list of callbacks (``fit`` adds a :class:`~zerodl.train.History`
  last unless one is given).
"""
import copy
import csv
import math
import os
import sys
import warnings

import numpy as np

from ..core.jsonable import to_jsonable

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "CSVLogger",
    "TerminateOnNaN",
    "LearningRateScheduler",
    "BackupAndRestore",
    "LambdaCallback",
]


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being trained."""

    model = None
    params = None

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    # training
    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    # evaluation (validation inside fit calls on_test_begin / on_test_end)
    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


def _overrides(cb, *names):
    for name in names:
        if name in getattr(cb, "__dict__", {}):
            return True
        mine = getattr(type(cb), name, None)
        if mine is not None and mine is not getattr(Callback, name):
            return True
    return False


class CallbackList:
    """A list of callbacks called together.

    Adds a :class:`History` at the end unless the list has one (``self.history``).
    ``has_batch_hooks`` says whether any callback wants the per-batch calls, so the fit loop
    can skip them (and the per-batch logs dict) otherwise.
    """

    def __init__(self, callbacks=None, add_history=True, model=None, params=None):
        from .history import History

        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"fit: callbacks must be zerodl.callbacks.Callback instances, got {type(cb).__name__}"
                )
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        self.has_batch_begin = any(
            _overrides(cb, "on_batch_begin", "on_train_batch_begin") for cb in self.callbacks
        )
        self.has_batch_end = any(_overrides(cb, "on_batch_end", "on_train_batch_end") for cb in self.callbacks)
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, cb):
        self.callbacks.append(cb)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def on_train_begin(self, logs=None, run=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)
        # Restoring hooks run after every on_train_begin (which may reset state).
        for cb in self.callbacks:
            hook = getattr(cb, "_on_train_begin_last", None)
            if hook is not None:
                hook(run)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None, run=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)
        # Backups run after every on_epoch_end (History included) so they capture the whole epoch.
        for cb in self.callbacks:
            hook = getattr(cb, "_on_epoch_end_last", None)
            if hook is not None:
                hook(epoch, logs, run)

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_test_end(logs)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        super().__init__()
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end)):
            if fn is not None:
                setattr(self, name, fn)
        if on_train_begin is not None:
            self.on_train_begin = lambda logs=None: on_train_begin(logs)
        if on_train_end is not None:
            self.on_train_end = lambda logs=None: on_train_end(logs)


# ----------------------------------------------------------------------------- helpers
def _monitor_mode(monitor, mode, where):
    """'min' or 'max' for ``monitor`` (Keras's 'auto': names with 'acc' are maximised)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{where}: mode {mode!r} is unknown, falling back to 'auto'", stacklevel=3)
        mode = "auto"
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        maximise = "acc" in name or name.startswith("fmeasure") or name in ("auc", "precision", "recall", "f1", "f1_score")
        mode = "max" if maximise else "min"
    return mode


def _value(v):
    """A log value as a Python float (Tensor / ndarray / numpy scalar accepted)."""
    v = getattr(v, "data", v) if not isinstance(v, (float, int, np.generic, np.ndarray)) else v
    return float(v)


def _copy_array(v):
    from ..core import Tensor

    if isinstance(v, Tensor):
        v = v.data
    return v.copy() if hasattr(v, "copy") else copy.deepcopy(v)


def get_weights(model):
    """A copy of every array of ``model.state_dict()`` (parameters and buffers)."""
    return {k: _copy_array(v) for k, v in model.state_dict().items()}


def set_weights(model, weights):
    model.load_state_dict(weights)


def _optimizer(model, where):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise RuntimeError(f"{where}: the model has no optimizer; use it inside model.fit after compile")
    return opt


def _get_lr(model, where):
    opt = _optimizer(model, where)
    lr = getattr(opt, "lr", None)
    if lr is None:
        lr = getattr(opt, "learning_rate")
    return float(lr)


def _set_lr(model, lr, where):
    _optimizer(model, where).lr = float(lr)


def _print(msg):
    print(msg, file=sys.stdout, flush=True)


# ----------------------------------------------------------------------------- EarlyStopping
class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    Each epoch: an improvement is ``current - min_delta < best`` (mode 'min') or
    ``current + min_delta > best`` ('max'); mode 'auto' maximises names containing 'acc'
    and minimises the rest. An improvement resets the wait counter, otherwise it grows;
    when it reaches ``patience`` (and the epoch is not the first), training stops after this
    epoch and ``stopped_epoch`` is that epoch (0-based; 0 when it ran out of epochs).
    ``best`` is the best monitored value, ``best_epoch`` its epoch.

    ``restore_best_weights=True``: at the end of training the model gets the weights (all of
    ``state_dict``, buffers included) from the end of the best epoch. As in Keras 3 this
    happens whenever a best epoch was recorded, also when training ran out of epochs
    without stopping early (Keras 2 restored only on an early stop).
    ``baseline`` and ``start_from_epoch`` are Keras's too.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, mode="auto",
                 restore_best_weights=False, verbose=0, baseline=None, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.mode = _monitor_mode(monitor, mode, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def _is_improvement(self, value, reference):
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def get_monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"EarlyStopping: monitor {self.monitor!r} is not in the logs; available: "
                f"{', '.join(logs or {})}", stacklevel=3,
            )
            return None
        return _value(value)

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # No best yet: the current weights are the best so far.
            self.best_weights = get_weights(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = get_weights(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            set_weights(self.model, self.best_weights)

    # BackupAndRestore protocol
    def _backup_state(self):
        state = {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                 "best_epoch": self.best_epoch}
        return state, self.best_weights

    def _restore_state(self, state, arrays):
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        if arrays:
            self.best_weights = arrays


# ----------------------------------------------------------------------------- ModelCheckpoint
class ModelCheckpoint(Callback):
    """Save the model at the end of every epoch (or only when ``monitor`` improves).

    ``path`` (Keras calls it ``filepath``; ``zerodl.keras.callbacks.ModelCheckpoint`` takes that
    name) may hold ``str.format`` fields filled from the epoch (1-based, as Keras) and
    the logs: ``"ckpt-{epoch:02d}-{val_loss:.4f}.safetensors"``. The file is written with
    ``zerodl.io.save_model`` (architecture and weights; atomic: a crash never leaves a half
    file), or with ``zerodl.io.save`` of the ``state_dict`` when ``save_weights_only=True``.
    With ``save_best_only=True`` it is written only when ``monitor`` improves on the best so far
    (strictly; mode 'auto' maximises names containing 'acc'); ``best`` keeps that value.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, save_weights_only=False,
                 mode="auto", verbose=0, save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported, got {save_freq!r}")
        self.filepath = os.fspath(path)  # Keras's attribute name
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode, "ModelCheckpoint")
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf

    def _better(self, current):
        return current < self.best if self.mode == "min" else current > self.best

    def _file_path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(
                f"ModelCheckpoint: cannot fill the file path {self.filepath!r} with epoch={epoch + 1} and "
                f"the logs {sorted(logs or {})}: {e}"
            ) from None

    def _save(self, path):
        from .. import io as zio

        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            zio.save(self.model.state_dict(), path)
        else:
            zio.save_model(self.model, path)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._file_path(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                _print(f"Epoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"ModelCheckpoint: can save the best model only with {self.monitor!r} in the logs "
                f"(available: {', '.join(logs)}); skipping", stacklevel=2,
            )
            return
        current = _value(current)
        if self._better(current):
            if self.verbose > 0:
                _print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                       f"saving model to {path}")
            self.best = current
            self._save(path)
        elif self.verbose > 0:
            _print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")

    def _backup_state(self):
        return {"best": self.best}, None

    def _restore_state(self, state, arrays):
        self.best = float(state["best"])


# ----------------------------------------------------------------------------- ReduceLROnPlateau
class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's ``lr`` by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras semantics: improvement means better than ``best`` by more than
    ``min_delta``; after a reduction, ``cooldown`` epochs pass before counting again; the
    rate never goes below ``min_lr``). Adds ``learning_rate`` (the rate used in the epoch) to
    the epoch logs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
                 min_lr=0.0, verbose=0, mode="auto"):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _better(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _get_lr(self.model, "ReduceLROnPlateau")
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"ReduceLROnPlateau: monitor {self.monitor!r} is not in the logs; available: "
                f"{', '.join(logs)}", stacklevel=2,
            )
            return
        current = _value(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _get_lr(self.model, "ReduceLROnPlateau")
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    _set_lr(self.model, new_lr, "ReduceLROnPlateau")
                    if self.verbose > 0:
                        _print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr:.4g}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def _backup_state(self):
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}, None

    def _restore_state(self, state, arrays):
        self.best = float(state["best"])
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])


# ----------------------------------------------------------------------------- LearningRateScheduler
class LearningRateScheduler(Callback):
    """At the start of every epoch set ``lr = schedule(epoch, lr)`` (epoch 0-based; a
    one-argument ``schedule(epoch)`` is accepted too, as Keras does). Adds ``learning_rate``
    to the epoch logs."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable: schedule(epoch, lr) -> lr")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _get_lr(self.model, "LearningRateScheduler")
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
        _set_lr(self.model, new_lr, "LearningRateScheduler")
        if self.verbose > 0:
            _print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr:.4g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model, "LearningRateScheduler")


# ----------------------------------------------------------------------------- CSVLogger
class CSVLogger(Callback):
    """Write one CSV row per epoch to ``path``: ``epoch`` (0-based, as Keras) then the sorted log keys.

    (Keras calls the argument ``filename``; ``zerodl.keras.callbacks.CSVLogger`` takes that name.)

    ``append=True`` adds to an existing file (and writes the header only if the file is
    empty): use it with ``BackupAndRestore`` so a resumed run continues the same file.
    """

    def __init__(self, path, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(path)  # Keras's attribute name
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self.writer = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(f.readline())
            mode = "a"
        else:
            self.append_header = True
            mode = "w"
        self.keys = None
        self.writer = None
        self.csv_file = open(self.filename, mode, newline="")

    @staticmethod
    def _handle_value(v):
        if isinstance(v, str):
            return v
        if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0):
            return '"[%s]"' % ", ".join(str(x) for x in v)
        try:
            return _value(v)
        except (TypeError, ValueError):
            return v

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            sep = self.sep

            class _Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=_Dialect,
                                         extrasaction="ignore")
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, self._handle_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


# ----------------------------------------------------------------------------- TerminateOnNaN
class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite (and say so)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            loss = _value(loss)
            if math.isnan(loss) or math.isinf(loss):
                _print(f"Batch {batch}: Invalid loss ({loss}), terminating training")
                self.model.stop_training = True


# ----------------------------------------------------------------------------- BackupAndRestore
class BackupAndRestore(Callback):
    """Back training up at every epoch end; resume from the backup after an interruption.

    At the end of every epoch (after all other callbacks) it writes, atomically, one
    checkpoint file in ``backup_dir`` (``zerodl.io.save_checkpoint``): the model's weights, the
    optimizer's state, the epoch, zerodl's RNG state, the training DataLoader's shuffle state,
    the optimizer's ``lr``, the History so far, and the state of the callbacks that have one
    (EarlyStopping's counters and best weights, ReduceLROnPlateau's, ModelCheckpoint's best).

    When ``fit`` starts and a backup exists, all of that is restored and training continues
    at the epoch after the backed-up one (``initial_epoch`` is overridden), so a run killed
    and started again with the same ``backup_dir`` (same model construction, data and
    arguments) ends with weights bitwise equal to a run never interrupted. When training ends
    normally (all epochs, or stopped by a callback) the backup is deleted (Keras's behaviour;
    ``delete_checkpoint=False`` keeps it). A crash (an exception) leaves it in place.
    """

    FILENAME = "backup.safetensors"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"BackupAndRestore: only save_freq='epoch' is supported, got {save_freq!r}")
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a folder path")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.restored_epoch = None  # the epoch (0-based) whose end was restored, if any

    @property
    def checkpoint_path(self):
        return os.path.join(self.backup_dir, self.FILENAME)

    @staticmethod
    def _stateful(run):
        """(key, callback) for the callbacks whose state is part of the backup."""
        out = []
        for i, cb in enumerate(run.callbacks if run is not None else []):
            if hasattr(cb, "_backup_state") and not isinstance(cb, BackupAndRestore):
                out.append((f"{i}:{type(cb).__name__}", cb))
        return out

    def _aux_files(self):
        if not os.path.isdir(self.backup_dir):
            return []
        return [f for f in os.listdir(self.backup_dir) if f.startswith("callbacks-") and f.endswith(".safetensors")]

    def _on_train_begin_last(self, run):
        from .. import io as zio
        from ..core import set_rng_state

        self.restored_epoch = None
        path = self.checkpoint_path
        if run is None or not os.path.exists(path):
            return
        info = zio.load_checkpoint(path, run.model, run.optimizer)
        extra = _checkpoint_extra(info)
        if extra.get("format") != "zerodl.BackupAndRestore/1":
            raise ValueError(f"BackupAndRestore: {path} is not a backup written by BackupAndRestore")
        if extra.get("lr") is not None and run.optimizer is not None:
            run.optimizer.lr = float(extra["lr"])
        if extra.get("rng_state") is not None:
            set_rng_state(extra["rng_state"])
        loader_state = extra.get("loader")
        if loader_state is not None and run.train_loader is not None:
            run.train_loader.load_state_dict(loader_state)
        if run.history is not None:
            run.history.history = {k: list(v) for k, v in extra.get("history", {}).items()}
            run.history.epoch = list(extra.get("history_epoch", []))
        arrays = {}
        if extra.get("callbacks_file"):
            aux = os.path.join(self.backup_dir, extra["callbacks_file"])
            if os.path.exists(aux):
                arrays = zio.load(aux)
        states = extra.get("callbacks", {})
        for key, cb in self._stateful(run):
            if key in states:
                prefix = key + "/"
                mine = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
                cb._restore_state(states[key], mine or None)
        self.restored_epoch = int(extra["next_epoch"]) - 1
        run.initial_epoch = int(extra["next_epoch"])

    def _on_epoch_end_last(self, epoch, logs, run):
        from .. import io as zio
        from ..core import get_rng_state

        if run is None:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        states, arrays = {}, {}
        for key, cb in self._stateful(run):
            state, arrs = cb._backup_state()
            states[key] = state
            for name, a in (arrs or {}).items():
                arrays[f"{key}/{name}"] = _copy_array(a)
        aux_name = None
        if arrays:
            aux_name = f"callbacks-{epoch}.safetensors"
            zio.save(arrays, os.path.join(self.backup_dir, aux_name))
        lr = getattr(run.optimizer, "lr", None) if run.optimizer is not None else None
        extra = {
            "format": "zerodl.BackupAndRestore/1",
            "next_epoch": epoch + 1,
            "rng_state": to_jsonable(get_rng_state()),
            "loader": run.train_loader.state_dict() if run.train_loader is not None else None,
            "lr": float(lr) if lr is not None else None,
            "history": run.history.history if run.history is not None else {},
            "history_epoch": run.history.epoch if run.history is not None else [],
            "callbacks": states,
            "callbacks_file": aux_name,
        }
        zio.save_checkpoint(self.checkpoint_path, run.model, run.optimizer, epoch, to_jsonable(extra))
        for f in self._aux_files():  # older callback files are superseded now
            if f != aux_name:
                try:
                    os.remove(os.path.join(self.backup_dir, f))
                except OSError:
                    pass

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for f in [self.FILENAME] + self._aux_files():
            p = os.path.join(self.backup_dir, f)
            if os.path.exists(p):
                os.remove(p)
        try:
            os.rmdir(self.backup_dir)  # only if nothing else is there
        except OSError:
            pass


def _checkpoint_extra(info):
    """The ``extra`` dict from whatever ``zerodl.io.load_checkpoint`` returned."""
    if isinstance(info, dict):
        if "extra" in info:
            extra = info["extra"]
        else:
            extra = info
    elif isinstance(info, tuple):
        extra = next((x for x in info if isinstance(x, dict)), {})
    else:
        extra = getattr(info, "extra", {})
    if isinstance(extra, str):
        import json

        extra = json.loads(extra)
    return extra or {}
