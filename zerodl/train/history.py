"""``History``: the per-epoch record that ``fit`` returns (a callback, as in Keras)."""
from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Records the logs of every epoch.

    ``history.history`` is a dict of per-epoch lists (``{"loss": [...], "val_loss": [...],
    "accuracy": [...], ...}``); ``history.epoch`` lists the (0-based) epoch indices.
    ``fit`` adds one to every run (last in the callback list, as Keras does) and returns it;
    ``model.history`` is set to it as well. When ``BackupAndRestore`` resumes a run, the
    restored History holds the epochs from before the interruption too.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except Exception:  # pragma: no cover - a model that refuses new attributes
                pass

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"<History: {len(self.epoch)} epochs; {keys}>"
