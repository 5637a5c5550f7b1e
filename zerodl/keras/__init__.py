"""A ``tensorflow.keras`` facade: a Keras script runs after changing only its import lines.

    import zerodl.keras as tf                   # was: import tensorflow as tf
    from zerodl import keras                    # was: from tensorflow import keras
    from zerodl.keras.layers import Dense       # was: from tensorflow.keras.layers import Dense
    from zerodl.keras.models import Sequential

Image data is channels-last (N, H, W, C) as in Keras.
"""
from . import callbacks, datasets, layers, models, optimizers, utils  # noqa: F401

keras = __import__("sys").modules[__name__]  # so `tf.keras.layers` works after `import zerodl.keras as tf`
