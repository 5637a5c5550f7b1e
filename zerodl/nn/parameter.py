"""``Parameter``: a Tensor that a ``Module`` registers as learnable."""
import numpy as np

from ..core import Tensor, get_default_dtype


class Parameter(Tensor):
    """A leaf Tensor that ``requires_grad`` and is registered when set as a Module attribute.

    ``Parameter(data)``: floating (or integer / boolean) data takes the default dtype (float32)
    unless ``dtype`` says otherwise; ``Parameter(t)`` for a Tensor ``t`` shares its array.
    ``requires_grad=False`` freezes it: no gradient is computed and optimizers leave it alone
    (``module.requires_grad_(False)`` freezes every parameter of a module).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            if not hasattr(data, "dtype"):
                data = np.asarray(data)
            if data.dtype.kind in "biu":
                dtype = get_default_dtype()
        super().__init__(data, requires_grad=False, dtype=dtype, name=name)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):  # copy.deepcopy: a new Parameter with copied data
        return (_rebuild, (self.data, self.grad, self.requires_grad, self.name))


def _rebuild(data, grad, requires_grad, name):
    p = Parameter(data, requires_grad=requires_grad, dtype=data.dtype, name=name)
    p.grad = grad
    return p
