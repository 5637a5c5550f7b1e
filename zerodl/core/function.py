"""``Function``: one op of the graph, its ``forward`` and ``backward`` on raw arrays side by side.

Subclasses implement ``forward(*arrays) -> array | tuple`` and
``backward(*grads_of_outputs) -> grad | tuple`` (one entry per input, ``None`` where an input
needs no gradient: ``self.needs_grad(i)`` tells). Calling an instance on tensors runs forward
and, when gradients are wanted, records the node.
"""
import weakref

from .config import Config
from .tensor import Tensor, as_tensor


class Function:
    inputs = None
    outputs = ()

    def __call__(self, *inputs):
        # Plain loops rather than all()/any() generators: this runs for every op.
        wants_grad = False
        for x in inputs:
            if not isinstance(x, Tensor):
                like = next((x for x in inputs if isinstance(x, Tensor)), None)
                inputs = [x if isinstance(x, Tensor) else as_tensor(x, like) for x in inputs]
                wants_grad = any(x.requires_grad for x in inputs)
                break
            if x.requires_grad:
                wants_grad = True
        ys = self.forward(*[x.data for x in inputs])
        if type(ys) is tuple:
            outputs = tuple(Tensor._wrap(y) for y in ys)
        else:
            outputs = Tensor._wrap(ys)
        if wants_grad and Config.enable_backprop:
            self.inputs = inputs
            if type(outputs) is tuple:
                self.outputs = [weakref.ref(o) for o in outputs]
                self._output_meta = [(o.data.shape, o.data.dtype) for o in outputs]
                for o in outputs:
                    o.creator = self
                    o.requires_grad = True
            else:
                self.outputs = (weakref.ref(outputs),)
                outputs.creator = self
                outputs.requires_grad = True
        return outputs

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError

    def needs_grad(self, i):
        """Whether input ``i`` wants a gradient (lets backward skip needless work)."""
        return self.inputs[i].requires_grad

    def _fill_missing(self, gys):
        """Zeros for outputs that received no gradient (only multi-output ops can have some)."""
        if all(g is not None for g in gys):
            return gys
        from .backend import get_array_module

        xp = get_array_module(self.inputs[0].data)
        return [g if g is not None else xp.zeros(s, d) for g, (s, d) in zip(gys, self._output_meta)]

    def release(self):
        """Drop everything saved for backward (called after backward unless retain_graph)."""
        self.__dict__.clear()
        self.inputs = None

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}>"
