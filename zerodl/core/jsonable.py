"""Plain JSON values from NumPy-flavoured ones (configs, RNG and loader states in files)."""
import numpy as np


def to_jsonable(x, strict=False):
    """``x`` with tuples as lists, NumPy scalars/arrays as Python numbers/lists, dtypes as names.

    Dict keys become strings. Anything else is returned as it is, or with ``strict=True``
    refused with ``TypeError(type name)`` (so callers can say which value is not JSON-able).
    """
    if x is None or isinstance(x, (bool, str, int, float)):
        return x
    if isinstance(x, dict):
        return {str(k): to_jsonable(v, strict) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v, strict) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return np.dtype(x).name
    if strict:
        raise TypeError(type(x).__name__)
    return x
