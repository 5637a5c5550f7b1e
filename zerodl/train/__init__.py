"""``zerodl.train``: Keras's training API for every ``nn.Module``.

``model.compile / fit / evaluate / predict / summary`` delegate here:

- :func:`compile`, :func:`fit`, :func:`evaluate`, :func:`predict` (``api``),
- :func:`summary` (``summary``), :class:`History` (``history``),
- callbacks (``callbacks``, re-exported as ``zerodl.callbacks``): ``EarlyStopping``,
  ``ModelCheckpoint``, ``ReduceLROnPlateau``, ``CSVLogger``, ``TerminateOnNaN``,
  ``LearningRateScheduler``, ``BackupAndRestore``,
- progress output (``progress``: tqdm bar on a terminal, one line per epoch otherwise),
- name -> loss / metric resolution (``losses_and_metrics``).
"""
from . import callbacks, losses_and_metrics, progress
from .api import OPTIMIZERS, compile, evaluate, fit, predict
from .callbacks import *  # noqa: F401,F403
from .history import History
from .summary import summary

__all__ = ["compile", "fit", "evaluate", "predict", "summary", "History", "OPTIMIZERS", *callbacks.__all__]
