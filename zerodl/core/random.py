"""The random generators zerodl uses, seeded together by ``manual_seed``."""
import random as _pyrandom

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed every generator zerodl draws from (initialisers, dropout, shuffling)."""
    global _rng
    _rng = np.random.default_rng(seed)
    np.random.seed(seed % (2**32))
    _pyrandom.seed(seed)
    return _rng


def get_rng():
    """The ``numpy.random.Generator`` used by initialisers and dropout."""
    return _rng


def get_rng_state():
    """JSON-able state of the generator (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    _rng.bit_generator.state = state
