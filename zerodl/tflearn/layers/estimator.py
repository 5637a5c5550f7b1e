"""tflearn.layers.estimator: ``regression`` (the training op: optimizer, loss, metric, learning
rate, batch size), with tflearn's defaults. An optimizer is a name ('adam', 'sgd', 'rmsprop',
'momentum', 'adagrad': tflearn's default arguments) or a ``tflearn.optimizers`` object.
Losses: 'categorical_crossentropy' (on the softmax output), 'softmax_categorical_crossentropy'
(on logits), 'binary_crossentropy' (on logits, as tflearn's), 'mean_square'.
"""
from ... import keras
from .. import metrics as tmetrics
from .. import optimizers as toptim

__all__ = ["regression", "Regression", "LOSSES"]

LOSSES = {
    "categorical_crossentropy": lambda: keras.losses.CategoricalCrossentropy(),
    "softmax_categorical_crossentropy": lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
    "binary_crossentropy": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    "mean_square": lambda: keras.losses.MeanSquaredError(),
}


class Regression:
    """What ``regression`` returns: the network's output and how to train it."""

    def __init__(self, incoming, optimizer, loss, metric, learning_rate, batch_size, shuffle_batches, name):
        if loss not in LOSSES:
            raise ValueError(f"tflearn.regression: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        self.incoming, self.loss = incoming, loss
        self.optimizer = toptim.get(optimizer, learning_rate)
        self.metrics = tmetrics.get(metric)
        self.learning_rate, self.batch_size, self.shuffle, self.name = learning_rate, batch_size, shuffle_batches, name
        self.shape = incoming.shape


def regression(incoming, placeholder="default", optimizer="adam", loss="categorical_crossentropy",
               metric="default", learning_rate=0.001, dtype=None, batch_size=64, shuffle_batches=True,
               to_one_hot=False, n_classes=None, trainable_vars=None, restore=True, op_name=None,
               validation_monitors=None, validation_batch_size=None, name=None):
    """The training op of a network: what ``DNN(net)`` trains (see the module docstring)."""
    return Regression(incoming, optimizer, loss, metric, learning_rate, batch_size, shuffle_batches, name)


