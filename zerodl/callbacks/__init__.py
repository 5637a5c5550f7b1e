"""``zerodl.callbacks``: the callbacks of ``fit``, with Keras's names, hooks and semantics.

    from zerodl.callbacks import EarlyStopping, ModelCheckpoint, BackupAndRestore

One concern per file: ``base`` (``Callback``, ``CallbackList``, ``History``, ``LambdaCallback``,
``TrainingRun``: the protocol, see its docstring), ``monitor`` (``MonitorCallback``: monitor /
mode / min_delta / best), ``stopping`` (``EarlyStopping``, ``TerminateOnNaN``),
``learning_rate`` (``ReduceLROnPlateau``, ``LearningRateScheduler``), ``csv_logger``
(``CSVLogger``), ``checkpointing`` (``ModelCheckpoint``), ``backup`` (``BackupAndRestore``).
"""
from .backup import BackupAndRestore
from .base import Callback, CallbackList, History, LambdaCallback, TrainingRun
from .checkpointing import ModelCheckpoint
from .csv_logger import CSVLogger
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .monitor import MonitorCallback
from .stopping import EarlyStopping, TerminateOnNaN

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "LambdaCallback",
    "TrainingRun",
    "MonitorCallback",
    "EarlyStopping",
    "TerminateOnNaN",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "CSVLogger",
    "BackupAndRestore",
]
