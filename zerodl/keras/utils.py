"""``to_categorical`` as in ``tensorflow.keras.utils``."""
from ..data import to_categorical  # noqa: F401
