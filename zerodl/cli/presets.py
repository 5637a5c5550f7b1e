"""The data sets and models that ``zerodl train`` knows by name.

Each data set is prepared the same way for training, evaluation and prediction, from the
facts stored in the model file's metadata (``dataset``, ``pixel_max``, ``input_shape``), so
``zerodl evaluate`` and ``zerodl predict`` see what training saw.
"""
import numpy as np

from .. import nn
from ..data import datasets, train_test_split

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")
DATASETS = IMAGE_DATASETS + ("spiral",)
SPLIT_SEED = 0  # the digits/spiral test split is drawn with this seed, so evaluate can redo it
KERAS = "keras"  # the model kind of a file saved by zerodl.keras (``model.save``), not by ``zerodl train``


def load_split(name, data_dir=None):
    """Return ``(x_train, t_train, x_test, t_test, info)`` with raw inputs.

    Images are (N, H, W) in the data set's own units (digits 0..16, MNIST 0..255);
    ``info`` holds what prediction needs to prepare new inputs the same way.
    """
    if name == "digits":
        x, t = datasets.digits()
        x_train, x_test, t_train, t_test = train_test_split(x, t, test_size=0.2, seed=SPLIT_SEED)
        return x_train, t_train, x_test, t_test, {"pixel_max": 16.0, "classes": 10}
    if name in ("mnist", "fashion-mnist"):
        load = datasets.mnist if name == "mnist" else datasets.fashion_mnist
        x_train, t_train = load(root=data_dir, train=True)
        x_test, t_test = load(root=data_dir, train=False)
        return x_train, t_train, x_test, t_test, {"pixel_max": 255.0, "classes": 10}
    if name == "spiral":
        x, t = datasets.spiral()
        x_train, x_test, t_train, t_test = train_test_split(x, t, test_size=0.2, seed=SPLIT_SEED)
        return x_train, t_train, x_test, t_test, {"pixel_max": 1.0, "classes": 3}
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def prepare(x, model_kind, pixel_max, input_shape=None):
    """Raw inputs -> float32 model inputs: images scaled to [0, 1], NCHW for the CNN.

    x (N, H, W) -> (N, 1, H, W) for 'cnn' or (N, H*W) for 'mlp'; spiral points pass through.
    For ``KERAS`` (a zerodl.keras model) x is reshaped to the model's own per-sample
    ``input_shape``: channels-last (H, W, C), (H, W) or flat (H*W,), as Keras scripts feed it.
    """
    x = np.asarray(x, dtype=np.float32) / np.float32(pixel_max)
    if model_kind == KERAS:
        return x.reshape((len(x),) + tuple(input_shape))
    if x.ndim == 3:
        x = x[:, None] if model_kind == "cnn" else x.reshape(len(x), -1)
    return x


def build_model(kind, input_shape, classes):
    """A small model for ``input_shape`` (without the batch axis): 'mlp' or 'cnn'."""
    if kind == "mlp":
        return nn.Sequential(
            nn.Linear(int(np.prod(input_shape)), 100), nn.ReLU(),
            nn.Linear(100, 100), nn.ReLU(),
            nn.Linear(100, classes),
        )
    if kind == "cnn":
        if len(input_shape) != 3:
            raise ValueError(f"the cnn model needs image input (C, H, W), got {tuple(input_shape)}")
        c, h, w = input_shape
        flat = 32 * (h // 4) * (w // 4)
        return nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(flat, 100), nn.ReLU(),
            nn.Linear(100, classes),
        )
    raise ValueError(f"unknown model {kind!r}; choose mlp or cnn")


DEFAULT_EPOCHS = {"digits": 30, "mnist": 5, "fashion-mnist": 5, "spiral": 300}
