"""Text generation from a language model: sampling with temperature and top-k."""
import numpy as np

from ..core import get_rng, no_grad
from ..core.backend import as_numpy

__all__ = ["sample_next", "generate"]


def sample_next(logits, temperature=1.0, top_k=None, rng=None):
    """One id drawn from ``softmax(logits / temperature)`` (logits (V,)), restricted to the
    ``top_k`` largest logits if given. ``temperature=0`` picks the argmax (greedy)."""
    z = np.asarray(as_numpy(logits), dtype=np.float64).ravel()
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature!r}")
    if top_k is not None and not 1 <= int(top_k) <= z.size:
        raise ValueError(f"sample_next: top_k must be in [1, {z.size}], got {top_k!r}")
    if temperature == 0:
        return int(np.argmax(z))
    z = z / temperature
    if top_k is not None and top_k < z.size:
        cut = np.partition(z, z.size - top_k)[z.size - top_k]
        z = np.where(z >= cut, z, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    rng = get_rng() if rng is None else rng
    return int(rng.choice(z.size, p=p))


def generate(model, prefix_ids, length, temperature=1.0, top_k=None, rng=None, stop_id=None):
    """``length`` ids sampled from ``model`` (an ``RNNLM``) after feeding ``prefix_ids`` (at least
    one id); stops early after ``stop_id``. Returns the new ids (a list, prefix not included)."""
    prefix = np.asarray(prefix_ids, dtype=np.int64).ravel()
    if prefix.size == 0:
        raise ValueError("generate: prefix_ids must hold at least one id")
    model.eval()
    out = []
    with no_grad():
        logits = model(prefix[None, :])
        for _ in range(int(length)):
            nxt = sample_next(logits.data[0, -1], temperature, top_k, rng)
            out.append(nxt)
            if stop_id is not None and nxt == stop_id:
                break
            logits = model(np.array([[nxt]], dtype=np.int64), model.rnn.state)
    model.train()
    return out
