"""A Keras 3 (and ``tensorflow.keras``) facade: scripts run after changing only their imports.

    import zerodl.keras as keras                # was: import keras
    import zerodl.keras as tf                   # was: import tensorflow as tf  (tf.keras.layers...)
    from zerodl.keras import layers             # was: from keras import layers
    from zerodl.keras.models import Sequential  # was: from tensorflow.keras.models import Sequential

Layers are real Keras-shaped objects (``zerodl.keras.layers``): channels-last images, weights
laid out as Keras lays them, callable on symbolic ``keras.Input`` tensors (the functional API)
or on data. See ``models`` for Sequential / functional / subclassed models and training.
"""
import sys

from . import callbacks, datasets, initializers, layers, losses, metrics, models, optimizers, regularizers, utils  # noqa: F401,E501
from .layers import Input, Layer  # noqa: F401
from .layers.base import KerasTensor, clear_session  # noqa: F401
from .models import Model, Sequential, load_model  # noqa: F401
from .saving import save_model  # noqa: F401

keras = sys.modules[__name__]  # so `tf.keras.layers` works after `import zerodl.keras as tf`
backend = type(sys)("zerodl.keras.backend")
backend.clear_session = clear_session
__version__ = "3.0.0-zerodl"
