"""AdaGrad and RMSprop, with PyTorch's update rules.

AdaGrad (``torch.optim.Adagrad``; eps = 1e-10 as PyTorch, where the book adds 1e-7)::

    g = g + weight_decay * p                    (if weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)         (t counts this parameter's steps)
    sum = sum + g * g                           (sum starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(sum) + eps)

RMSprop (``torch.optim.RMSprop``; note eps is added OUTSIDE the square root)::

    g = g + weight_decay * p                    (if weight_decay)
    square_avg = alpha * square_avg + (1 - alpha) * g * g
    avg = sqrt(square_avg - grad_avg**2)  if centered (grad_avg = alpha*grad_avg + (1-alpha)*g)
          sqrt(square_avg)                otherwise
    avg = avg + eps
    buf = momentum * buf + g / avg; p = p - lr * buf    if momentum > 0
    p = p - lr * g / avg                                 otherwise
"""
import numpy as np

from .optimizer import Optimizer, zeros_like


class AdaGrad(Optimizer):
    """``AdaGrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
            ),
        )

    def _check_group(self, group):
        super()._check_group(group)
        self._check_nonnegative(group, "lr_decay", "initial_accumulator_value", "eps")

    def _step_group(self, group):
        lr = group["lr"]
        wd = group["weight_decay"]
        eps = group["eps"]
        decay = group["lr_decay"]
        init = group["initial_accumulator_value"]
        state = self.state
        for p, g, d in self._updates(group):
            st = state.get(p)
            if st is None:
                s = zeros_like(d)
                if init:
                    s += init
                st = state[p] = {"step": 0, "sum": s}
            st["step"] += 1
            g = self._with_weight_decay(g, d, wd)
            clr = lr / (1.0 + (st["step"] - 1) * decay)
            s = st["sum"]
            tmp = self._buffer(d)
            np.multiply(g, g, out=tmp)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            tmp *= clr
            d -= tmp


class RMSprop(Optimizer):
    """``RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(
            params,
            dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered),
        )

    def _check_group(self, group):
        super()._check_group(group)
        if not 0 <= group["alpha"] <= 1:
            raise ValueError(f"RMSprop: invalid alpha {group['alpha']!r} (must be in [0, 1])")
        self._check_nonnegative(group, "eps", "momentum")

    def _step_group(self, group):
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        wd = group["weight_decay"]
        mu = group["momentum"]
        centered = group["centered"]
        state = self.state
        for p, g, d in self._updates(group):
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "square_avg": zeros_like(d)}
                if mu:
                    st["momentum_buffer"] = zeros_like(d)
                if centered:
                    st["grad_avg"] = zeros_like(d)
            st["step"] += 1
            g = self._with_weight_decay(g, d, wd)
            sq = st["square_avg"]
            tmp = self._buffer(d)
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - alpha
            sq *= alpha
            sq += tmp
            if centered:
                ga = st["grad_avg"]
                ga *= alpha
                np.multiply(g, 1.0 - alpha, out=tmp)
                ga += tmp
                np.multiply(ga, ga, out=tmp)
                np.subtract(sq, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(sq, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            if mu:
                buf = st["momentum_buffer"]
                buf *= mu
                buf += tmp
                np.multiply(buf, lr, out=tmp)
            else:
                tmp *= lr
            d -= tmp
