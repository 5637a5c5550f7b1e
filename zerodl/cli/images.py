"""Reading the inputs of ``zerodl predict``: PNG/JPEG images or .npy arrays."""
import os

import numpy as np


class InputError(ValueError):
    """An input file that cannot be used (missing, unreadable, wrong size)."""


def read_inputs(paths, image_shape, pixel_max):
    """Read each path into the data set's raw units; returns (N, H, W) float32.

    PNG/JPEG: converted to 8-bit grayscale, bright ink on a dark background (as MNIST),
    scaled from 0..255 to 0..pixel_max. ``.npy``: an (H, W) or (N, H, W) array already in the
    data set's units (as returned by ``zerodl.data.datasets``), loaded without pickle.
    """
    out = []
    for path in paths:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder, not an image or .npy file")
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such file")
        if path.lower().endswith(".npy"):
            try:
                arr = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError):
                raise InputError(f"{path}: not a .npy file holding a plain numeric array "
                                 "(pickled Python objects are never loaded)") from None
            if arr.dtype.kind not in "biuf":
                raise InputError(f"{path}: the array has dtype {arr.dtype}; a numeric array is needed")
            arrs = arr[None] if arr.ndim == len(image_shape) else arr
        else:
            arrs = _read_image(path)[None] * (pixel_max / 255.0)
        if tuple(arrs.shape[1:]) != tuple(image_shape):
            raise InputError(
                f"{path}: input of shape {tuple(arrs.shape[1:])} but the model expects "
                f"{tuple(image_shape)} (resize the image first)"
            )
        out.append(arrs.astype(np.float32))
    return np.concatenate(out)


def _read_image(path):
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        raise InputError("reading images needs Pillow: pip install 'zerodl[images]'") from None
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"{path}: not a readable PNG/JPEG image ({e})") from None
