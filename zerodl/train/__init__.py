"""``zerodl.train``: Keras's training API for every ``nn.Module``.

- :func:`compile`, :func:`fit`, :func:`evaluate`, :func:`predict` (``api``), :func:`summary`
  (``summary``); importing this package installs them as ``Module`` methods
  (``module_methods``), so ``model.fit(...)`` works on every module,
- data preparation (``data_prep``), progress output (``progress``: tqdm bar on a terminal, one
  line per epoch otherwise), name -> loss / metric resolution (``losses_and_metrics``),
- the callbacks are the package ``zerodl.callbacks`` (re-exported here for old imports:
  ``zerodl.train.EarlyStopping``, ``zerodl.train.History``).
"""
from .. import callbacks
from ..callbacks import *  # noqa: F401,F403
from . import losses_and_metrics, module_methods, progress
from .api import OPTIMIZERS, compile, evaluate, fit, predict
from .guards import TrainingDiverged
from .summary import summary

module_methods.install()

__all__ = ["compile", "fit", "evaluate", "predict", "summary", "OPTIMIZERS", "TrainingDiverged",
           *callbacks.__all__]
