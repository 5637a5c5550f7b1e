"""The Keras-style training methods of every ``nn.Module``: ``compile``, ``fit``, ``evaluate``,
``predict``, ``summary``, installed on the class by :func:`install` (``zerodl.train`` runs it on
import, and ``import zerodl`` imports ``zerodl.train``), as ``functions/_tensor_methods.py``
installs Tensor's operators. ``nn`` itself never imports ``train``: the methods come from
the layer above, so the import graph has no circle.
"""
from ..nn import Module
from . import api
from .summary import summary as _summary

__all__ = ["install"]


def compile(self, optimizer="adam", loss="cross_entropy", metrics=None):  # noqa: A001 - Keras's name
    """Choose optimizer, loss and metrics for ``fit`` (see ``zerodl.train.compile``)."""
    return api.compile(self, optimizer=optimizer, loss=loss, metrics=metrics)


def fit(self, x, y=None, epochs=1, batch_size=32, validation_data=None, validation_split=0.0,
        shuffle=True, callbacks=None, verbose=1, initial_epoch=0, terminate_on_nan=True, distributed=None):
    """Train; returns a ``History`` (see ``zerodl.train.fit``)."""
    return api.fit(self, x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                   validation_split=validation_split, shuffle=shuffle, callbacks=callbacks,
                   verbose=verbose, initial_epoch=initial_epoch, terminate_on_nan=terminate_on_nan,
                   distributed=distributed)


def evaluate(self, x, y=None, batch_size=32, verbose=0):
    """Loss and metrics on ``(x, y)`` as a dict (see ``zerodl.train.evaluate``)."""
    return api.evaluate(self, x, y, batch_size=batch_size, verbose=verbose)


def predict(self, x, batch_size=32, verbose=0):
    """Outputs for ``x`` as an ndarray, batch by batch (see ``zerodl.train.predict``)."""
    return api.predict(self, x, batch_size=batch_size, verbose=verbose)


def summary(self, input_shape=None):
    """Layer table as a string, also printed (see ``zerodl.train.summary``)."""
    return _summary(self, input_shape=input_shape)


METHODS = {"compile": compile, "fit": fit, "evaluate": evaluate, "predict": predict, "summary": summary}


def install(cls=Module):
    """Set the methods on ``cls`` (``nn.Module``); a subclass's own definitions still win."""
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
