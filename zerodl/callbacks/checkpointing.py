"""``ModelCheckpoint``: save the model at every epoch end, or only when ``monitor`` improves."""
import os

from .. import io as zio
from ..distributed import is_main_process
from ..nn import save_model
from .monitor import MonitorCallback, say

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(MonitorCallback):
    """Save the model at the end of every epoch (or only when ``monitor`` improves).

    ``path`` (Keras calls it ``filepath``; ``zerodl.keras.callbacks.ModelCheckpoint`` takes that
    name) may hold ``str.format`` fields filled from the epoch (1-based, as Keras) and
    the logs: ``"ckpt-{epoch:02d}-{val_loss:.4f}.safetensors"``. The file is written with
    ``zerodl.nn.save_model`` (architecture and weights; atomic: a crash never leaves a half
    file), or with ``zerodl.io.save`` of the ``state_dict`` when ``save_weights_only=True``.
    With ``save_best_only=True`` it is written only when ``monitor`` improves on the best so far
    (strictly; mode 'auto' maximises names containing 'acc'); ``best`` keeps that value.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, save_weights_only=False,
                 mode="auto", verbose=0, save_freq="epoch", initial_value_threshold=None):
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported, got {save_freq!r}")
        super().__init__(monitor, mode, 0.0)
        self.filepath = os.fspath(path)  # Keras's attribute name
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.verbose = verbose
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)

    def _file_path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(
                f"ModelCheckpoint: cannot fill the file path {self.filepath!r} with epoch={epoch + 1} and "
                f"the logs {sorted(logs or {})}: {e}"
            ) from None

    def _save(self, path):
        if not is_main_process():  # in a distributed run rank 0 writes
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            zio.save(self.model.state_dict(), path)
        else:
            save_model(self.model, path)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._file_path(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                say(f"Epoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        current = self.get_monitor_value(
            logs, missing=f"can save the best model only with {self.monitor!r} in the logs; skipping")
        if current is None:
            return
        if self.is_improvement(current, self.best):
            if self.verbose > 0:
                say(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                    f"saving model to {path}")
            self.best = current
            self._save(path)
        elif self.verbose > 0:
            say(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")


