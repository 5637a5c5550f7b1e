"""tflearn.datasets: ``mnist`` (``import zerodl.tflearn.datasets.mnist as mnist``)."""
from . import mnist  # noqa: F401
