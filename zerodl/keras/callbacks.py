"""Keras callback names: the zerodl callbacks, which follow Keras's semantics."""
from ..train.callbacks import *  # noqa: F401,F403
