"""tflearn's metrics: ``Accuracy()``, ``Top_k(k)``; ``regression(metric='default')`` is accuracy."""
from .. import keras

__all__ = ["Accuracy", "Top_k", "get"]


class Accuracy:
    def __init__(self, name=None):
        self.name = name

    def keras(self):
        return "accuracy"


class Top_k:  # noqa: N801 - tflearn's name
    def __init__(self, k=1, name=None):
        self.k = int(k)

    def keras(self):
        return keras.metrics.TopKCategoricalAccuracy(k=self.k, name=f"top{self.k}")


def get(spec):
    """A list of Keras metrics for ``regression(metric=...)``."""
    if spec is None:
        return []
    if spec in ("default", "accuracy", "acc"):
        return ["accuracy"]
    if isinstance(spec, (Accuracy, Top_k)):
        return [spec.keras()]
    if isinstance(spec, str) and spec.startswith("top"):
        return [Top_k(int(spec[3:] or 1)).keras()]
    raise ValueError(f"tflearn.regression: unknown metric {spec!r}; choose 'default', 'accuracy', "
                     "tflearn.metrics.Accuracy() or Top_k(k)")
