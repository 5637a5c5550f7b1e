"""``keras.optimizers``: Keras's names, arguments and defaults. Keras makes an optimizer before
the model has weights, so these are recipes that become ``zerodl.optim`` optimizers when
``fit`` knows the parameters (``build(params)``); ``learning_rate`` reads and sets the built
optimizer's rate. The legacy ``lr=`` is accepted (Keras 2 scripts)."""
from .. import optim
from . import schedules
from .schedules import LearningRateSchedule

__all__ = ["schedules", "Optimizer", "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "get"]


class Optimizer:
    zerodl_class = None

    def __init__(self, learning_rate, lr=None, global_clipnorm=None, **kwargs):
        rate = lr if lr is not None else learning_rate
        self.schedule = rate if isinstance(rate, LearningRateSchedule) else None  # fit sets the rate per step
        self._lr = float(rate(0) if self.schedule else rate)
        self.global_clipnorm = global_clipnorm  # fit clips the gradients' global norm to it
        self.kwargs = kwargs
        self.built_optimizer = None

    @property
    def learning_rate(self):
        opt = self.built_optimizer
        return float(opt.lr) if opt is not None else self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = float(value)
        if self.built_optimizer is not None:
            self.built_optimizer.lr = float(value)

    lr = learning_rate

    def build(self, params):
        self.built_optimizer = self.zerodl_class(params, lr=self._lr, **self.kwargs)
        return self.built_optimizer

    def get_config(self):
        return {"learning_rate": self.learning_rate}


class Adam(Optimizer):
    zerodl_class = optim.Adam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, lr=None, **kwargs):
        # Keras's weight_decay is decoupled from the gradient: AdamW's rule.
        decay = {"weight_decay": weight_decay} if weight_decay else {}
        if weight_decay:
            self.zerodl_class = optim.AdamW
        super().__init__(learning_rate, lr, kwargs.get("global_clipnorm"), betas=(beta_1, beta_2), eps=epsilon,
                         amsgrad=amsgrad, **decay)


class AdamW(Adam):
    zerodl_class = optim.AdamW

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, lr=None, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, lr)


class SGD(Optimizer):
    zerodl_class = optim.SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, lr=None, **kwargs):
        super().__init__(learning_rate, lr, kwargs.get("global_clipnorm"), momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay or 0.0)


class RMSprop(Optimizer):
    zerodl_class = optim.RMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, lr=None, **kwargs):
        super().__init__(learning_rate, lr, kwargs.get("global_clipnorm"), alpha=rho, eps=epsilon, momentum=momentum,
                         centered=centered)


class Adagrad(Optimizer):
    zerodl_class = optim.AdaGrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, lr=None, **kwargs):
        super().__init__(learning_rate, lr, kwargs.get("global_clipnorm"),
                         initial_accumulator_value=initial_accumulator_value, eps=epsilon)


NAMES = {"adam": Adam, "adamw": AdamW, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(spec):
    """An optimizer recipe from a name ('adam'), a recipe, or a ready zerodl optimizer."""
    if isinstance(spec, str):
        optim.names.keras_defaults(spec)  # the shared name table (zerodl.optim.names) refuses unknown names
        return NAMES[spec.lower()]()  # signature defaults == optim.names.KERAS_DEFAULTS (tested)
    if isinstance(spec, type) and issubclass(spec, Optimizer):
        return spec()
    return spec
