"""tflearn.data_utils: ``to_categorical(y, nb_classes)``."""
import numpy as np

__all__ = ["to_categorical"]


def to_categorical(y, nb_classes=None):
    y = np.asarray(y).astype(np.int64).reshape(-1)
    n = int(nb_classes) if nb_classes is not None else int(y.max()) + 1
    return np.eye(n, dtype=np.float32)[y]
