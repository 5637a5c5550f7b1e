"""Adam and AdamW, with PyTorch's update rules (``torch.optim.Adam`` / ``torch.optim.AdamW``).

For each parameter ``p`` with gradient ``g``, at its step ``t`` (1, 2, ...)::

    p = p * (1 - lr * weight_decay)             AdamW only (decoupled weight decay)
    g = g + weight_decay * p                    Adam only, if weight_decay (L2 penalty)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_hat = max(v_hat, v) if amsgrad else v
    p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

The last line is computed as ``p -= c * m / (sqrt(v_hat) + eps * sqrt(1 - beta2**t))`` with
``c = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``: the same value, one pass fewer. Every pass
writes into an existing array (state or one scratch buffer), so a step allocates nothing.
"""
import numpy as np

from ..functions._util import fast_array, fast_module, over_batch
from .optimizer import Optimizer, _bias_corrections, zeros_like


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)``."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_group(self, group):
        super()._check_group(group)
        name = type(self).__name__
        betas = group["betas"] = tuple(float(b) for b in group["betas"])
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: invalid betas {betas!r} (two numbers in [0, 1))")
        self._check_nonnegative(group, "eps")

    def _step_group(self, group):
        lr = group["lr"]
        b1, b2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        decoupled = self._decoupled
        state = self.state
        buffer = self._buffer
        for p, g, d in self._updates(group):
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "exp_avg": zeros_like(d), "exp_avg_sq": zeros_like(d)}
                if amsgrad:
                    st["max_exp_avg_sq"] = zeros_like(d)
            t = st["step"] = st["step"] + 1
            m = st["exp_avg"]
            v = st["exp_avg_sq"]
            if wd:
                if decoupled:
                    d *= 1.0 - lr * wd
                else:
                    g = self._with_weight_decay(g, d, wd)
            if not amsgrad and d.ndim and fast_array(d, g, m, v):
                fast = fast_module("optim._fast_adam")
                if fast is not None:  # the same operations in one pass: see _fast_adam
                    bc1, sbc2 = _bias_corrections(b1, b2, t)
                    f = d.dtype.type
                    flat = [a.reshape(-1) for a in (d, g, m, v)]
                    coefficients = (f(b1), f(1.0 - b1)), (f(b2), f(1.0 - b2)), f(eps * sbc2), f(lr * sbc2 / bc1)
                    # element by element, so any split gives the same bits: large ones on the pool
                    over_batch(lambda s: fast.adam_update(*(a[s] for a in flat), *coefficients), flat[0])
                    continue
            tmp = buffer(d)
            # m = b1 * m + (1 - b1) * g
            np.multiply(g, 1.0 - b1, out=tmp)
            m *= b1
            m += tmp
            # v = b2 * v + (1 - b2) * g * g
            np.multiply(g, 1.0 - b2, out=tmp)
            tmp *= g
            v *= b2
            v += tmp
            if amsgrad:
                vmax = st["max_exp_avg_sq"]
                np.maximum(vmax, v, out=vmax)
                v = vmax
            bc1, sbc2 = _bias_corrections(b1, b2, t)
            np.sqrt(v, out=tmp)
            tmp += eps * sbc2
            np.divide(m, tmp, out=tmp)
            tmp *= lr * sbc2 / bc1
            d -= tmp


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)``:
    Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam step)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
