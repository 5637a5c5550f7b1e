"""Keras callback names: the zerodl callbacks, which follow Keras's semantics.

``ModelCheckpoint`` and ``CSVLogger`` take Keras's argument names here (``filepath``,
``filename``); in ``zerodl.callbacks`` both are named ``path``, as the zerodl API has it.
"""
from .. import callbacks as _callbacks
from ..callbacks import *  # noqa: F401,F403


class ModelCheckpoint(_callbacks.ModelCheckpoint):
    """``zerodl.callbacks.ModelCheckpoint`` with Keras's first argument name, ``filepath``."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, save_weights_only=False,
                 mode="auto", verbose=0, save_freq="epoch", initial_value_threshold=None):
        super().__init__(filepath, monitor=monitor, save_best_only=save_best_only,
                         save_weights_only=save_weights_only, mode=mode, verbose=verbose,
                         save_freq=save_freq, initial_value_threshold=initial_value_threshold)


class CSVLogger(_callbacks.CSVLogger):
    """``zerodl.callbacks.CSVLogger`` with Keras's first argument name, ``filename``."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__(filename, separator=separator, append=append)
