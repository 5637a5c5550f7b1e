"""The material's Keras CNN (/work/shared/material 001: "CNNをPythonで実装"): KCNN (training
steps) and KFIT (one epoch through each framework's Keras-style ``fit``).

    Conv2D(32, (3, 3), relu, input 28x28x1) - MaxPooling2D(2) - Conv2D(64, (3, 3), relu) -
    MaxPooling2D(2) - Conv2D(64, (3, 3), relu) - Flatten - Dense(64, relu) - Dense(10, softmax)

compiled as the material's MNIST scripts are: Adam (1e-3, Keras's default rate), categorical
cross entropy on one-hot labels; batch 100. Spatial sizes 28 -> 26 -> 13 -> 11 -> 5 -> 3, so
64*3*3 = 576 features.

Frameworks (names for ``--frameworks``):

- ``zerodl``: ``zerodl.nn`` (NCHW), the natural step (``F.softmax_cross_entropy`` on the
  logits: the same value and gradient as softmax + categorical cross entropy).
- ``zdkeras``: ``zerodl.keras``, channels-last (N, 28, 28, 1) as Keras, ``compile`` + ``fit``.
- ``torch``: ``torch.nn``, its natural step.
- ``tf``: TensorFlow's Keras 3, the same script as ``zdkeras`` with ``import keras``.

KCNN's unit is ``--samples`` samples in steps of 100 (consecutive slices of the once-shuffled
training set). The Keras-style frameworks run those steps the way Keras users do, as one
``fit(x, y, batch_size=100, epochs=1, shuffle=False, verbose=0)`` per unit (TF's compiled
train step; warm-up compiles it); zerodl and PyTorch run their own loop of steps.
KFIT's unit is one epoch of ``fit`` on ``--fit-samples`` samples (default 60,000: all of
MNIST's training set), shuffled as ``fit`` does, ``verbose=0``: ``zerodl`` (``nn`` model's
``compile("adam", "cross_entropy")`` + ``fit``), ``zdkeras`` and ``tf``. A warm-up ``fit`` of
five batches runs before the memory baseline's build is timed.
"""
from __future__ import annotations

import numpy as np

from bench.data import load_mnist
from bench.workloads.base import Options, Workload, conv_flops, conv_out, linear_flops, training_flops
from bench.workloads.trainers import torch_trainer, zerodl_trainer

# (filters, pooled after) of the three 3x3 'valid' convolutions
CONVS = [(32, True), (64, True), (64, False)]
HIDDEN, CLASSES = 64, 10
BATCH, LR = 100, 1e-3
FIT_WARMUP_BATCHES = 5


def _shapes():
    """Per conv: (c_in, c_out, out_size); and the flattened size."""
    c, size, out = 1, 28, []
    for c_out, pooled in CONVS:
        size = conv_out(size, 3)
        out.append((c, c_out, size))
        c = c_out
        if pooled:
            size //= 2
    return out, c * size * size


CONV_SHAPES, FLAT = _shapes()  # FLAT == 576


def nn_layers(nn):
    """The network for zerodl.nn and torch.nn (the same names and signatures); logits out."""
    layers = []
    for (c_in, c_out, _), (_, pooled) in zip(CONV_SHAPES, CONVS):
        layers += [nn.Conv2d(c_in, c_out, 3), nn.ReLU()]
        if pooled:
            layers.append(nn.MaxPool2d(2, 2))
    layers += [nn.Flatten(), nn.Linear(FLAT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES)]
    return nn.Sequential(*layers)


def keras_model(keras, softmax=True):
    """The material's model for Keras 3 or zerodl.keras (``keras`` is the module), compiled.
    ``softmax=False`` ends in logits instead (the profiler's step takes those)."""
    layers = keras.layers
    stack = [keras.Input(shape=(28, 28, 1))]
    for c_out, pooled in CONVS:
        stack.append(layers.Conv2D(c_out, (3, 3), activation="relu"))
        if pooled:
            stack.append(layers.MaxPooling2D((2, 2)))
    stack += [layers.Flatten(), layers.Dense(HIDDEN, activation="relu"),
              layers.Dense(CLASSES, activation="softmax" if softmax else None)]
    model = keras.Sequential(stack)
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def one_hot(t):
    out = np.zeros((len(t), CLASSES), np.float32)
    out[np.arange(len(t)), t] = 1
    return out


def channels_last(x):
    """(N, 1, 28, 28) -> (N, 28, 28, 1): the same memory, as one channel has no order."""
    return x.reshape(len(x), 28, 28, 1)


