"""``keras.datasets.mnist.load_data()`` and ``fashion_mnist.load_data()``."""
from . import fashion_mnist, mnist  # noqa: F401
