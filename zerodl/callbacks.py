"""``zerodl.callbacks``: the callbacks of ``fit`` (defined in ``zerodl.train.callbacks``).

    from zerodl.callbacks import EarlyStopping, ModelCheckpoint, BackupAndRestore
"""
from .train.callbacks import (  # noqa: F401
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .train.history import History  # noqa: F401

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "CSVLogger",
    "TerminateOnNaN",
    "LearningRateScheduler",
    "BackupAndRestore",
    "LambdaCallback",
]
