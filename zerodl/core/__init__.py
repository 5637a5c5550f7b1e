"""The engine: Tensor, Function, the backward pass, no_grad, dtypes, array module, RNG."""
from .backend import as_numpy, get_array_module, gpu_available
from .config import (
    Config,
    default_dtype,
    enable_grad,
    get_default_dtype,
    is_grad_enabled,
    no_grad,
    set_default_dtype,
    using_config,
)
from .function import Function
from .random import get_rng, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, as_tensor, tensor
from .threads import get_num_threads, set_num_threads
from . import creation  # zd.zeros, zd.randn, ...: PyTorch-named constructors
