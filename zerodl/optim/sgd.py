"""SGD (PyTorch's, with momentum / Nesterov / weight decay) and the book's Momentum.

PyTorch's SGD, for each parameter ``p`` with gradient ``g``::

    g = g + weight_decay * p                       (if weight_decay)
    buf = g                     on the first step  (if momentum)
    buf = momentum * buf + (1 - dampening) * g     afterwards
    g = g + momentum * buf  if nesterov  else  buf
    p = p - lr * g

The book's Momentum (deep-learning-from-scratch ``common/optimizer.py``)::

    v = momentum * v - lr * g       (v starts at 0)
    p = p + v
"""
import numpy as np

from .optimizer import Optimizer, zeros_like


class SGD(Optimizer):
    """Stochastic gradient descent: ``SGD(params, lr, momentum=0.0, nesterov=False, weight_decay=0.0)``.

    ``dampening`` (default 0) is PyTorch's; Nesterov needs ``momentum > 0`` and no dampening.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening),
        )

    def _check_group(self, group):
        super()._check_group(group)
        self._check_nonnegative(group, "momentum", "dampening")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")

    def _step_group(self, group):
        lr = group["lr"]
        mu = group["momentum"]
        wd = group["weight_decay"]
        damp = group["dampening"]
        nesterov = group["nesterov"]
        if not (mu or wd):  # plain SGD, the common case: one temporary, nothing else
            for p, g, d in self._updates(group):
                d -= lr * g
            return
        state = self.state
        for p, g, d in self._updates(group):
            scratch = bool(wd)  # g is then a scratch buffer that may be scaled in place
            g = self._with_weight_decay(g, d, wd)
            if mu:
                st = state.get(p)
                if st is None:
                    st = state[p] = {}
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = g.astype(d.dtype, copy=True)
                else:
                    buf *= mu
                    if damp:
                        tmp = self._buffer(d)
                        np.multiply(g, 1.0 - damp, out=tmp)
                        buf += tmp
                    else:
                        buf += g
                if nesterov:
                    tmp = self._buffer(d)
                    np.multiply(buf, mu, out=tmp)
                    tmp += g
                    g, scratch = tmp, True
                else:
                    g, scratch = buf, False
            if scratch:
                g *= lr
                d -= g
            else:
                tmp = self._buffer(d)
                np.multiply(g, lr, out=tmp)
                d -= tmp


class Momentum(Optimizer):
    """The book's momentum SGD: ``v = momentum * v - lr * g; p += v``.

    (Equivalent to PyTorch's SGD with momentum only while lr is constant: there the
    learning rate multiplies the buffer at use, here it is folded into ``v``.)
    """

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def _check_group(self, group):
        super()._check_group(group)
        self._check_nonnegative(group, "momentum")

    def _step_group(self, group):
        lr = group["lr"]
        mu = group["momentum"]
        state = self.state
        for p, g, d in self._updates(group):
            st = state.get(p)
            if st is None:
                st = state[p] = {"v": zeros_like(d)}
            v = st["v"]
            tmp = self._buffer(d)
            np.multiply(g, lr, out=tmp)
            v *= mu
            v -= tmp
            d += v
