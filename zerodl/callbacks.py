"""``zerodl.callbacks``: the callbacks of ``fit`` (defined in ``zerodl.train.callbacks``).

    from zerodl.callbacks import EarlyStopping, ModelCheckpoint, BackupAndRestore
"""
from .train import callbacks as _callbacks
from .train.callbacks import *  # noqa: F401,F403
from .train.history import History  # noqa: F401

__all__ = [*_callbacks.__all__, "History"]
