"""``History`` lives in ``zerodl.callbacks`` (``callbacks/base.py``); this name is kept for old imports."""
from ..callbacks.base import History

__all__ = ["History"]
