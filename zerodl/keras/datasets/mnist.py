from ...data import datasets


def load_data(path=None):
    """((x_train uint8 (60000, 28, 28), y_train), (x_test (10000, 28, 28), y_test)).

    Files come from ``path`` or ``$ZERODL_DATA``, else they are downloaded into the cache.
    """
    return datasets.mnist(root=path, train=True), datasets.mnist(root=path, train=False)
