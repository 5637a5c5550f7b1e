"""``DNN`` (fit / predict / evaluate / save / load) on a ``zerodl.keras`` functional model,
with tflearn's defaults: ``DNN(clip_gradients=5.0)`` (global norm), ``regression``'s
``batch_size=64`` and ``shuffle_batches=True``, ``fit(validation_set=0.1)`` shuffles once and
keeps the last 10% apart, as tflearn; an optimizer's ``lr_decay`` applies per step.
"""
import os

import numpy as np

from .. import keras
from ..core.random import get_rng
from ..callbacks import Callback
from .layers.estimator import LOSSES, Regression

__all__ = ["DNN"]

def _inputs_of(tensor):
    found, stack, seen = [], [tensor], set()
    while stack:
        t = stack.pop()
        node = t.node
        if id(node) in seen:
            continue
        seen.add(id(node))
        if not node.inputs:
            found.append(t)
        stack.extend(node.inputs)
    return sorted(found, key=lambda t: t.node.serial)


def _first(x):
    return next(iter(x.values())) if isinstance(x, dict) else x


class DNN:
    """tflearn's ``DNN(network)``: ``fit``, ``predict``, ``evaluate``, ``save``, ``load``."""

    def __init__(self, network, clip_gradients=5.0, tensorboard_verbose=0, tensorboard_dir="/tmp/tflearn_logs/",
                 checkpoint_path=None, best_checkpoint_path=None, max_checkpoints=None, session=None,
                 best_val_accuracy=0.0):
        if not isinstance(network, Regression):
            raise TypeError("tflearn.DNN: give the output of tflearn.regression(...)")
        self.net = network
        inputs = _inputs_of(network.incoming)
        self.model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, network.incoming)
        loss = LOSSES[network.loss]()
        metrics = [] if network.loss == "mean_square" else network.metrics
        self.model.compile(optimizer=network.optimizer.keras(clip_gradients or None), loss=loss, metrics=metrics)
        self._decay = _Decay(network.optimizer)

    def fit(self, X_inputs, Y_targets, n_epoch=10, validation_set=None, show_metric=False, batch_size=None,
            shuffle=None, snapshot_epoch=True, snapshot_step=None, excl_trainops=None, validation_batch_size=None,
            run_id=None, callbacks=None):
        x, y = np.asarray(_first(X_inputs)), np.asarray(_first(Y_targets))
        val = None
        if isinstance(validation_set, float):
            order = get_rng().permutation(len(x))  # tflearn shuffles once, then keeps the last part apart
            cut = int(len(x) * (1 - validation_set))
            x, y, val = x[order[:cut]], y[order[:cut]], (x[order[cut:]], y[order[cut:]])
        elif validation_set is not None:
            val = (np.asarray(_first(validation_set[0])), np.asarray(_first(validation_set[1])))
        bs = batch_size or self.net.batch_size
        shuffle = self.net.shuffle if shuffle is None else shuffle
        cbs = list(callbacks or []) + ([self._decay] if self.net.optimizer.lr_decay else [])
        return self.model.fit(x, y, batch_size=bs, epochs=n_epoch, validation_data=val, shuffle=shuffle,
                              callbacks=cbs, verbose=2 if show_metric else 0)

    def predict(self, X):
        return self.model.predict(np.asarray(_first(X)))

    def predict_label(self, X):
        return np.argsort(self.predict(X), axis=1)[:, ::-1]

    def evaluate(self, X, Y, batch_size=128):
        logs = self.model.evaluate(np.asarray(_first(X)), np.asarray(_first(Y)), batch_size=batch_size,
                                   return_dict=True)
        return [v for k, v in logs.items() if k != "loss"] or [logs["loss"]]

    def save(self, model_file):
        """The weights (safetensors, never pickle); ``load`` puts them back into the same network."""
        self.model.save_weights(model_file if model_file.endswith(".safetensors") else model_file + ".safetensors")

    def load(self, model_file, weights_only=False, **kwargs):
        path = model_file if os.path.exists(model_file) else model_file + ".safetensors"
        self.model.load_weights(path)

    def get_weights(self, weight_tensor):
        return np.asarray(weight_tensor.data if hasattr(weight_tensor, "data") else weight_tensor).copy()


class _Decay(Callback):
    """TF's exponential learning-rate decay, step by step over every ``fit`` of the DNN."""

    def __init__(self, optimizer):
        super().__init__()
        self.optimizer, self.step = optimizer, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.lr = self.optimizer.rate(self.step)
        self.step += 1
