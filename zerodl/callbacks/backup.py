"""``BackupAndRestore``: back training up at every epoch end, resume from the backup after a crash."""
import os

from .. import io as zio
from ..core import Tensor
from ..core.backend import is_array
from ..core.jsonable import to_jsonable
from ..distributed import is_main_process
from .base import Callback

__all__ = ["BackupAndRestore"]

BACKUP_FORMAT = "zerodl.BackupAndRestore/2"


def _split_arrays(value, prefix, arrays):
    """``value`` with every array (at any depth of dicts) moved into ``arrays`` under a path
    key, leaving ``{"__array__": key}`` in its place: JSON for the header, arrays for the file."""
    if isinstance(value, Tensor):
        value = value.data
    if is_array(value):
        arrays[prefix] = value.copy()
        return {"__array__": prefix}
    if isinstance(value, dict):
        return {k: _split_arrays(v, f"{prefix}/{k}", arrays) for k, v in value.items()}
    return value


def _join_arrays(value, arrays):
    """The inverse of :func:`_split_arrays`."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {k: _join_arrays(v, arrays) for k, v in value.items()}
    return value


class BackupAndRestore(Callback):
    """Back training up at every epoch end; resume from the backup after an interruption.

    At the end of every epoch (after all other callbacks: ``runs_last``) it writes, atomically,
    one checkpoint file in ``backup_dir`` (``zerodl.io.save_checkpoint``): the model's weights,
    the optimizer's state, the epoch, the random generators' state, the training
    DataLoader's shuffle state, the optimizer's ``lr``, and the ``state_dict()`` of every other
    callback that has one (History, EarlyStopping's counters and best weights,
    ReduceLROnPlateau's, ModelCheckpoint's best); arrays in those go to a second file.

    When ``fit`` starts and a backup exists, all of that is restored (after every other
    callback's ``on_train_begin``) and training continues at the epoch after the backed-up
    one (``run.initial_epoch`` is overridden), so a run killed and started again with the same
    ``backup_dir`` (same model construction, data and arguments) ends with weights bitwise
    equal to a run never interrupted. When training ends normally (all epochs, or stopped by
    a callback) the backup is deleted (Keras's behaviour; ``delete_checkpoint=False`` keeps
    it). A crash (an exception) leaves it in place.
    """

    FILENAME = "backup.safetensors"
    runs_last = True

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

    def _stateful(self):
        """(key, callback) for the other callbacks of the run: the class name, and ``#k`` for
        the k-th (k >= 1) of a class, so adding or removing other callbacks keeps the keys."""
        out, seen = [], {}
        for cb in self.run.callbacks if self.run is not None else []:
            if cb is self:
                continue
            name = type(cb).__name__
            k = seen[name] = seen.get(name, -1) + 1
            out.append((f"{name}#{k}" if k else name, cb))
        return out

    def _aux_files(self):
        if not os.path.isdir(self.backup_dir):
            return []
        return [f for f in os.listdir(self.backup_dir) if f.startswith("callbacks-") and f.endswith(".safetensors")]

    def on_train_begin(self, logs=None):
        self.restored_epoch = None
        run, path = self.run, self.checkpoint_path
        if run is None or not os.path.exists(path):
            return
        extra = zio.load_checkpoint(path, run.model, run.optimizer)["extra"] or {}
        if extra.get("format") != BACKUP_FORMAT:
            raise ValueError(f"BackupAndRestore: {path} is not a backup written by this BackupAndRestore "
                             f"({BACKUP_FORMAT}); move it away to start afresh")
        if extra.get("lr") is not None and run.optimizer is not None:
            run.optimizer.lr = float(extra["lr"])
        if extra.get("loader") is not None and run.train_loader is not None:
            run.train_loader.load_state_dict(extra["loader"])
        arrays = {}
        if extra.get("callbacks_file"):
            aux = os.path.join(self.backup_dir, extra["callbacks_file"])
            if os.path.exists(aux):
                arrays = zio.load(aux)
        states = extra.get("callbacks", {})
        for key, cb in self._stateful():
            if key in states:
                cb.load_state_dict(_join_arrays(states[key], arrays))
        self.restored_epoch = int(extra["next_epoch"]) - 1
        run.initial_epoch = int(extra["next_epoch"])

    def on_epoch_end(self, epoch, logs=None):
        run = self.run
        if run is None or not is_main_process():  # in a distributed run rank 0 writes
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        states, arrays = {}, {}
        for key, cb in self._stateful():
            state = cb.state_dict()
            if state:
                states[key] = _split_arrays(state, key, arrays)
        aux_name = None
        if arrays:
            aux_name = f"callbacks-{epoch}.safetensors"
            zio.save(arrays, os.path.join(self.backup_dir, aux_name))
        lr = getattr(run.optimizer, "lr", None) if run.optimizer is not None else None
        extra = {
            "format": BACKUP_FORMAT,
            "next_epoch": epoch + 1,
            "loader": run.train_loader.state_dict() if run.train_loader is not None else None,
            "lr": float(lr) if lr is not None else None,
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
        if not self.delete_checkpoint or not is_main_process():
            return
        for f in [self.FILENAME] + self._aux_files():
            p = os.path.join(self.backup_dir, f)
            if os.path.exists(p):
                os.remove(p)
        try:
            os.rmdir(self.backup_dir)  # only if nothing else is there
        except OSError:
            pass
