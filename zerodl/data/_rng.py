"""Random generators for the data package (NumPy only)."""

from __future__ import annotations

import numpy as np


def make_rng(seed, where: str) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed``.

    ``seed`` may be an int, a ``numpy.random.Generator`` (used as is) or None.
    With None the generator is seeded from NumPy's global legacy RNG
    (``np.random``), so seeding that (``np.random.seed``, which
    ``zd.manual_seed`` does) makes "unseeded" loaders and splits reproducible.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
    elif isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{where}: seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    elif seed < 0:
        raise ValueError(f"{where}: seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))
