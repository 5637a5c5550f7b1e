"""Helpers shared by the tflearn layer functions."""
from ... import keras

__all__ = ["act", "weight_regularizer"]


def act(name):
    """tflearn's 'linear' is Keras's None."""
    return None if name in (None, "linear") else name


def weight_regularizer(reg, weight_decay):
    """tflearn's ``regularizer='L2'``: ``weight_decay * tf.nn.l2_loss(W)`` = ``weight_decay * sum(W**2) / 2``."""
    if reg is None:
        return None
    if str(reg).upper() == "L2":
        return keras.regularizers.L2(weight_decay / 2.0)
    if str(reg).upper() == "L1":
        return keras.regularizers.L1(weight_decay)
    raise ValueError(f"tflearn: unknown regularizer {reg!r}; choose 'L2' or 'L1'")
