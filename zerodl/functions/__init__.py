"""``zerodl.functions`` (imported as ``F``): every op, one class each with forward and backward.

Grouped by topic; each module lists its public functions in ``__all__``.
"""
from . import activations, arithmetic, attention, conv, embedding, indexing, losses, metrics, normalization, recurrent, resize, shape
from .activations import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .arithmetic import abs, add, div, exp, linear, log, matmul, mul, neg, pow, sqrt, sub
from .indexing import argmax, argmin, gather
from .conv import *  # noqa: F401,F403
from .im2col import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .resize import *  # noqa: F401,F403
from .shape import (
    broadcast_to,
    cat,
    concat,
    getitem,
    max,
    mean,
    min,
    permute,
    reshape,
    stack,
    sum,
    sum_to,
    transpose,
)
from .select import clip, where
from ._tensor_methods import install as _install

_install()
