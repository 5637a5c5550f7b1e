"""zerodl: deep learning from zero, in Python on NumPy.

>>> import zerodl as zd
>>> x = zd.tensor([[1.0, 2.0]], requires_grad=True)
>>> (x * x).sum().backward(); x.grad
array([[2., 4.]], dtype=float32)
"""
import importlib

from . import _platform  # noqa: F401  (first: process-wide settings; see zerodl/_platform.py)
from .core import (
    Function,
    Tensor,
    default_dtype,
    enable_grad,
    get_default_dtype,
    get_num_threads,
    get_rng,
    is_grad_enabled,
    manual_seed,
    no_grad,
    set_default_dtype,
    set_num_threads,
    tensor,
)
from .core.creation import (  # PyTorch's constructors; as_tensor is PyTorch's (data, dtype=None)
    arange,
    as_tensor,
    empty,
    from_numpy,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    zeros,
    zeros_like,
)
from . import functions  # noqa: E402  (installs the Tensor operators)
from .functions.shape import cat, stack_dim as stack  # noqa: E402  (torch.cat / torch.stack)
from . import train  # noqa: E402  (installs fit/compile/... on nn.Module; imports nn, optim, data, io)
from ._version import __version__
from .io import load, load_checkpoint, save, save_checkpoint
from .nn import load_model, save_model

# The facades on top load on first use (``zd.keras``, ``zd.cli``, ...), so `import zerodl`
# stays cheap; the layers below ``train`` are imported above already.
_LAZY = ("utils", "keras", "tflearn", "cli", "distributed")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'zerodl' has no attribute {name!r}")
