"""``Module.copy()``: an independent copy of a module, for EMA weights or a target network.

``copy.deepcopy(module)`` works as in PyTorch (a ``Parameter`` deep-copies to a new Parameter
with its own array and gradient); ``module.copy()`` is the same without the gradients, the
usual start of a target network::

    target = q_net.copy()                  # same weights, nothing shared
    with zd.no_grad():                     # EMA: target <- decay * target + (1 - decay) * online
        for t, p in zip(target.parameters(), online.parameters()):
            t.data *= decay
            t.data += (1 - decay) * p.data
"""
import copy

__all__ = ["copy_module"]


def copy_module(module):
    """A deep copy of ``module``: parameters and buffers as new arrays with the same values,
    dtypes and device, the same structure, configuration and training mode, no gradients.
    Changing one never changes the other."""
    new = copy.deepcopy(module)
    for p in new.parameters():
        p.grad = None
    return new
