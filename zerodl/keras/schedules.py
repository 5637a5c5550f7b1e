"""``keras.optimizers.schedules``: learning rates as a function of the training step, as Keras
(``ExponentialDecay``, ``PiecewiseConstantDecay``, ``CosineDecay``, ``InverseTimeDecay``).
An optimizer given one as ``learning_rate`` has its rate set before every step by ``fit``."""
import math

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay",
           "InverseTimeDecay"]


class LearningRateSchedule:
    """``schedule(step) -> learning rate`` (step counts the optimizer's updates from 0)."""

    def __call__(self, step):
        raise NotImplementedError


class ExponentialDecay(LearningRateSchedule):
    """``initial * decay_rate ** (step / decay_steps)`` (floored exponent with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial, self.decay_steps, self.decay_rate = float(initial_learning_rate), decay_steps, decay_rate
        self.staircase = staircase

    def __call__(self, step):
        e = step / self.decay_steps
        return self.initial * self.decay_rate ** (math.floor(e) if self.staircase else e)


class InverseTimeDecay(ExponentialDecay):
    """``initial / (1 + decay_rate * step / decay_steps)``."""

    def __call__(self, step):
        e = step / self.decay_steps
        return self.initial / (1 + self.decay_rate * (math.floor(e) if self.staircase else e))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``step <= boundaries[i]`` (then ``values[-1]``)."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay: values needs one more entry than boundaries")
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]


class CosineDecay(LearningRateSchedule):
    """Cosine from ``initial`` to ``initial * alpha`` over ``decay_steps`` (after an optional
    linear warm-up to ``warmup_target`` over ``warmup_steps``), as Keras 3."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None, warmup_target=None,
                 warmup_steps=0):
        self.initial, self.decay_steps, self.alpha = float(initial_learning_rate), decay_steps, alpha
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        start = self.initial
        if self.warmup_target is not None:
            if step < self.warmup_steps:
                return self.initial + (self.warmup_target - self.initial) * step / self.warmup_steps
            start, step = self.warmup_target, step - self.warmup_steps
        t = min(step, self.decay_steps) / self.decay_steps
        return start * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * t)) + self.alpha)
