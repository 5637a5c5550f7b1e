"""Moving a module's parameters and buffers to another dtype or device (``Module.to``,
``.cuda()``, ``.cpu()``, ``.double()``, ``.float()``), in place: parameters keep their identity,
so an optimizer made earlier still holds them."""
import numpy as np

from ..core.backend import as_numpy
from ..core.tensor import to_gpu

_DEVICES = {"cpu": "cpu", "numpy": "cpu", "gpu": "gpu", "cuda": "gpu", "cupy": "gpu"}


def _device(name):
    """'cpu' / 'gpu' for a device name ('cuda:0' included), None for anything else."""
    return _DEVICES.get(name.split(":")[0]) if isinstance(name, str) else None


def move_module(module, dtype_or_device, who="Module.to"):
    """Convert every parameter (and its grad) and buffer of ``module`` and its children;
    a dtype converts the floating ones only. Returns ``module``."""
    device = _device(dtype_or_device)
    if device is None:
        try:
            dtype = np.dtype(dtype_or_device)
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind != "f":
            raise TypeError(f"{who}: expected a floating dtype or 'cpu'/'cuda', got {dtype_or_device!r}")

        def convert(a):
            return a if a.dtype == dtype else a.astype(dtype)

        floating_only = True
    else:
        dtype, floating_only = None, False
        if device == "gpu":
            def convert(a):
                return to_gpu(a, who)
        else:
            convert = as_numpy
    for m in module.modules():
        if dtype is not None:
            m.__dict__["_dtype"] = dtype
        for p in m._parameters.values():
            if p is not None:
                p.data = convert(p.data)
                if p.grad is not None:
                    p.grad = convert(p.grad)
        for name, b in list(m._buffers.items()):
            if b is not None and (not floating_only or b.dtype.kind == "f"):
                setattr(m, name, convert(b))
    return module
