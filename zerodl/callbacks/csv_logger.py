"""``CSVLogger``: one CSV row per epoch."""
import csv
import os

import numpy as np

from ..distributed import is_main_process
from .base import Callback
from .monitor import log_value

__all__ = ["CSVLogger"]


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
        self._mode = None

    def on_train_begin(self, logs=None):
        self.keys = None
        self.writer = None
        self._mode = None
        if not is_main_process():  # in a distributed run rank 0 writes
            return
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(f.readline())
            self._mode = "a"
        else:
            self.append_header = True
            self._mode = "w"

    def _open(self):
        # Opened at the first finished epoch, not at train begin: a run stopped before then
        # leaves an existing file as it was and creates no empty one.
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, self._mode, newline="")

    @staticmethod
    def _handle_value(v):
        if isinstance(v, str):
            return v
        if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0):
            return '"[%s]"' % ", ".join(str(x) for x in v)
        try:
            return log_value(v)
        except (TypeError, ValueError):
            return v

    def on_epoch_end(self, epoch, logs=None):
        if self._mode is None:  # not this rank's to write
            return
        if self.csv_file is None:
            self._open()
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
