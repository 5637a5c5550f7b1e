"""``Tensor``: an ndarray that remembers the op that made it, so gradients can flow back."""
import numpy as np

from . import autograd
from .backend import as_cupy, as_numpy, get_array_module, is_array
from .config import Config


def _to_array(data, dtype=None):
    """Turn array-like ``data`` into an ndarray; floating input takes the default dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if is_array(data):
        arr = data
    else:
        arr = np.asarray(data)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if arr.dtype != dtype:
            arr = arr.astype(dtype)
    elif arr.dtype.kind == "f" and arr.dtype != Config.default_dtype:
        arr = arr.astype(Config.default_dtype)
    elif arr.dtype.kind == "O":
        raise TypeError("tensor: object arrays are not supported; pass numbers or numeric arrays")
    return arr


class Size(int):
    """``t.size``: the element count, an int as NumPy's ``ndarray.size`` (arithmetic, comparisons
    and formatting are int's), that can also be called as PyTorch's ``t.size()`` (the shape
    tuple) and ``t.size(d)`` (one dim, negative d counting from the end)."""

    def __new__(cls, shape):
        n = 1
        for s in shape:
            n *= s
        obj = int.__new__(cls, n)
        obj._shape = tuple(shape)  # not .shape: an int must not pass for an array
        return obj

    def __call__(self, dim=None):
        shape = self._shape
        if dim is None:
            return shape
        if isinstance(dim, bool) or not isinstance(dim, int) or not -len(shape) <= dim < len(shape):
            raise IndexError(f"size: dim {dim!r} is out of range for a tensor of shape {shape}")
        return shape[dim]

    __repr__ = int.__repr__
    __str__ = int.__repr__


class Tensor:
    """A node of the computational graph.

    ``data`` is the ndarray (float32 by default); ``grad`` is an ndarray of the same shape and
    dtype once ``backward`` has reached this tensor; ``creator`` is the ``Function`` that made
    it (``None`` for a leaf such as a parameter or an input).
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "retains_grad", "__weakref__")
    __array_priority__ = 200  # ndarray op Tensor -> Tensor's reflected operator

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.creator = None
        self.name = name
        self.retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data):
        """Wrap the array result of an op without any conversion (hot path)."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.creator = None
        t.name = None
        t.retains_grad = False
        t.requires_grad = False
        return t

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad needs a floating tensor, got dtype {self.data.dtype}; "
                "create it with zd.tensor(data, dtype=np.float32) (or float64) instead"
            )
        self.requires_grad = bool(flag)
        return self

    # ----- array-like attributes ------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        """The element count (``t.size``, NumPy); ``t.size()`` / ``t.size(d)`` give the shape / one dim."""
        return Size(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(as_numpy(self.data), prefix="tensor(", separator=", ")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != Config.default_dtype:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        arr = as_numpy(self.data)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __hash__(self):
        return id(self)

    # Comparisons return plain boolean arrays (not differentiable).
    def _raw(self, other):
        return other.data if isinstance(other, Tensor) else other

    def __eq__(self, other):
        return self.data == self._raw(other)

    def __ne__(self, other):
        return self.data != self._raw(other)

    def __lt__(self, other):
        return self.data < self._raw(other)

    def __le__(self, other):
        return self.data <= self._raw(other)

    def __gt__(self, other):
        return self.data > self._raw(other)

    def __ge__(self, other):
        return self.data >= self._raw(other)

    # ----- graph ----------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor; leaves (and ``retain_grad()`` tensors) get ``.grad``.

        ``grad`` defaults to 1 for a one-element tensor; other shapes must pass it.
        The graph is freed afterwards unless ``retain_graph=True``.
        """
        autograd.backward(self, grad.data if isinstance(grad, Tensor) else grad, retain_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor during backward (as ``torch.Tensor.retain_grad``)."""
        self.retains_grad = True
        return self

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def zero_grad(self):
        self.grad = None

    def numpy(self):
        return as_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return as_numpy(self.data).tolist()

    def astype(self, dtype):
        """A copy cast to ``dtype`` (not differentiable across the cast)."""
        return Tensor(self.data.astype(dtype), dtype=dtype, requires_grad=False)

    def to(self, device_or_dtype):
        """``t.to('cpu'|'cuda'|dtype)``: move to a device or cast; returns a new leaf (``self``
        when nothing changes). 'cuda' needs CuPy and a GPU it can use (a clear error otherwise)."""
        if device_or_dtype in ("cpu", "numpy"):
            return self if type(self.data) is np.ndarray else Tensor(as_numpy(self.data), dtype=self.dtype)
        if isinstance(device_or_dtype, str) and device_or_dtype.split(":")[0] in ("gpu", "cuda", "cupy"):
            return Tensor(to_gpu(self.data, "Tensor.to"), dtype=self.dtype)
        return self.astype(device_or_dtype)

    @property
    def xp(self):
        return get_array_module(self.data)


def tensor(data, requires_grad=False, dtype=None):
    """Make a leaf tensor; floating input takes the default dtype (float32) unless ``dtype`` says."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(x, like=None):
    """``x`` as a Tensor. Plain numbers and floating arrays take the dtype of ``like`` (no float32 ->
    float64 upcast); integer and boolean arrays (labels, masks) keep theirs."""
    if isinstance(x, Tensor):
        return x
    if like is not None and like.data.dtype.kind == "f":
        if isinstance(x, (bool, int, float)) or (is_array(x) and x.dtype.kind == "f"):
            xp = get_array_module(like.data)
            return Tensor._wrap(xp.asarray(x, dtype=like.data.dtype))
        if is_array(x):  # integer/bool arrays (class labels, masks) keep their dtype
            return Tensor._wrap(x)
    return Tensor(x)


def to_gpu(arr, who):
    """``arr`` on the GPU through CuPy; a RuntimeError naming ``who`` and the problem when CuPy
    is missing or finds no usable GPU."""
    try:
        return as_cupy(arr)
    except Exception as e:  # ours (no CuPy), or CuPy's CUDARuntimeError and friends (no GPU)
        if "CuPy is not installed" in str(e):
            raise RuntimeError(f"{who}('cuda'): {e}") from None
        raise RuntimeError(f"{who}('cuda'): CuPy found no usable GPU ({type(e).__name__}: {e}); "
                           "check the NVIDIA driver and CUDA_VISIBLE_DEVICES, or stay on 'cpu'") from None
