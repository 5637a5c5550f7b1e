"""Keras optimizer names. Keras makes an optimizer before the model has weights, so these are
recipes that become ``zerodl.optim`` optimizers when ``fit`` knows the parameters."""
from .. import optim


class KerasOptimizer:
    def __init__(self, learning_rate, **kwargs):
        self.learning_rate = learning_rate
        self.kwargs = kwargs

    def build(self, params):
        raise NotImplementedError


class Adam(KerasOptimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None):
        # Keras's weight_decay is decoupled from the gradient: AdamW's rule.
        self._decoupled = bool(weight_decay)
        decay = {"weight_decay": weight_decay} if weight_decay else {}
        super().__init__(learning_rate, betas=(beta_1, beta_2), eps=epsilon, amsgrad=amsgrad, **decay)

    def build(self, params):
        cls = optim.AdamW if self._decoupled else optim.Adam
        return cls(params, lr=self.learning_rate, **self.kwargs)


class SGD(KerasOptimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None):
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay or 0.0)

    def build(self, params):
        return optim.SGD(params, lr=self.learning_rate, **self.kwargs)


class RMSprop(KerasOptimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(learning_rate, alpha=rho, eps=epsilon, momentum=momentum, centered=centered)

    def build(self, params):
        return optim.RMSprop(params, lr=self.learning_rate, **self.kwargs)


NAMES = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop}


def get(spec):
    """An optimizer recipe from a name ('adam'), a recipe, or a ready zerodl optimizer."""
    if isinstance(spec, str):
        optim.names.keras_defaults(spec)  # the shared name table (zerodl.optim.names): unknown names
        if spec.lower() not in NAMES:
            raise ValueError(f"unknown optimizer {spec!r}; choose one of {', '.join(NAMES)}")
        return NAMES[spec.lower()]()  # signature defaults == optim.names.KERAS_DEFAULTS (tested)
    return spec
