"""``Sequential`` as Keras has it: ``add`` layers, then ``compile``/``fit``/``evaluate``/``predict``."""
import numpy as np

from .. import nn
from ..core import no_grad
from .layers import Flatten, Layer
from .optimizers import KerasOptimizer, get as get_optimizer


class ChannelsLastToFirst(nn.Module):
    """(N, H, W, C) -> (N, C, H, W): Keras images enter channels-last, zerodl works NCHW."""

    def forward(self, x):
        return x.transpose(0, 3, 1, 2)


class KerasSequential(nn.Sequential):
    """A ``nn.Sequential`` built from Keras layer recipes (exported as ``Sequential``).

    Keras's ``evaluate`` returns ``loss`` (or ``[loss, *metrics]``), not a dict.
    """

    def __init__(self, layers=None, name=None):
        super().__init__()
        self._shape = None  # current output shape, channels-first, without the batch axis
        self._spatial = False
        self._flat = False  # a Flatten was added (the data are no longer images)
        self._keras_optimizer = None
        self._compiled = False
        self._glorot_pending = []  # Dense/Conv2D weights still to initialise as Keras does
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Layer):
            if isinstance(layer, nn.Module):
                self.append(layer)
                self._shape = None
                return
            raise TypeError(f"Sequential.add: expected a keras layer, got {type(layer).__name__}")
        if len(self) == 0 and layer.input_shape is not None:
            shape = layer.input_shape
            if layer.spatial and len(shape) == 3:
                shape = (shape[2], shape[0], shape[1])
            self._shape = shape
        if layer.spatial and not self._spatial:
            if len(self) > 0:
                raise ValueError(f"{type(layer).__name__}: image layers must come first (input is channels-last)")
            self.append(ChannelsLastToFirst())
            self._spatial = True
        layer.images_in = self._spatial and not self._flat
        if isinstance(layer, Flatten):
            self._flat = True
        modules, self._shape = layer.expand(self._shape)
        for m in modules:
            self.append(m)
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                self._glorot_pending.append(m)
        self._init_glorot()

    def _init_glorot(self):
        """Keras's default initialisers: glorot_uniform weights, zero biases (zerodl's own
        layers use He). Lazily sized layers get theirs once built."""
        pending = []
        for m in self._glorot_pending:
            if getattr(m, "W", None) is None:
                pending.append(m)
                continue
            nn.init.xavier_uniform_(m.W)
            if getattr(m, "b", None) is not None:
                nn.init.zeros_(m.b)
        self._glorot_pending = pending

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        self._keras_optimizer = get_optimizer(optimizer)
        self._keras_loss, self._keras_metrics = loss, metrics
        self._compiled = False  # the zerodl compile happens at the first fit/evaluate

    def _build(self, x, where):
        """Once per ``compile``: materialise lazily-sized layers with one sample, then compile
        with the real optimizer (so a second ``fit`` continues with the same one, as Keras)."""
        if self._keras_optimizer is None:
            raise RuntimeError(f"Sequential.{where}: call compile(optimizer, loss, metrics) first")
        if self._compiled:
            return
        was = self.training
        try:
            with no_grad():
                self.eval()
                self(_first_sample(x, where))
        finally:
            self.train(was)
        self._init_glorot()
        opt = self._keras_optimizer
        real = opt.build(self.parameters()) if isinstance(opt, KerasOptimizer) else opt
        super().compile(optimizer=real, loss=self._keras_loss, metrics=self._keras_metrics)
        self._compiled = True

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        self._build(x, "fit")
        return super().fit(x, y, epochs=epochs, batch_size=batch_size or 32,
                           validation_data=validation_data, validation_split=validation_split,
                           shuffle=shuffle, callbacks=callbacks, verbose=verbose, initial_epoch=initial_epoch)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=0):
        """Keras's return value: the loss (a float), or ``[loss, *metrics]`` with metrics."""
        self._build(x, "evaluate")
        logs = super().evaluate(x, y, batch_size=batch_size or 32, verbose=verbose)
        values = [float(v) for v in logs.values()]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0):
        return super().predict(x, batch_size=batch_size or 32)


def _first_sample(x, where):
    """One input sample (batch of 1, float32) from an array, a Dataset or a DataLoader."""
    from ..data import DataLoader, Dataset

    if isinstance(x, DataLoader):
        x = x.dataset
    if isinstance(x, Dataset):
        if len(x) == 0:
            raise ValueError(f"Sequential.{where}: the data set is empty")
        sample = x[0]
        first = sample[0] if isinstance(sample, (tuple, list)) else sample
        return np.asarray(first, dtype=np.float32)[None]
    if x is None:
        raise ValueError(f"Sequential.{where}: x is missing")
    return np.asarray(x[:1], dtype=np.float32)


Sequential = KerasSequential
