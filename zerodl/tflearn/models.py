"""``regression`` (the training op: optimizer, loss, metric) and ``DNN`` (fit / predict /
evaluate / save / load), with tflearn's defaults, on a ``zerodl.keras`` functional model.

tflearn's defaults kept: optimizers with their tflearn defaults (Adam lr 0.001, eps 1e-8;
SGD lr 0.001; RMSProp lr 0.001, decay 0.9, eps 1e-10; Momentum lr 0.001, momentum 0.9),
``regression(batch_size=64, shuffle_batches=True)``, ``DNN(clip_gradients=5.0)`` (global
norm), ``fit(validation_set=0.1)`` shuffles once and keeps the last 10% apart, as tflearn.
Losses: 'categorical_crossentropy' (on the softmax output), 'softmax_categorical_crossentropy'
(on logits), 'binary_crossentropy', 'mean_square', 'hinge' is not supported.
"""
import os

import numpy as np

from .. import keras
from ..core.random import get_rng

__all__ = ["regression", "DNN"]

_LOSSES = {
    "categorical_crossentropy": lambda: keras.losses.CategoricalCrossentropy(),
    "softmax_categorical_crossentropy": lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
    "binary_crossentropy": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    "mean_square": lambda: keras.losses.MeanSquaredError(),
}


def _optimizer(name, lr, clip):
    name = name.lower() if isinstance(name, str) else name
    table = {
        "adam": lambda: keras.optimizers.Adam(lr, epsilon=1e-8, global_clipnorm=clip),
        "sgd": lambda: keras.optimizers.SGD(lr, global_clipnorm=clip),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr, rho=0.9, epsilon=1e-10, global_clipnorm=clip),
        "momentum": lambda: keras.optimizers.SGD(lr, momentum=0.9, global_clipnorm=clip),
        "adagrad": lambda: keras.optimizers.Adagrad(lr, global_clipnorm=clip),
    }
    if name not in table:
        raise ValueError(f"tflearn.regression: unknown optimizer {name!r}; choose one of {', '.join(table)}")
    return table[name]()


class Regression:
    """What ``regression`` returns: the network's output and how to train it."""

    def __init__(self, incoming, optimizer, loss, metric, learning_rate, batch_size, shuffle_batches, name):
        if loss not in _LOSSES:
            raise ValueError(f"tflearn.regression: unknown loss {loss!r}; choose one of {', '.join(_LOSSES)}")
        self.incoming, self.optimizer, self.loss, self.metric = incoming, optimizer, loss, metric
        self.learning_rate, self.batch_size, self.shuffle, self.name = learning_rate, batch_size, shuffle_batches, name
        self.shape = incoming.shape


def regression(incoming, placeholder="default", optimizer="adam", loss="categorical_crossentropy",
               metric="default", learning_rate=0.001, dtype=None, batch_size=64, shuffle_batches=True,
               to_one_hot=False, n_classes=None, trainable_vars=None, restore=True, op_name=None,
               validation_monitors=None, validation_batch_size=None, name=None):
    return Regression(incoming, optimizer, loss, metric, learning_rate, batch_size, shuffle_batches, name)


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
        loss = _LOSSES[network.loss]()
        metrics = [] if network.metric is None or network.loss == "mean_square" else ["accuracy"]
        self.model.compile(optimizer=_optimizer(network.optimizer, network.learning_rate, clip_gradients or None),
                           loss=loss, metrics=metrics)

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
        return self.model.fit(x, y, batch_size=bs, epochs=n_epoch, validation_data=val, shuffle=shuffle,
                              callbacks=callbacks, verbose=2 if show_metric else 0)

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
