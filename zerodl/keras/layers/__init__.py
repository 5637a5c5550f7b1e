"""``keras.layers``: Keras 3's layer names, channels-last, weights laid out as Keras's."""
from .base import ACTIVATIONS, KerasTensor, Layer  # noqa: F401
from .conv import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
