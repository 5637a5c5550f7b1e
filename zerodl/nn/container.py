"""Containers: ``Sequential`` (a chain of layers) and ``ModuleList`` (a registered list)."""
from .module import Module, module_from_config, module_to_config

__all__ = ["Sequential", "ModuleList"]


def _layers_arg(owner, layers):
    if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
        layers = tuple(layers[0])
    for i, m in enumerate(layers):
        if not isinstance(m, Module):
            raise TypeError(f"{owner}: item {i} is a {type(m).__name__}, not an nn.Module")
    return layers


class _ListLike(Module):
    """Children named '0', '1', ...; indexable (int and slice), len, iteration, append."""

    def __init__(self, *layers):
        super().__init__()
        for m in _layers_arg(type(self).__name__, layers):
            self.append(m)

    def append(self, module):
        """Add ``module`` at the end (named by its position); returns ``self``."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.append: expected an nn.Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def _items(self):
        return list(self._modules.values())

    def __getitem__(self, index):
        items = self._items()
        if isinstance(index, slice):
            return type(self)(*items[index])
        try:
            return items[index]
        except IndexError:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range ({len(items)} layers)") from None

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._items())

    def get_config(self):
        """``{"layers": [each child's module_to_config]}``.

        A subclass with its own constructor also gets its other recorded JSON-able arguments
        (non-JSON-able ones, such as a list of layers, are left out: the children stand for them).
        """
        config = {}
        if type(self).__init__ is not _ListLike.__init__:
            recorded = self.__dict__.get("_init_config")
            if recorded is not None and recorded[0]:
                config = {k: v for k, v in recorded[0].items() if k != "layers"}
        config["layers"] = [module_to_config(m) for m in self]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layers = [module_from_config(c) for c in config.pop("layers", None) or []]
        if cls.__init__ is _ListLike.__init__:
            return cls(*layers)
        obj = cls(**config)  # a subclass: its own arguments, then the children in order
        for name in list(obj._modules):
            delattr(obj, name)
        return obj.extend(layers)


class Sequential(_ListLike):
    """Apply layers one after the other: ``nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(10))``.

    Also accepts one list of layers. Children are named '0', '1', ... (parameters '0.W',
    '0.b', ...). ``model[i]`` is a layer, ``model[a:b]`` a new Sequential sharing those layers;
    ``len``, iteration and ``append`` work as for a list. Its config lists its layers' configs.

    Shapes: the input shape of the first layer -> the output shape of the last.
    """

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def _input_dtype(self):
        first = next(iter(self._modules.values()), None)
        return first._input_dtype() if first is not None else None


class ModuleList(_ListLike):
    """A list of modules whose parameters are registered (for models with their own ``forward``).

    Not callable itself: iterate over it in the owner's ``forward``.
    """

    def forward(self, *args, **kwargs):
        raise TypeError("ModuleList is not callable: iterate over it in your forward()")
