"""tflearn's optimizers with their defaults; ``regression(optimizer=...)`` takes one of these or
its name. ``lr_decay`` / ``decay_step`` / ``staircase`` (SGD, Momentum): TF's exponential decay,
``lr * lr_decay ** (step / decay_step)`` per training step (``floor`` of it with staircase)."""
import math

from .. import keras

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "RMSProp", "AdaGrad", "get"]


class Optimizer:
    def __init__(self, learning_rate, lr_decay=0.0, decay_step=100, staircase=False, name=None):
        self.learning_rate, self.lr_decay = float(learning_rate), float(lr_decay)
        self.decay_step, self.staircase = int(decay_step), bool(staircase)

    def rate(self, step):
        """The learning rate at training step ``step`` (0-based)."""
        if not self.lr_decay:
            return self.learning_rate
        e = step / self.decay_step
        return self.learning_rate * self.lr_decay ** (math.floor(e) if self.staircase else e)

    def keras(self, clip):
        raise NotImplementedError


class SGD(Optimizer):
    def __init__(self, learning_rate=0.001, lr_decay=0.0, decay_step=100, staircase=False, use_locking=False,
                 name="SGD"):
        super().__init__(learning_rate, lr_decay, decay_step, staircase)

    def keras(self, clip):
        return keras.optimizers.SGD(self.learning_rate, global_clipnorm=clip)


class Momentum(Optimizer):
    def __init__(self, learning_rate=0.001, momentum=0.9, lr_decay=0.0, decay_step=100, staircase=False,
                 use_locking=False, name="Momentum"):
        super().__init__(learning_rate, lr_decay, decay_step, staircase)
        self.momentum = momentum

    def keras(self, clip):
        return keras.optimizers.SGD(self.learning_rate, momentum=self.momentum, global_clipnorm=clip)


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False, name="Adam"):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def keras(self, clip):
        return keras.optimizers.Adam(self.learning_rate, beta_1=self.beta1, beta_2=self.beta2, epsilon=self.epsilon,
                                     global_clipnorm=clip)


class RMSProp(Optimizer):
    def __init__(self, learning_rate=0.001, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 name="RMSProp"):
        super().__init__(learning_rate)
        self.decay, self.momentum, self.epsilon = decay, momentum, epsilon

    def keras(self, clip):
        return keras.optimizers.RMSprop(self.learning_rate, rho=self.decay, momentum=self.momentum,
                                        epsilon=self.epsilon, global_clipnorm=clip)


class AdaGrad(Optimizer):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, use_locking=False, name="AdaGrad"):
        super().__init__(learning_rate)
        self.initial_accumulator_value = initial_accumulator_value

    def keras(self, clip):
        return keras.optimizers.Adagrad(self.learning_rate, initial_accumulator_value=self.initial_accumulator_value,
                                        epsilon=1e-7, global_clipnorm=clip)


NAMES = {"sgd": SGD, "momentum": Momentum, "adam": Adam, "rmsprop": RMSProp, "adagrad": AdaGrad}


def get(spec, learning_rate):
    """An optimizer from a name (with ``regression``'s ``learning_rate``) or an Optimizer."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in NAMES:
        return NAMES[spec.lower()](learning_rate=learning_rate)
    raise ValueError(f"tflearn.regression: unknown optimizer {spec!r}; choose one of {', '.join(NAMES)} "
                     "or a tflearn optimizer object")
