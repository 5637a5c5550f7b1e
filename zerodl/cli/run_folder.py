"""The folder of one ``zerodl train`` run, and the files it keeps complete at every moment.

    runs/<timestamp>[-N]/   (or --out DIR)
        run.json            the training options (a rerun resumes only with the same ones)
        history.csv         one row per finished epoch, rewritten atomically after each
        checkpoint/         BackupAndRestore's checkpoint after the last finished epoch
        model.safetensors   written once, at the end, only from finite weights
        learning_curve.png

Folders are never shared: the default one is created exclusively (a suffix is added when
two runs start in the same second), a folder that already holds a model is refused unless
``--overwrite``, and a lock (``.zerodl-lock``, held with ``flock`` while the run lives and
released by the kernel if it is killed) refuses a second run in a folder that one is using.
"""
import csv
import datetime
import io
import json
import os

import numpy as np

from .. import io as zio
from ..callbacks import BackupAndRestore, Callback
from .errors import CommandError, RunFailure, need_folder, os_failure

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, the other checks still hold
    fcntl = None

MODEL = "model.safetensors"
HISTORY = "history.csv"
OPTIONS = "run.json"
CHECKPOINT_DIR = "checkpoint"
RESUME_KEYS = ("dataset", "model", "batch_size", "lr", "optimizer", "seed")


def _fresh_default_folder(root="runs"):
    """``runs/<timestamp>``, created here and now; ``-2``, ``-3``... if another run has it."""
    need_folder(root, "folder of the runs")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        os.makedirs(root, exist_ok=True)
        for n in range(1, 10_000):
            path = os.path.join(root, stamp if n == 1 else f"{stamp}-{n}")
            try:
                os.mkdir(path)
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise os_failure(e, "create the run folder") from None
    raise RunFailure(f"cannot create a run folder under {root}: too many runs named {stamp}")


class RunFolder:
    """Claim the output folder of a training run (see the module docstring).

    ``resume`` is True when the folder holds the checkpoint of an interrupted run with the
    same options; the run then continues from it.
    """

    def __init__(self, out, options, overwrite=False):
        self.explicit = out is not None
        if out is None:
            out = _fresh_default_folder()
        else:
            need_folder(out, "--out folder")
        self.path = out
        self._lock_file = None
        try:
            os.makedirs(out, exist_ok=True)
            self._lock()
            self._check_writable()
        except OSError as e:
            raise os_failure(e, f"write into the output folder {out}") from None
        self.resume = False
        if os.path.exists(self.file(MODEL)) and not overwrite:
            raise CommandError(f"{out} already holds a model ({MODEL}) from an earlier run; choose "
                               "another --out, or pass --overwrite to replace it")
        if overwrite:
            self._forget_checkpoint()
        elif os.path.exists(self.checkpoint_file):
            self._check_same_options(options)
            self.resume = True
        zio.atomic_write(self.file(OPTIONS), json.dumps(options, indent=1) + "\n")

    def file(self, name):
        return os.path.join(self.path, name)

    @property
    def checkpoint_dir(self):
        return self.file(CHECKPOINT_DIR)

    @property
    def checkpoint_file(self):
        return os.path.join(self.checkpoint_dir, BackupAndRestore.FILENAME)

    def _lock(self):
        if fcntl is None:
            return
        f = open(self.file(".zerodl-lock"), "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise RunFailure(f"another zerodl train is running in {self.path}; wait for it or "
                             "choose another --out") from None
        self._lock_file = f  # held until the process ends

    def _check_writable(self):
        """Fail now, not after training, when the folder cannot take files."""
        probe = self.file(f".zerodl-write-test-{os.getpid()}")
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.remove(probe)

    def _check_same_options(self, options):
        try:
            with open(self.file(OPTIONS), encoding="utf-8") as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = None
        if not isinstance(old, dict):
            raise CommandError(f"{self.path} holds a checkpoint but no readable {OPTIONS}; pass "
                               "--overwrite to start afresh")
        diff = [f"--{k.replace('_', '-')} {old.get(k)} (now {options.get(k)})"
                for k in RESUME_KEYS if old.get(k) != options.get(k)]
        if diff:
            raise CommandError(f"{self.path} holds an interrupted run with other options "
                               f"({', '.join(diff)}): rerun with those options to resume it, or "
                               "pass --overwrite to start afresh")

    def _forget_checkpoint(self):
        for name in os.listdir(self.checkpoint_dir) if os.path.isdir(self.checkpoint_dir) else []:
            os.remove(os.path.join(self.checkpoint_dir, name))

    def drop_checkpoint(self):
        """After the model is saved: the checkpoint has served (as Keras's BackupAndRestore)."""
        try:
            self._forget_checkpoint()
            os.rmdir(self.checkpoint_dir)
        except OSError:
            pass

    def checkpoint_epochs(self):
        """How many epochs the checkpoint holds (None when there is none)."""
        if not os.path.exists(self.checkpoint_file):
            return None
        try:
            meta = zio.load_metadata(self.checkpoint_file)
            return int(json.loads(meta["epoch"])) + 1
        except (OSError, ValueError, KeyError, TypeError):
            return None


class HistoryCSV(Callback):
    """``history.csv``: ``epoch`` (0-based) and the sorted log keys, one row per finished
    epoch, the whole file rewritten atomically after each epoch (never empty, never half a
    row). A resumed run keeps the rows of the epochs before the one it starts from."""

    def __init__(self, path, keep_existing=False):
        super().__init__()
        self.path = path
        self.rows = {}
        self.keys = None
        if keep_existing and os.path.exists(path):
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    self.rows[int(row.pop("epoch"))] = row
                    self.keys = self.keys or sorted(row)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.keys = self.keys or sorted(logs)
        self.rows = {e: r for e, r in self.rows.items() if e < epoch}
        self.rows[epoch] = {k: logs.get(k, "NA") for k in self.keys}
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["epoch"] + self.keys)
        for e in sorted(self.rows):
            w.writerow([e] + [self.rows[e].get(k, "NA") for k in self.keys])
        zio.atomic_write(self.path, buf.getvalue())


class WeightsNotFinite(Exception):
    """The weights hold NaN/Inf at the end of an epoch (an update overflowed)."""

    def __init__(self, epoch, name):
        super().__init__(f"the weights of {name} became NaN/Inf in epoch {epoch + 1}")
        self.epoch, self.name = epoch, name


class CheckWeights(Callback):
    """Raise ``WeightsNotFinite`` at an epoch's end (before the checkpoint, which runs last)
    if an update turned a weight into NaN/Inf while every loss was finite, so that the
    checkpoint kept is always a finite one."""

    def on_epoch_end(self, epoch, logs=None):
        name = first_non_finite(self.model)
        if name is not None:
            raise WeightsNotFinite(epoch, name)


def first_non_finite(model):
    """The name of the first parameter holding NaN or Inf (None when all are finite)."""
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            return name
    return None
