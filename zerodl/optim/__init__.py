"""``zerodl.optim``: optimizers (PyTorch's update rules), gradient clipping, lr schedules.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss.backward(); optim.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad()

Every optimizer updates ``p.data`` in place from ``p.grad`` and skips parameters whose grad is
None or whose ``requires_grad`` is False. See ``optimizer.py`` for the ``state_dict`` format.
"""
from . import lr_scheduler, names
from .adam import Adam, AdamW
from .adaptive import AdaGrad, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .sgd import SGD, Momentum

Adagrad = AdaGrad  # PyTorch's spelling

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "AdaGrad",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
    "names",
]