# --- the Keras-style frameworks ------------------------------------------------------------

def _keras_module(framework):
    if framework == "tf":
        import keras
        return keras
    import zerodl.keras as keras
    return keras


def _seed(framework, seed):
    if framework == "tf":
        import keras
        keras.utils.set_random_seed(seed)
    else:
        import zerodl as zd
        zd.manual_seed(seed)


def _history_loss(history):
    return float(history.history["loss"][-1])


def _keras_steps(framework, data, opts):
    """KCNN for zdkeras/tf: each unit is one fit over the next n batches (no shuffling)."""
    _seed(framework, opts.seed)
    model = keras_model(_keras_module(framework))
    x, y = channels_last(data.x_train), one_hot(data.t_train)
    state = {"start": 0}

    def run(n):
        start = state["start"]
        if start + n * BATCH > len(x):
            start = 0
        state["start"] = start + n * BATCH
        s = slice(start, start + n * BATCH)
        return _history_loss(model.fit(x[s], y[s], batch_size=BATCH, epochs=1, shuffle=False, verbose=0))

    return run


def _fit_epochs(model, x, y):
    """KFIT's runner: ``run(n)`` fits n epochs (n = 0 for the child's warm-up: nothing to do,
    the warm-up fit ran when the model was built)."""
    model.fit(x[:FIT_WARMUP_BATCHES * BATCH], y[:FIT_WARMUP_BATCHES * BATCH], batch_size=BATCH, epochs=1,
              verbose=0)

    def run(n):
        loss = None
        for _ in range(n):
            loss = _history_loss(model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0))
        return loss

    return run


def _fit_keras(framework, data, opts):
    _seed(framework, opts.seed)
    model = keras_model(_keras_module(framework))
    n = opts.fit_samples
    return _fit_epochs(model, channels_last(data.x_train[:n]), one_hot(data.t_train[:n]))


def _fit_zerodl(data, opts):
    import zerodl as zd
    import zerodl.nn as nn

    zd.manual_seed(opts.seed)
    model = nn_layers(nn)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])  # Adam(1e-3)
    n = opts.fit_samples
    return _fit_epochs(model, data.x_train[:n], data.t_train[:n])


# --- builders ------------------------------------------------------------------------------

def build_steps(framework, data, opts: Options):
    if framework == "zerodl":
        import zerodl.nn as nn
        return zerodl_trainer(lambda: nn_layers(nn), data.x_train, data.t_train, opts.seed, BATCH, LR)
    if framework == "torch":
        from torch import nn
        return torch_trainer(lambda: nn_layers(nn), data.x_train, data.t_train, opts.seed, BATCH, LR)
    return _keras_steps(framework, data, opts)


def build_fit(framework, data, opts: Options):
    if framework == "zerodl":
        return _fit_zerodl(data, opts)
    return _fit_keras(framework, data, opts)


def forward_flops(batch):
    return ([conv_flops(batch, c_in, c_out, 3, s, s) for c_in, c_out, s in CONV_SHAPES]
            + [linear_flops(batch, FLAT, HIDDEN), linear_flops(batch, HIDDEN, CLASSES)])


def _load(opts):
    return load_mnist(opts.data_dir, opts.seed)


TITLE = "the material's Keras CNN (conv32-pool-conv64-pool-conv64-fc64-fc10), Adam, batch 100"

KCNN = Workload(
    key="KCNN",
    title=TITLE,
    frameworks=("zerodl", "zdkeras", "torch", "tf"),
    targets={"torch": 1.0, "tf": 1.0},  # TensorFlow: the stretch goal, recorded either way
    load=_load,
    build=build_steps,
    batches=lambda opts: opts.samples // BATCH,
    unit=lambda opts: f"{opts.samples // BATCH * BATCH:,} samples (steps of 100; Keras: one fit)",
    flops_per_batch=training_flops(forward_flops(BATCH)),
    warmup=3,
)

KFIT = Workload(
    key="KFIT",
    title=TITLE + ", one epoch of Keras-style fit",
    frameworks=("zerodl", "zdkeras", "tf"),
    targets={"zdkeras/tf": 1.0},
    load=_load,
    build=build_fit,
    batches=lambda opts: 1,
    unit=lambda opts: f"1 epoch of fit, {min(opts.fit_samples, 60_000):,} samples",
    flops_per_batch=0.0,  # set per run: see flops_per_unit
    warmup=0,
    flops_per_unit=lambda opts: training_flops(forward_flops(BATCH)) * (opts.fit_samples // BATCH),
)
