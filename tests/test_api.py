"""The public API contract (/work/shared/API.md), checked name by name.

Part 1 checks that every name in API.md exists at its import path with the stated parameter
names, order and defaults (``inspect.signature``; optional parameters after the listed ones are
allowed, and a default on a parameter the contract lists without one is allowed too: every call
written against the contract still works). Part 2 checks the behaviour API.md states explicitly,
where that is cheap. Keep the whole file fast (a few seconds).
"""
import gzip
import importlib
import inspect
import json
import math
import operator
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import DataLoader, Dataset, TensorDataset, datasets

PACKAGE_DIR = Path(zd.__file__).resolve().parent

# ============================================================================ signature helper
_EMPTY = inspect.Parameter.empty
_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _spec(text):
    """The parameters of the signature written as ``text`` (Python syntax). A default of ``...``
    means "the contract names the parameter but states no default": any default (or none) is fine."""
    return list(inspect.signature(eval(f"lambda {text}: None", {"np": np})).parameters.values())


def _params(obj):
    params = list(inspect.signature(obj).parameters.values())
    if params and params[0].name in ("self", "cls") and (inspect.isfunction(obj) or inspect.ismethod(obj)):
        params = params[1:]
    return params


def _same_default(want, got):
    if want is None or got is None or isinstance(want, bool) or isinstance(got, bool):
        return want is got
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, (int, float)) and math.isclose(want, got, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(want, tuple) and isinstance(got, (tuple, list)):
        return len(want) == len(got) and all(_same_default(a, b) for a, b in zip(want, got))
    return type(want) is type(got) and want == got


def signature_problems(obj, text, order="exact", loose=()):
    """What is wrong with ``obj``'s signature against the contract ``text`` (an empty list: nothing).

    order="exact": the listed parameters come first, in that order.
    order="relative": they appear in that relative order, other optional ones may sit between
    (the Keras facade: Keras's own signatures put e.g. ``strides`` before ``activation``).
    ``loose``: positional parameters whose name is not checked (only their position).
    """
    want = _spec(text)
    got = _params(obj)
    names = [p.name for p in got]
    problems = []
    positions = []
    for i, w in enumerate(want):
        if w.name in loose:
            if i >= len(got) or got[i].kind in _VAR or got[i].kind == inspect.Parameter.KEYWORD_ONLY:
                problems.append(f"no positional parameter #{i} (API: {w.name})")
                continue
            g = got[i]
        elif w.name not in names:
            problems.append(f"missing parameter {w.name!r}")
            continue
        else:
            g = got[names.index(w.name)]
        pos = names.index(g.name)
        positions.append(pos)
        if order == "exact" and pos != i:
            problems.append(f"{w.name!r} is parameter #{pos}, API.md has it #{i}")
        if w.kind != g.kind:
            problems.append(f"{w.name!r} is {g.kind.description}, API.md: {w.kind.description}")
        if w.default is not _EMPTY and w.default is not Ellipsis:
            if g.default is _EMPTY:
                problems.append(f"{w.name!r} has no default, API.md: {w.default!r}")
            elif not _same_default(w.default, g.default):
                problems.append(f"{w.name!r} defaults to {g.default!r}, API.md: {w.default!r}")
    if order == "relative" and positions != sorted(positions):
        problems.append(f"parameters out of the API's order: {names}")
    listed = {got[p].name for p in positions}
    for g in got:
        if g.name not in listed and g.kind not in _VAR and g.default is _EMPTY:
            problems.append(f"extra required parameter {g.name!r}")
    return problems


def _resolve(path):
    """``'zerodl.nn:LSTM.forward'`` -> the object (an AttributeError names what is missing)."""
    module, _, attrs = path.partition(":")
    obj = importlib.import_module(module)
    for a in attrs.split(".") if attrs else ():
        obj = getattr(obj, a)
    return obj


# (import path, contract signature, options). Straight from API.md, line by line; where API.md
# names a thing without a signature, PyTorch's (Keras's for zerodl.keras) is used when it is the
# obvious one, else only existence and callability are checked (signature None).
SIGNATURES = [
    # ---- Tensors and autograd
    ("zerodl:Tensor", "data, requires_grad=False", {}),
    ("zerodl:tensor", "data, requires_grad=False, dtype=None", {}),
    ("zerodl:Tensor.backward", "grad=None, retain_graph=False", {}),
    ("zerodl:Tensor.detach", "", {}),
    ("zerodl:Tensor.numpy", "", {}),
    ("zerodl:Tensor.item", "", {}),
    ("zerodl:Tensor.reshape", "*shape", {}),
    ("zerodl:Tensor.transpose", "*axes", {}),
    ("zerodl:Tensor.sum", "axis=None, keepdims=False", {}),
    ("zerodl:Tensor.mean", "axis=None, keepdims=False", {}),
    ("zerodl:Tensor.max", "axis=None, keepdims=False", {}),
    ("zerodl:Tensor.min", "axis=None, keepdims=False", {}),
    ("zerodl:Tensor.zero_grad", "", {}),
    # ---- 0.2: PyTorch's names on Tensor, and the constructors
    ("zerodl:Tensor.sum", "axis=None, keepdims=False, *, dim=None, keepdim=None", {}),
    ("zerodl:Tensor.max", "axis=None, keepdims=False, *, dim=None, keepdim=None", {}),
    ("zerodl:Tensor.permute", "*dims", {}),
    ("zerodl:Tensor.view", "*shape", {}),
    ("zerodl:Tensor.unsqueeze", "dim", {}),
    ("zerodl:Tensor.squeeze", "dim=None", {}),
    ("zerodl:Tensor.flatten", "start_dim=0, end_dim=-1", {}),
    ("zerodl:Tensor.argmax", "dim=None, keepdim=False", {}),
    ("zerodl:Tensor.argmin", "dim=None, keepdim=False", {}),
    *[(f"zerodl:Tensor.{n}", "", {}) for n in "numel clone float double long abs exp log sqrt zero_".split()],
    ("zerodl:Tensor.add_", "other, alpha=1", {}),
    ("zerodl:Tensor.mul_", "other", {}),
    ("zerodl:Tensor.copy_", "src", {}),
    ("zerodl:Tensor.clamp_", "min=None, max=None", {}),
    *[(f"zerodl:{n}", "*size, dtype=None, requires_grad=False", {}) for n in ("zeros", "ones", "randn", "rand")],
    ("zerodl:full", "size, fill_value, dtype=None", {}),
    ("zerodl:zeros_like", "t, dtype=None", {"loose": ("t",)}),
    ("zerodl:ones_like", "t, dtype=None", {"loose": ("t",)}),
    ("zerodl:arange", "start, end=None, step=1, dtype=None", {}),
    ("zerodl:from_numpy", "a", {"loose": ("a",)}),
    ("zerodl:as_tensor", "data, dtype=None", {}),
    ("zerodl:cat", "tensors, dim=0", {}),
    # ---- 0.2: zerodl.nn.functional's PyTorch names, the loss modules, Softmax(dim=)
    ("zerodl.nn.functional:cross_entropy",
     "input, target, weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0", {}),
    ("zerodl.nn.functional:nll_loss", "input, target, weight=None, ignore_index=-100, reduction='mean'", {}),
    ("zerodl.nn.functional:mse_loss", "input, target, reduction='mean'", {}),
    ("zerodl.nn.functional:l1_loss", "input, target, reduction='mean'", {}),
    ("zerodl.nn.functional:binary_cross_entropy", "input, target, weight=None, reduction='mean'", {}),
    ("zerodl.nn.functional:binary_cross_entropy_with_logits",
     "input, target, weight=None, reduction='mean', pos_weight=None", {}),
    ("zerodl.nn.functional:one_hot", "tensor, num_classes=-1", {}),
    ("zerodl.nn.functional:pad", "input, pad, mode='constant', value=0.0", {}),
    ("zerodl.nn.functional:log_softmax", "x, axis=-1, *, dim=None", {}),
    ("zerodl.nn:CrossEntropyLoss", "weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0", {}),
    ("zerodl.nn:NLLLoss", "weight=None, ignore_index=-100, reduction='mean'", {}),
    ("zerodl.nn:MSELoss", "reduction='mean'", {}),
    ("zerodl.nn:L1Loss", "reduction='mean'", {}),
    ("zerodl.nn:BCELoss", "weight=None, reduction='mean'", {}),
    ("zerodl.nn:BCEWithLogitsLoss", "weight=None, reduction='mean', pos_weight=None", {}),
    ("zerodl.nn:Softmax", "dim=-1", {}),
    ("zerodl.nn:Conv2d", "in_channels, out_channels, kernel_size, stride=1, padding=0", {}),
    ("zerodl.nn:Module.requires_grad_", "flag=True", {}),
    ("zerodl.nn:Module.to", "device", {"loose": ("device",)}),
    ("zerodl.nn:Module.cuda", "device=None", {}),
    ("zerodl.nn:Module.cpu", "", {}),
    ("zerodl:stack", "tensors, dim=0", {}),
    ("zerodl:no_grad", "", {}),
    ("zerodl:manual_seed", "seed", {}),
    ("zerodl:save", "state, path, metadata=None", {}),
    ("zerodl:load", "path", {}),
    ("zerodl:load_model", "path", {}),
    # ---- Functions: arithmetic and shape (names only in API.md; PyTorch-like arguments)
    *[(f"zerodl.functions:{n}", None, {}) for n in
      "add sub mul div neg pow exp log sqrt matmul sum mean max min reshape transpose "
      "broadcast_to sum_to getitem concat stack clip where".split()],
    ("zerodl.functions:sum", "x, axis=None, keepdims=False", {}),
    ("zerodl.functions:mean", "x, axis=None, keepdims=False", {}),
    ("zerodl.functions:max", "x, axis=None, keepdims=False", {}),
    ("zerodl.functions:min", "x, axis=None, keepdims=False", {}),
    ("zerodl.functions:linear", "x, W, b=None", {}),
    # ---- activations
    *[(f"zerodl.functions:{n}", "x", {}) for n in "step sigmoid tanh relu gelu identity".split()],
    ("zerodl.functions:leaky_relu", "x, slope=0.01", {}),
    ("zerodl.functions:softmax", "x, axis=-1", {}),
    ("zerodl.functions:log_softmax", "x, axis=-1", {}),
    # ---- losses
    ("zerodl.functions:mean_squared_error", "y, t", {}),
    ("zerodl.functions:sum_squared_error", "y, t", {}),
    ("zerodl.functions:softmax_cross_entropy", "logits, t, ignore_index=None", {}),
    ("zerodl.functions:binary_cross_entropy", "p, t", {}),
    ("zerodl.functions:cross_entropy_error", "y, t", {}),
    ("zerodl.functions:binary_cross_entropy_with_logits", "z, t", {}),
    ("zerodl.functions:mean_absolute_error", "y, t", {}),
    # ---- dropout, batch norm, convolution, embedding, accuracy
    ("zerodl.functions:dropout", "x, p=0.5, training=True", {}),
    ("zerodl.functions:batch_norm",
     "x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5", {}),
    ("zerodl.functions:conv2d", "x, W, b=None, stride=1, padding=0", {}),
    ("zerodl.functions:conv_transpose2d", "x, W, b=None, stride=1, padding=0", {}),
    ("zerodl.functions:max_pool2d", "x, kernel_size, stride=None, padding=0", {}),
    ("zerodl.functions:avg_pool2d", "x, kernel_size, stride=None, padding=0", {}),
    ("zerodl.functions:im2col", "x, KH, KW, stride, padding", {}),
    ("zerodl.functions:col2im", None, {}),
    ("zerodl.functions:embedding", "ids, W", {}),
    ("zerodl.functions:accuracy", "y, t", {}),
    # ---- nn.Module
    ("zerodl.nn:Module", None, {}),
    ("zerodl.nn:Parameter", None, {}),
    ("zerodl.nn:Module.parameters", "", {}),
    ("zerodl.nn:Module.named_parameters", "", {}),
    ("zerodl.nn:Module.children", "", {}),
    ("zerodl.nn:Module.train", "", {}),
    ("zerodl.nn:Module.eval", "", {}),
    ("zerodl.nn:Module.zero_grad", "", {}),
    ("zerodl.nn:Module.state_dict", "", {}),
    # API.md writes load_state_dict(d, strict=True); the code (and PyTorch) call it state_dict.
    ("zerodl.nn:Module.load_state_dict", "d, strict=True", {"loose": ("d",)}),
    ("zerodl.nn:Module.__call__", None, {}),
    ("zerodl.nn:Module.forward", None, {}),
    # ---- containers and layers
    ("zerodl.nn:Sequential", "*layers", {}),
    ("zerodl.nn:Sequential.append", "module", {"loose": ("module",)}),
    ("zerodl.nn:Linear", "in_features, out_features, bias=True", {}),
    ("zerodl.nn:Conv2d", "in_channels, out_channels, kernel_size, stride=1, padding=0", {}),
    ("zerodl.nn:Module.requires_grad_", "flag=True", {}),
    ("zerodl.nn:Module.to", "device", {"loose": ("device",)}),
    ("zerodl.nn:Module.cuda", "device=None", {}),
    ("zerodl.nn:Module.cpu", "", {}),
    ("zerodl.nn:ConvTranspose2d", "in_channels, out_channels, kernel_size, stride=1, padding=0", {}),
    ("zerodl.nn:MaxPool2d", "kernel_size, stride=None, padding=0", {}),
    ("zerodl.nn:AvgPool2d", "kernel_size, stride=None, padding=0", {}),
    ("zerodl.nn:Flatten", "", {}),
    ("zerodl.nn:Dropout", "p=0.5", {}),
    ("zerodl.nn:BatchNorm1d", "num_features", {}),
    ("zerodl.nn:BatchNorm2d", "num_features", {}),
    ("zerodl.nn:Embedding", "num_embeddings, embedding_dim", {}),
    *[(f"zerodl.nn:{n}", "", {}) for n in "ReLU Sigmoid Tanh LeakyReLU GELU Softmax Identity".split()],
    *[(f"zerodl.nn:{n}", "input_size, hidden_size, num_layers=1, dropout=0.0, return_sequences=False", {})
      for n in ("RNN", "LSTM", "GRU")],
    *[(f"zerodl.nn:{n}.forward", "x, state=None", {}) for n in ("RNN", "LSTM", "GRU")],
    *[(f"zerodl.nn:{n}.detach_state", "", {}) for n in ("RNN", "LSTM", "GRU")],
    # ---- nn.init
    *[(f"zerodl.nn.init:{n}", "t", {}) for n in
      "zeros_ ones_ uniform_ xavier_uniform_ xavier_normal_ he_uniform_ he_normal_".split()],
    ("zerodl.nn.init:normal_", "t, std", {}),
    # ---- optimizers
    ("zerodl.optim:SGD", "params, lr, momentum=0.0, nesterov=False, weight_decay=0.0", {}),
    ("zerodl.optim:Momentum", "params, lr, momentum=0.9", {}),
    ("zerodl.optim:AdaGrad", "params, lr", {}),
    ("zerodl.optim:RMSprop", "params, lr, alpha=0.99, eps=1e-8", {}),
    ("zerodl.optim:Adam", "params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0", {}),
    ("zerodl.optim:AdamW", "params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2", {}),
    *[(f"zerodl.optim:{n}.{m}", None, {}) for n in ("SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "AdamW")
      for m in ("step", "zero_grad", "state_dict", "load_state_dict")],
    # API.md writes clip_grad_norm_(params, max_norm); the code (and PyTorch) call it parameters.
    ("zerodl.optim:clip_grad_norm_", "params, max_norm", {"loose": ("params",)}),
    # lr schedulers: API.md names them; the signatures are PyTorch's
    ("zerodl.optim.lr_scheduler:StepLR", "optimizer, step_size, gamma=0.1", {}),
    ("zerodl.optim.lr_scheduler:ExponentialLR", "optimizer, gamma", {}),
    ("zerodl.optim.lr_scheduler:CosineAnnealingLR", "optimizer, T_max, eta_min=0.0", {}),
    ("zerodl.optim.lr_scheduler:ReduceLROnPlateau", "optimizer, mode='min', factor=0.1, patience=10", {}),
    # ---- training methods of every nn.Module
    ("zerodl.nn:Module.compile", "optimizer='adam', loss='cross_entropy', metrics=...", {}),
    ("zerodl.nn:Module.fit",
     "x, y=None, epochs=1, batch_size=32, validation_data=None, validation_split=0.0, "
     "shuffle=True, callbacks=None, verbose=1, initial_epoch=0", {}),
    ("zerodl.nn:Module.evaluate", "x, y, batch_size=...", {}),
    ("zerodl.nn:Module.predict", "x, batch_size=...", {}),
    ("zerodl.nn:Module.summary", "input_shape=None", {}),
    ("zerodl.nn:Module.save", "path", {}),
    # ---- callbacks
    ("zerodl.callbacks:Callback", "", {}),
    ("zerodl.callbacks:Callback.on_train_begin", "logs=...", {}),
    ("zerodl.callbacks:Callback.on_train_end", "logs=...", {}),
    ("zerodl.callbacks:Callback.on_epoch_begin", "epoch, logs=...", {}),
    ("zerodl.callbacks:Callback.on_epoch_end", "epoch, logs=...", {}),
    ("zerodl.callbacks:Callback.on_batch_begin", "batch, logs=...", {}),
    ("zerodl.callbacks:Callback.on_batch_end", "batch, logs=...", {}),
    ("zerodl.callbacks:EarlyStopping",
     "monitor='val_loss', min_delta=0, patience=0, mode='auto', restore_best_weights=False, verbose=0", {}),
    ("zerodl.callbacks:ModelCheckpoint", "path, monitor='val_loss', save_best_only=False", {}),
    ("zerodl.callbacks:ReduceLROnPlateau", "monitor='val_loss', factor=0.1, patience=10", {}),
    ("zerodl.callbacks:CSVLogger", "path", {}),
    ("zerodl.callbacks:TerminateOnNaN", "", {}),
    ("zerodl.callbacks:LearningRateScheduler", "schedule", {}),
    ("zerodl.callbacks:BackupAndRestore", "backup_dir", {}),
    # ---- Keras facade (Keras's own signatures put strides/padding before activation: relative order)
    ("zerodl.keras.models:Sequential", None, {}),
    ("zerodl.keras.layers:Dense", "units, activation=None, input_shape=None", {"order": "relative"}),
    ("zerodl.keras.layers:Conv2D", "filters, kernel_size, activation=None, input_shape=None", {"order": "relative"}),
    ("zerodl.keras.layers:MaxPooling2D", "pool_size=(2, 2), strides=None", {"order": "relative"}),
    ("zerodl.keras.layers:Flatten", None, {}),
    ("zerodl.keras.layers:Dropout", "rate", {"order": "relative"}),
    ("zerodl.keras.layers:Activation", "activation", {"order": "relative"}),
    ("zerodl.keras.layers:LSTM", "units, return_sequences=False", {"order": "relative"}),
    ("zerodl.keras.layers:BatchNormalization", None, {}),
    ("zerodl.keras.optimizers:Adam", "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7",
     {"order": "relative"}),
    ("zerodl.keras.optimizers:SGD", "learning_rate=0.01, momentum=0.0, nesterov=False", {"order": "relative"}),
    ("zerodl.keras.optimizers:RMSprop", "learning_rate=0.001, rho=0.9, epsilon=1e-7", {"order": "relative"}),
    ("zerodl.keras.callbacks:EarlyStopping", "monitor='val_loss', min_delta=0, patience=0", {}),
    ("zerodl.keras.utils:to_categorical", "y, num_classes=None", {"loose": ("y",)}),
    ("zerodl.keras.datasets.mnist:load_data", "", {}),
    # ---- data
    ("zerodl.data:Dataset", None, {}),
    ("zerodl.data:Dataset.__len__", None, {}),
    ("zerodl.data:Dataset.__getitem__", None, {}),
    ("zerodl.data:TensorDataset", "*arrays", {}),
    ("zerodl.data:DataLoader", "dataset, batch_size=1, shuffle=False, drop_last=False, seed=None", {}),
    ("zerodl.data:datasets", None, {}),
    ("zerodl.data.datasets:mnist", "root=None, train=True, download=True", {}),
    ("zerodl.data.datasets:fashion_mnist", "root=None, train=True, download=True", {}),
    ("zerodl.data.datasets:digits", "", {}),
    ("zerodl.data.datasets:spiral", "n_per_class=100, n_classes=3, seed=0", {}),
    ("zerodl.data.datasets:airline_passengers", "", {}),
    ("zerodl.data:train_test_split", "*arrays, test_size=0.25, shuffle=True, seed=None", {}),
    ("zerodl.data:to_categorical", "y, num_classes=None", {}),
    ("zerodl.data:make_windows", "series, history, horizon=1", {}),
    # ---- command line
    ("zerodl.cli:build_parser", "", {}),
    ("zerodl.cli:main", None, {}),
    ("zerodl.__main__", None, {"module_only": True}),
    # ---- 0.2: the sequence, generative and distributed names of API.md
    ("zerodl.functions:softmax_cross_entropy", "logits, t, ignore_index=None", {"order": "relative"}),
    ("zerodl.functions:scaled_dot_product_attention", "q, k, v, mask=None", {"order": "relative"}),
    ("zerodl.functions:layer_norm", "x, normalized_shape, gamma, beta, eps=1e-5", {"order": "relative"}),
    ("zerodl.functions:binary_cross_entropy", "p, t", {"order": "relative"}),
    ("zerodl.functions:interpolate", "x, scale_factor", {"order": "relative"}),
    ("zerodl.nn:LayerNorm", "normalized_shape", {"order": "relative"}),
    ("zerodl.nn:MultiheadAttention", "embed_dim, num_heads, dropout=0.0, batch_first=True", {"order": "relative"}),
    ("zerodl.nn:Upsample", "scale_factor", {"order": "relative"}),
    ("zerodl.nn:LSTM", "input_size, hidden_size, num_layers=1, dropout=0.0, return_sequences=False, batch_first=True, activation='tanh', recurrent_activation='sigmoid'", {"order": "relative"}),
    ("zerodl.nn:GRU", "input_size, hidden_size, batch_first=True, activation='tanh', recurrent_activation='sigmoid'", {"order": "relative"}),
    ("zerodl.nn:RNN", "input_size, hidden_size, batch_first=True, activation='tanh'", {"order": "relative"}),
    ("zerodl.nn:Softmax", "dim=-1", {}),
    ("zerodl.nn:Module.requires_grad_", "flag=True", {"loose": ("flag",)}),
    ("zerodl.nn:Conv2d", "in_channels, out_channels, kernel_size, stride=1, padding=0", {"order": "relative"}),
    *[(f"zerodl.nn:{n}", None, {}) for n in ("CrossEntropyLoss", "MSELoss", "L1Loss", "NLLLoss", "BCEWithLogitsLoss", "BCELoss")],
    ("zerodl.distributed:init", None, {}),
    ("zerodl.distributed:rank", "", {}),
    ("zerodl.distributed:world_size", "", {}),
    ("zerodl.distributed:broadcast_parameters", "model, root=0", {"order": "relative"}),
    ("zerodl.distributed:DistributedOptimizer", "optimizer", {"order": "relative"}),
    ("zerodl.distributed:DistributedSampler", "dataset, shuffle=True, seed=0", {"order": "relative"}),
    ("zerodl.nn:Module.fit", "x, y=None, epochs=1, batch_size=32, distributed=None", {"order": "relative"}),
    *[(f"zerodl.tflearn:{n}", None, {}) for n in ("input_data", "fully_connected", "dropout", "lstm", "gru", "simple_rnn",
                                                  "conv_2d", "max_pool_2d", "flatten", "embedding",
                                                  "batch_normalization", "regression", "DNN")],
    *[(f"zerodl.keras:{n}", None, {}) for n in ("Sequential", "Input", "Model")],
    *[(f"zerodl.keras.{m}", None, {"module_only": True}) for m in ("losses", "metrics", "optimizers", "callbacks", "models")],
]


@pytest.mark.parametrize("path, text, opts", SIGNATURES, ids=[s[0] + ("" if s[1] is None else f"({s[1]})")
                                                              for s in SIGNATURES])
def test_signature(path, text, opts):
    if opts.get("module_only"):  # `python -m zerodl`: checked by finding, not running, the module
        assert importlib.util.find_spec(path) is not None
        return
    obj = _resolve(path)
    if text is None:
        assert obj is not None and (callable(obj) or inspect.ismodule(obj)), path
        return
    assert callable(obj), path
    problems = signature_problems(obj, text, order=opts.get("order", "exact"), loose=opts.get("loose", ()))
    assert not problems, f"{path}{inspect.signature(obj)}: " + "; ".join(problems)


def test_signature_helper_catches_mistakes():
    def f(a, b=2, *, c=None):
        pass

    assert signature_problems(f, "a, b=2") == []
    assert signature_problems(f, "a, b=3")  # wrong default
    assert signature_problems(f, "b=2, a=...")  # wrong order
    assert signature_problems(f, "a, b=2, d=None")  # missing name
    assert signature_problems(f, "x, b=2", loose=("x",)) == []

    def g(a, extra, b=2):
        pass

    assert signature_problems(g, "a, b=2")  # an extra *required* parameter


def test_zerodl_exports():
    """The top-level names API.md uses, and the sub-packages at their import paths."""
    for name in ("Tensor", "tensor", "no_grad", "manual_seed", "save", "load", "load_model"):
        assert hasattr(zd, name), name
    for mod in ("zerodl.functions", "zerodl.nn", "zerodl.nn.init", "zerodl.optim", "zerodl.optim.lr_scheduler",
                "zerodl.data", "zerodl.callbacks", "zerodl.keras", "zerodl.keras.models", "zerodl.keras.layers",
                "zerodl.keras.optimizers", "zerodl.keras.callbacks", "zerodl.keras.utils",
                "zerodl.keras.datasets", "zerodl.keras.datasets.mnist", "zerodl.utils", "zerodl.cli"):
        importlib.import_module(mod)
    import zerodl.data

    for name in ("Dataset", "TensorDataset", "DataLoader", "datasets"):
        assert hasattr(zerodl.data, name), name
    assert zd.nn is nn and zd.optim is optim and zd.functions is F


# ============================================================================ Tensors and autograd
def test_tensor_dtype_rules():
    assert zd.tensor(np.ones(3, np.float64)).dtype == np.float32  # floating -> default float32
    assert zd.tensor([1.0, 2.0]).dtype == np.float32
    assert zd.tensor(2.5).dtype == np.float32
    assert zd.Tensor(np.ones(3, np.float64)).dtype == np.float32
    assert zd.tensor(np.ones(3), dtype=np.float64).dtype == np.float64  # kept when asked for
    assert zd.tensor([1, 2, 3]).dtype.kind == "i"  # integers stay integers
    t = zd.tensor([1.0], requires_grad=True)
    assert t.requires_grad is True and zd.tensor([1.0]).requires_grad is False


def test_tensor_attributes():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = zd.tensor(a, requires_grad=True)
    assert isinstance(t.data, np.ndarray) and np.array_equal(t.data, a)
    assert t.grad is None
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float32 and t.size == 6 and len(t) == 2
    assert isinstance(t.T, zd.Tensor) and t.T.shape == (3, 2)
    (t.T * 2).sum().backward()
    assert np.array_equal(t.grad, np.full((2, 3), 2, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_same_shape_and_dtype_as_data(dtype):
    x = zd.tensor(np.ones((2, 3)), requires_grad=True, dtype=dtype)
    b = zd.tensor(np.ones(3), requires_grad=True, dtype=dtype)  # broadcast in the add
    s = zd.tensor(2.0, requires_grad=True, dtype=dtype)  # a scalar
    ((x * s + b) ** 2).mean().backward()
    for p in (x, b, s):
        assert isinstance(p.grad, np.ndarray)
        assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype


def test_tensor_methods():
    t = zd.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.reshape(3, 2).shape == (3, 2) and t.reshape((3, 2)).shape == (3, 2)
    assert t.reshape(-1).shape == (6,)
    assert t.transpose(1, 0).shape == (3, 2) and t.transpose().shape == (3, 2)
    assert t.transpose((1, 0)).shape == (3, 2)
    for name, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)):
        m = getattr(t, name)
        assert np.allclose(m().data, ref(t.data))
        assert m(axis=0).shape == (3,) and m(1, True).shape == (2, 1) and m(axis=1, keepdims=True).shape == (2, 1)
    d = t.detach()
    assert isinstance(d, zd.Tensor) and not d.requires_grad and np.array_equal(d.data, t.data)
    assert isinstance(t.numpy(), np.ndarray)
    item = t.sum().item()
    assert isinstance(item, float) and item == 15.0
    t.sum().backward()
    assert t.grad is not None
    t.zero_grad()
    assert t.grad is None


def test_backward_grad_and_retain_graph():
    x = zd.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 1.0], np.float32), retain_graph=True)
    y.backward(grad=np.array([1.0, 1.0], np.float32))  # the graph was kept: gradients add up
    assert np.allclose(x.grad, [4.0, 8.0])


def _scalar_ops():
    return {
        "+": (lambda t: t + 2, lambda t: 2 + t),
        "-": (lambda t: t - 2, lambda t: 2 - t),
        "*": (lambda t: t * 2, lambda t: 2 * t),
        "/": (lambda t: t / 2, lambda t: 2 / t),
        "**": (lambda t: t ** 2, lambda t: 2 ** t),
    }


@pytest.mark.parametrize("op", list(_scalar_ops()))
def test_operators_with_scalars(op):
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    t = zd.tensor(a, requires_grad=True)
    fwd, refl = _scalar_ops()[op]
    for f in (fwd, refl):
        y = f(t)
        assert isinstance(y, zd.Tensor) and y.dtype == np.float32
        assert np.allclose(y.data, f(a))
        y.sum().backward()
        assert t.grad.shape == a.shape


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "@"])
def test_operators_with_arrays_both_ways(op):
    fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "@": operator.matmul}[op]
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    b = np.array([[0.5, 1.5], [2.0, 0.25]], np.float32)
    t = zd.tensor(a, requires_grad=True)
    y1 = fn(t, b)
    y2 = fn(b, t)  # ndarray (op) Tensor -> a Tensor, not an ndarray
    for y, ref in ((y1, fn(a, b)), (y2, fn(b, a))):
        assert isinstance(y, zd.Tensor), type(y)
        assert np.allclose(y.data, ref)
    (y1.sum() + y2.sum()).backward()
    assert t.grad.shape == a.shape


def test_operators_between_tensors_and_unary_minus():
    a = zd.tensor([[1.0, 2.0]], requires_grad=True)
    b = zd.tensor([[3.0], [4.0]], requires_grad=True)
    y = -(a + b - a * b / b) ** 2 @ zd.tensor(np.ones((2, 1)))
    assert isinstance(y, zd.Tensor) and y.shape == (2, 1)
    y.sum().backward()
    assert a.grad.shape == (1, 2) and b.grad.shape == (2, 1)
    n = -a
    assert isinstance(n, zd.Tensor) and np.array_equal(n.data, -a.data)


def test_indexing_basic_and_integer_array():
    t = zd.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert np.array_equal(t[1].data, t.data[1]) and np.array_equal(t[:, 1:3].data, t.data[:, 1:3])
    t[0, 1:].sum().backward()
    assert np.array_equal(t.grad, [[0, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    t.zero_grad()
    idx = np.array([0, 2, 2])
    y = t[idx]  # integer-array indexing; repeated rows add up in backward
    assert y.shape == (3, 4)
    y.sum().backward()
    assert np.array_equal(t.grad[:, 0], [1, 0, 2])
    t.zero_grad()
    t[np.arange(3), np.array([0, 1, 3])].sum().backward()
    assert t.grad.sum() == 3 and t.grad[2, 3] == 1


def test_comparisons_return_plain_bool_arrays():
    t = zd.tensor([1.0, 2.0, 3.0])
    u = zd.tensor([3.0, 2.0, 1.0])
    for r in (t > 1, t >= 2, t < u, t <= u, t == u, t != u, t > np.array([0, 5, 0]), 2 < t):
        assert type(r) is np.ndarray and r.dtype == np.bool_
    assert (t == u).tolist() == [False, True, False]


def test_no_grad():
    x = zd.tensor([1.0, 2.0], requires_grad=True)
    with zd.no_grad():
        y = x * 2
    assert not y.requires_grad
    z = x * 2
    assert z.requires_grad
    z.sum().backward()
    assert np.allclose(x.grad, [2.0, 2.0])


def test_manual_seed_reproduces_everything():
    def draw(seed):
        zd.manual_seed(seed)
        w = nn.Linear(4, 3).W.data.copy()
        e = nn.Embedding(5, 2).W.data.copy()
        d = F.dropout(zd.tensor(np.ones(64)), p=0.5).data.copy()
        order = np.concatenate([b[0] for b in DataLoader(TensorDataset(np.arange(20)), batch_size=5, shuffle=True)])
        split = __import__("zerodl.data", fromlist=["x"]).train_test_split(np.arange(20))[1]
        return w, e, d, order, split

    a, b, c = draw(7), draw(7), draw(8)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_manual_seed_reproduces_fit():
    x, y = datasets.spiral(n_per_class=20)

    def run():
        zd.manual_seed(3)
        m = nn.Sequential(nn.Linear(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3))
        m.compile(optimizer="adam", loss="cross_entropy")
        return m.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0).history

    assert run() == run()


def _read_safetensors_header(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n].decode("utf-8")), len(raw) - 8 - n


def test_save_load_safetensors(tmp_path):
    state = {"a.W": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], np.int64),
             "c": np.ones(2, np.float64)}
    path = tmp_path / "s.safetensors"
    zd.save(state, str(path), metadata={"note": "hello"})
    header, data_len = _read_safetensors_header(path)  # the safetensors layout, read by hand
    meta = dict(header["__metadata__"])
    assert meta.pop("zerodl.checksum").startswith("crc32/1:") and meta == {"note": "hello"}
    assert header["a.W"]["dtype"] == "F32" and header["a.W"]["shape"] == [2, 3]
    assert header["b"]["dtype"] == "I64" and header["c"]["dtype"] == "F64"
    assert data_len == 24 + 16 + 16
    back = zd.load(str(path))
    assert isinstance(back, dict) and set(back) == set(state)
    for k, v in state.items():
        assert isinstance(back[k], np.ndarray) and back[k].dtype == v.dtype and np.array_equal(back[k], v)
    zd.save(state, path)  # a path object and no metadata work too
    assert set(zd.load(path)) == set(state)


def test_save_readable_by_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "s.safetensors"
    zd.save({"w": np.arange(4, dtype=np.float32)}, str(path))
    assert np.array_equal(st.load_file(str(path))["w"], np.arange(4, dtype=np.float32))


def test_model_save_and_load_model(tmp_path):
    zd.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 5), nn.BatchNorm1d(5), nn.Linear(3))
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    model.eval()
    before = model(x).data
    path = tmp_path / "model.safetensors"
    model.save(str(path))
    header, _ = _read_safetensors_header(path)  # one safetensors file, architecture as JSON metadata
    meta = header.get("__metadata__", {})
    assert any(isinstance(v, str) and v.lstrip().startswith("{") and isinstance(json.loads(v), dict)
               for v in meta.values()), meta
    loaded = zd.load_model(str(path))
    assert isinstance(loaded, nn.Module) and type(loaded) is type(model)
    loaded.eval()
    assert np.allclose(loaded(x).data, before)
    assert set(loaded.state_dict()) == set(model.state_dict())


def test_no_pickle_anywhere_in_the_package():
    offenders = []
    pickles = r"(c?pickle|_pickle|dill|cloudpickle|joblib|shelve)"
    for f in PACKAGE_DIR.rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        if re.search(rf"^\s*(import\s+[^#\n]*\b{pickles}\b|from\s+{pickles}\b)", text, re.M) or \
                re.search(rf"(__import__|import_module)\(\s*['\"]{pickles}['\"]", text):
            offenders.append(f"{f}: imports pickle")
        if re.search(r"allow_pickle\s*=\s*True", text):
            offenders.append(f"{f}: allow_pickle=True")
    assert not offenders, offenders


@pytest.mark.parametrize("imports", ["zerodl",
                                     "zerodl, zerodl.nn, zerodl.optim, zerodl.data, zerodl.callbacks, zerodl.keras"])
def test_import_zerodl_needs_only_numpy(imports):
    code = (f"import sys, {imports}; bad=[m for m in ('tqdm','safetensors','matplotlib','torch','scipy','PIL') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


# ============================================================================ functions
def test_function_names_are_callable_on_tensors():
    x = zd.tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    y = zd.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    outs = [F.add(x, y), F.sub(x, y), F.mul(x, y), F.div(x, y), F.neg(x), F.pow(x, 2), F.exp(x),
            F.log(y), F.sqrt(y), F.matmul(x, y), F.sum(x), F.mean(x, axis=0), F.max(x, axis=1), F.min(x),
            F.reshape(x, 4), F.reshape(x, (1, 4)), F.transpose(x), F.broadcast_to(x[0], (3, 2)),
            F.sum_to(x, (1, 2)), F.getitem(x, 1), F.concat([x, y], axis=0), F.stack([x, y], axis=0),
            F.clip(x, 0.0, 1.0), F.where(x.data > 0, x, y), F.linear(x, y), F.linear(x, y, zd.tensor([1.0, 1.0])),
            F.sigmoid(x), F.tanh(x), F.relu(x), F.leaky_relu(x), F.gelu(x), F.softmax(x), F.log_softmax(x),
            F.identity(x)]
    for o in outs:
        assert isinstance(o, zd.Tensor)
    assert F.concat([x, y], axis=0).shape == (4, 2) and F.stack([x, y]).shape == (2, 2, 2)
    sum(o.sum() for o in outs).backward()
    assert x.grad.shape == x.shape
    assert np.allclose(F.linear(x, y, zd.tensor([1.0, -1.0])).data, x.data @ y.data + [1.0, -1.0])
    assert np.array_equal(np.asarray(F.step(x).data if isinstance(F.step(x), zd.Tensor) else F.step(x)),
                          [[1, 0], [1, 1]])


def test_activation_defaults():
    x = zd.tensor([-2.0, 3.0])
    assert np.allclose(F.leaky_relu(x).data, [-0.02, 3.0])
    assert np.allclose(F.leaky_relu(x, slope=0.5).data, [-1.0, 3.0])
    s = F.softmax(zd.tensor(np.ones((2, 3))))
    assert np.allclose(s.data.sum(axis=-1), 1.0) and np.allclose(F.log_softmax(zd.tensor(np.ones((2, 3)))).data,
                                                                  np.log(1 / 3))


def test_loss_reductions():
    y = zd.tensor(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), requires_grad=True)
    t = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]], np.float32)
    d = y.data - t
    assert np.isclose(F.mean_squared_error(y, t).item(), np.mean(d ** 2))  # over all elements
    assert np.isclose(F.mean_absolute_error(y, t).item(), np.mean(np.abs(d)))
    assert np.isclose(F.sum_squared_error(y, t).item(), 0.5 * np.sum(d ** 2))
    tb = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    z = y.data
    bce = np.mean(np.maximum(z, 0) - z * tb + np.log1p(np.exp(-np.abs(z))))
    assert np.isclose(F.binary_cross_entropy_with_logits(y, tb).item(), bce, rtol=1e-5)


def test_softmax_cross_entropy_contract():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1000.0, 0.0, -1000.0]])
    labels = np.array([0, 2, 0])
    onehot = np.eye(3)[labels]
    z = zd.tensor(logits, requires_grad=True, dtype=np.float64)
    loss = F.softmax_cross_entropy(z, labels)
    sh = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(sh) / np.exp(sh).sum(axis=1, keepdims=True)
    logp = sh - np.log(np.exp(sh).sum(axis=1, keepdims=True))
    assert np.isclose(loss.item(), -np.mean(logp[np.arange(3), labels]))  # averaged over N; stable
    loss.backward()
    assert np.allclose(z.grad, (p - onehot) / 3)
    z2 = zd.tensor(logits, dtype=np.float64)
    assert np.isclose(F.softmax_cross_entropy(z2, onehot).item(), loss.item())  # one-hot targets too
    probs = zd.tensor(p[:2])
    assert np.isclose(F.cross_entropy_error(probs, labels[:2]).item(),
                      -np.mean(np.log(p[np.arange(2), labels[:2]] + 1e-7)), rtol=1e-4)


def test_dropout_batch_norm_conv_pool_embedding_accuracy():
    x = zd.tensor(np.ones((200, 50)))
    y = F.dropout(x, p=0.5, training=True).data  # inverted dropout: kept values scaled by 1/(1-p)
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.3 < (y == 0).mean() < 0.7
    assert np.array_equal(F.dropout(x, p=0.5, training=False).data, x.data)

    xb = zd.tensor(np.random.default_rng(0).standard_normal((8, 3)) * 2 + 1)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    out = F.batch_norm(xb, zd.tensor(np.ones(3)), zd.tensor(np.zeros(3)), rm, rv, True)
    assert np.allclose(out.data.mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(rm, 0)  # running stats updated in place
    x4 = zd.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 4)))
    out4 = F.batch_norm(x4, zd.tensor(np.ones(3)), zd.tensor(np.zeros(3)), np.zeros(3, np.float32),
                        np.ones(3, np.float32), True, momentum=0.1, eps=1e-5)
    assert np.allclose(out4.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)

    img = zd.tensor(np.ones((2, 3, 8, 8)))
    assert F.conv2d(img, zd.tensor(np.ones((4, 3, 3, 3))), zd.tensor(np.zeros(4)), stride=1, padding=1).shape == \
        (2, 4, 8, 8)
    assert F.conv2d(img, zd.tensor(np.ones((4, 3, 3, 3)))).shape == (2, 4, 6, 6)
    assert F.conv_transpose2d(img, zd.tensor(np.ones((3, 5, 2, 2))), stride=2).shape == (2, 5, 16, 16)
    assert F.max_pool2d(img, 2).shape == (2, 3, 4, 4)  # stride defaults to kernel_size
    assert F.avg_pool2d(img, 2).shape == (2, 3, 4, 4)
    col = F.im2col(img, 3, 3, 1, 0)
    assert col.shape == (2 * 6 * 6, 3 * 3 * 3)
    assert F.col2im(col, img.shape, 3, 3, 1, 0).shape == img.shape

    W = zd.tensor(np.arange(10.0).reshape(5, 2), requires_grad=True)
    e = F.embedding(np.array([[0, 4], [4, 1]]), W)
    assert e.shape == (2, 2, 2)
    e.sum().backward()
    assert W.grad[4].tolist() == [2.0, 2.0]

    acc = F.accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]))
    assert isinstance(acc, float) and np.isclose(acc, 2 / 3)


# ============================================================================ nn
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.extra = nn.Parameter(np.zeros(4, np.float32))

    def forward(self, x):
        return self.bn(self.fc(x)) + self.extra


def test_module_registration_and_state():
    m = _Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["extra", "fc.W", "fc.b", "bn.gamma", "bn.beta"]  # own parameters first, as PyTorch
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())
    assert list(m.children()) == [m.fc, m.bn]
    assert m.fc.W.shape == (3, 4)  # (in_features, out_features)
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.bn.training
    m.train()
    assert m.training and m.bn.training
    out = m(np.ones((5, 3), np.float32))  # __call__ -> forward
    assert isinstance(out, zd.Tensor) and out.shape == (5, 4)
    out.sum().backward()
    assert m.fc.W.grad is not None
    m.zero_grad()
    assert all(p.grad is None or not np.any(p.grad) for p in m.parameters())
    sd = m.state_dict()
    assert {"fc.W", "fc.b", "extra"} <= set(sd) and all(isinstance(v, np.ndarray) for v in sd.values())
    m2 = _Net()
    m2.load_state_dict({k: v.copy() for k, v in sd.items()})
    assert np.array_equal(m2.fc.W.data, m.fc.W.data)
    bad = dict(sd)
    bad.pop("fc.W")
    with pytest.raises(Exception):
        m2.load_state_dict(bad)  # strict=True by default
    m2.load_state_dict(bad, strict=False)


def test_sequential_list_index_append():
    a, b = nn.Linear(2, 3), nn.ReLU()
    s1 = nn.Sequential(a, b)
    s2 = nn.Sequential([a, b])  # one list
    assert len(s1) == len(s2) == 2 and s1[0] is a and s2[1] is b and s2[-1] is b
    s2.append(nn.Linear(3, 1))
    assert len(s2) == 3 and isinstance(s2[2], nn.Linear)
    assert s2(np.ones((4, 2), np.float32)).shape == (4, 1)


def test_layers_infer_omitted_input_size():
    x = np.ones((2, 5), np.float32)
    lin = nn.Linear(7)  # nn.Linear(out_features)
    assert lin(x).shape == (2, 7) and lin.W.shape == (5, 7)
    assert nn.Linear(5, 7)(x).shape == (2, 7)
    assert nn.Linear(5, 7, bias=False)(x).shape == (2, 7)
    bn = nn.BatchNorm1d()
    assert bn(x).shape == (2, 5)
    img = np.ones((2, 3, 8, 8), np.float32)
    conv = nn.Conv2d(None, 4, 3)
    assert conv(img).shape == (2, 4, 6, 6) and conv.W.shape == (4, 3, 3, 3)
    assert nn.Conv2d(3, 4, 3, stride=1, padding=1)(img).shape == (2, 4, 8, 8)
    assert nn.ConvTranspose2d(None, 2, 2, stride=2)(img).shape == (2, 2, 16, 16)
    assert nn.ConvTranspose2d(3, 2, 2, stride=2).W.shape == (3, 2, 2, 2)
    assert nn.BatchNorm2d()(img).shape == img.shape and nn.BatchNorm2d(3)(img).shape == img.shape
    assert nn.MaxPool2d(2)(img).shape == (2, 3, 4, 4) and nn.AvgPool2d(2)(img).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(3, stride=1, padding=1)(img).shape == img.shape
    assert nn.Flatten()(img).shape == (2, 192)
    assert nn.Dropout()(x).shape == x.shape and nn.Dropout(p=0.1).p == 0.1
    emb = nn.Embedding(10, 4)
    assert emb.W.shape == (10, 4) and emb(np.array([[1, 2, 3]])).shape == (1, 3, 4)
    for act in (nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(), nn.GELU(), nn.Softmax(), nn.Identity()):
        assert act(x).shape == x.shape
    assert np.allclose(nn.Softmax()(x).data.sum(axis=-1), 1.0)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_shapes_and_state(cls):
    R = getattr(nn, cls)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    assert R(3, 4)(x).shape == (2, 4)  # (N, H)
    assert R(3, 4, return_sequences=True)(x).shape == (2, 5, 4)  # (N, T, H)
    assert R(3, 4, num_layers=2, dropout=0.0, return_sequences=True)(x).shape == (2, 5, 4)
    assert R(4)(x).shape == (2, 4)  # input size inferred
    r = R(3, 4)
    r(x)
    assert r.state is not None
    state = r.detach_state()
    for s in (state if isinstance(state, tuple) else (state,)):
        assert isinstance(s, zd.Tensor) and s.creator is None
    out = r(x, state=r.state)  # truncated BPTT: carry the state over
    assert out.shape == (2, 4)
    out = r.forward(x, None)
    out.sum().backward()
    assert all(p.grad is not None for p in r.parameters())


def test_nn_init():
    for name in ("zeros_", "ones_", "uniform_", "xavier_uniform_", "xavier_normal_", "he_uniform_", "he_normal_"):
        p = nn.Parameter(np.empty((20, 30), np.float32))
        getattr(nn.init, name)(p)
        assert np.all(np.isfinite(p.data))
    p = nn.Parameter(np.empty((200, 300), np.float32))
    nn.init.normal_(p, 0.5)
    assert abs(p.data.std() - 0.5) < 0.02
    nn.init.zeros_(p)
    assert not p.data.any()
    nn.init.ones_(p)
    assert np.all(p.data == 1)


# ============================================================================ optimizers
def _param(values, grad):
    p = nn.Parameter(np.array(values, np.float32))
    p.grad = np.array(grad, np.float32)
    return p


def test_optimizer_first_steps_follow_pytorch():
    p = _param([1.0, -2.0], [0.5, -1.0])
    optim.SGD([p], lr=0.1).step()
    assert np.allclose(p.data, [0.95, -1.9])

    p = _param([1.0, -2.0], [0.5, -1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()  # PyTorch: buf = g, then buf = 0.9 buf + g
    assert np.allclose(p.data, [1.0 - 0.1 * 0.5 * 2.9, -2.0 + 0.1 * 2.9])

    p = _param([1.0, -2.0], [0.5, -1.0])
    optim.SGD([p], lr=0.1, weight_decay=0.1).step()
    assert np.allclose(p.data, [1.0 - 0.1 * (0.5 + 0.1), -2.0 - 0.1 * (-1.0 - 0.2)])

    p = _param([1.0, -2.0], [0.5, -1.0])
    opt = optim.Momentum([p], lr=0.1)  # the book's: v = 0.9 v - lr g; p += v
    opt.step()
    opt.step()
    assert np.allclose(p.data, [1.0 - 0.05 * 2.9, -2.0 + 0.1 * 2.9])

    for cls, kw in ((optim.Adam, {}), (optim.AdaGrad, {"lr": 0.01}), (optim.RMSprop, {"lr": 0.01})):
        p = _param([1.0, -2.0], [0.5, -1.0])
        lr = kw.get("lr", 1e-3)
        cls([p], **kw).step()
        if cls is optim.RMSprop:  # v = (1 - alpha) g^2 -> step lr g / (sqrt(v) + eps) = lr sign(g) / 0.1
            assert np.allclose(p.data, [1.0 - lr * 10, -2.0 + lr * 10], atol=1e-5), cls
        else:  # the first Adam / AdaGrad step is lr * sign(g)
            assert np.allclose(p.data, [1.0 - lr, -2.0 + lr], atol=1e-5), cls

    p = _param([1.0, -2.0], [0.5, -1.0])
    optim.AdamW([p], lr=0.1).step()  # decoupled weight decay
    assert np.allclose(p.data, [1.0 * (1 - 0.1 * 0.01) - 0.1, -2.0 * (1 - 0.1 * 0.01) + 0.1], atol=1e-5)


def test_optimizer_protocol():
    lin = nn.Linear(2, 2)
    for cls in (optim.SGD, optim.Momentum, optim.AdaGrad, optim.RMSprop, optim.Adam, optim.AdamW):
        opt = cls(lin.parameters(), lr=0.01)
        (lin(np.ones((3, 2), np.float32)) ** 2).sum().backward()
        opt.step()
        sd = opt.state_dict()
        opt2 = cls(lin.parameters(), lr=0.5)
        opt2.load_state_dict(sd)
        assert math.isclose(opt2.lr, 0.01)
        opt.lr = 0.123
        assert math.isclose(opt.lr, 0.123)
        opt.zero_grad()
        assert all(p.grad is None or not p.grad.any() for p in lin.parameters())


def test_clip_grad_norm_returns_total_norm():
    a, b = _param([0.0], [3.0]), _param([0.0, 0.0], [0.0, 4.0])
    total = optim.clip_grad_norm_([a, b], 1.0)
    assert math.isclose(float(total), 5.0, rel_tol=1e-6)
    assert math.isclose(float(np.sqrt((a.grad ** 2).sum() + (b.grad ** 2).sum())), 1.0, rel_tol=1e-4)


def test_lr_schedulers():
    from zerodl.optim import lr_scheduler as S

    def fresh(lr=0.1):
        return optim.SGD([_param([1.0], [0.0])], lr=lr)

    opt = fresh()
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert math.isclose(opt.lr, 0.05)
    opt = fresh()
    S.ExponentialLR(opt, gamma=0.9).step()
    assert math.isclose(opt.lr, 0.09)
    opt = fresh()
    c = S.CosineAnnealingLR(opt, T_max=2)
    c.step()
    c.step()
    assert math.isclose(opt.lr, 0.0, abs_tol=1e-12)
    opt = fresh()
    r = S.ReduceLROnPlateau(opt, patience=0)
    r.step(1.0)
    r.step(2.0)
    assert math.isclose(opt.lr, 0.01)


# ============================================================================ training
def _spiral_model():
    zd.manual_seed(0)
    return nn.Sequential(nn.Linear(16), nn.ReLU(), nn.Linear(3))


def test_compile_fit_evaluate_predict_summary(capsys):
    x, y = datasets.spiral(n_per_class=30)
    m = _spiral_model()
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0)
    from zerodl.callbacks import History

    assert isinstance(h, History)
    assert set(h.history) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert all(isinstance(v, list) and len(v) == 2 for v in h.history.values())
    h = m.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert len(h.history["val_loss"]) == 1
    r = m.evaluate(x, y, batch_size=64)
    assert isinstance(r, dict) and set(r) >= {"loss", "accuracy"}
    p = m.predict(x, batch_size=64)
    assert isinstance(p, np.ndarray) and p.shape == (90, 3)
    capsys.readouterr()
    s = m.summary(input_shape=(None, 2))
    assert isinstance(s, str) and "Linear" in s
    assert "Linear" in capsys.readouterr().out  # also printed
    assert isinstance(m.summary(), str)


def test_fit_accepts_dataset_and_dataloader():
    x, y = datasets.spiral(n_per_class=20)
    m = _spiral_model()
    m.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    assert len(m.fit(TensorDataset(x, y), epochs=1, batch_size=16, verbose=0).history["loss"]) == 1
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    assert len(m.fit(loader, epochs=2, verbose=0).history["loss"]) == 2


@pytest.mark.parametrize("loss", ["mse", "mae", "bce", "callable"])
def test_compile_losses(loss):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    t = (x[:, :1] > 0).astype(np.float32)
    zd.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(1))
    m2 = nn.Sequential(nn.Linear(3, 2))  # an Optimizer instance as the optimizer
    fn = F.mean_squared_error if loss == "callable" else loss
    m.compile(optimizer="adam", loss=fn, metrics=["mae"])
    h = m.fit(x, t, epochs=1, batch_size=8, verbose=0)
    assert "loss" in h.history and "mae" in h.history and np.isfinite(h.history["loss"][0])
    m2.compile(optimizer=optim.SGD(m2.parameters(), lr=0.1), loss="mse")
    m2.fit(x, np.hstack([t, t]), epochs=1, verbose=0)


def test_callback_hooks_model_and_stop_training():
    from zerodl.callbacks import Callback

    calls = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")
            assert self.model is m

        def on_train_end(self, logs=None):
            calls.append("train_end")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin{epoch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end{epoch}")
            assert "loss" in logs
            self.model.stop_training = True

        def on_batch_begin(self, batch, logs=None):
            calls.append("batch_begin")

        def on_batch_end(self, batch, logs=None):
            calls.append("batch_end")

    x, y = datasets.spiral(n_per_class=10)
    m = _spiral_model()
    m.compile()
    h = m.fit(x, y, epochs=5, batch_size=10, callbacks=[Spy()], verbose=0)
    assert len(h.history["loss"]) == 1  # stop_training ended it after the first epoch
    assert calls[0] == "train_begin" and calls[1] == "epoch_begin0" and calls[-1] == "train_end"
    assert calls.count("batch_begin") == 3 and calls.count("batch_end") == 3


def test_builtin_callbacks_with_api_argument_names(tmp_path):
    from zerodl.callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, LearningRateScheduler,
                                  ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)

    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    x, y = datasets.spiral(n_per_class=20)
    m = _spiral_model()
    m.compile(optimizer="sgd")
    cbs = [EarlyStopping(monitor="val_loss", min_delta=0, patience=5, mode="auto", restore_best_weights=True,
                         verbose=0),
           ModelCheckpoint(path=str(tmp_path / "ckpt.safetensors"), monitor="val_loss", save_best_only=False),
           ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=10),
           CSVLogger(path=str(tmp_path / "log.csv")),
           TerminateOnNaN(),
           LearningRateScheduler(schedule=schedule),
           BackupAndRestore(backup_dir=str(tmp_path / "backup"))]
    h = m.fit(x, y, epochs=2, validation_split=0.25, callbacks=cbs, verbose=0)
    assert len(h.history["loss"]) == 2
    assert [e for e, _ in seen] == [0, 1] and math.isclose(seen[1][1], seen[0][1] * 0.5)
    assert (tmp_path / "ckpt.safetensors").exists() and (tmp_path / "log.csv").exists()
    assert isinstance(zd.load_model(str(tmp_path / "ckpt.safetensors")), nn.Module)


# ============================================================================ Keras facade
def test_keras_facade_mlp_and_cnn():
    from zerodl import keras
    from zerodl.keras.layers import (LSTM, Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                                     MaxPooling2D)
    from zerodl.keras.models import Sequential

    images, labels = datasets.digits()
    x = images[:64].astype(np.float32)[..., None] / 16.0  # channels-last, as Keras
    y = labels[:64]
    y1 = keras.utils.to_categorical(y, 10)
    assert y1.shape == (64, 10) and np.array_equal(y1.argmax(1), y)

    zd.manual_seed(0)
    cnn = Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)), MaxPooling2D((2, 2)),
                      Flatten(), Dropout(0.1), Dense(10), Activation("softmax")])
    cnn.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="categorical_crossentropy",
                metrics=["accuracy"])
    h = cnn.fit(x, y1, epochs=1, batch_size=16, verbose=0,
                callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=1)])
    assert "loss" in h.history and "accuracy" in h.history
    p = cnn.predict(x)
    assert p.shape == (64, 10) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)

    mlp = Sequential()
    mlp.add(Dense(16, activation="relu", input_shape=(64,)))
    mlp.add(BatchNormalization())
    mlp.add(Dense(10, activation="softmax"))
    for opt in (keras.optimizers.SGD(learning_rate=0.01), keras.optimizers.RMSprop(learning_rate=1e-3)):
        mlp.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        mlp.fit(x.reshape(64, 64), y, epochs=1, verbose=0)
    assert mlp.predict(x.reshape(64, 64)).shape == (64, 10)

    seq = np.random.default_rng(0).standard_normal((8, 5, 3)).astype(np.float32)
    for rs, shape in ((False, (8, 2)), (True, (8, 5, 2))):
        r = Sequential([LSTM(4, return_sequences=rs, input_shape=(5, 3)), Dense(2)])
        r.compile(optimizer="adam", loss="mse")
        r.fit(seq, np.zeros(shape, np.float32), epochs=1, verbose=0)
        assert r.predict(seq).shape == shape


def test_keras_callbacks_take_keras_argument_names(tmp_path):
    from zerodl import keras

    x, y = datasets.spiral(n_per_class=10)
    m = keras.models.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(2,)),
                                 keras.layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    cbs = [keras.callbacks.ModelCheckpoint(filepath=str(tmp_path / "k.safetensors")),
           keras.callbacks.CSVLogger(filename=str(tmp_path / "k.csv"))]
    m.fit(x, y, epochs=1, validation_split=0.2, callbacks=cbs, verbose="auto")
    assert (tmp_path / "k.safetensors").exists() and (tmp_path / "k.csv").exists()
    r = m.evaluate(x, y, verbose=0)  # Keras's evaluate: [loss, *metrics]
    assert len(r) == 2


def test_keras_mnist_load_data(tmp_path, monkeypatch):
    from _fake_mnist import write_fake_mnist
    from zerodl import keras

    write_fake_mnist(tmp_path, n_train=30, n_test=10)
    monkeypatch.setenv("ZERODL_DATA", str(tmp_path))
    (xt, yt), (xv, yv) = keras.datasets.mnist.load_data()
    assert xt.shape == (30, 28, 28) and xt.dtype == np.uint8 and yt.shape == (30,)
    assert xv.shape == (10, 28, 28) and yv.shape == (10,)


# ============================================================================ data
def test_dataset_tensordataset_dataloader():
    class Squares(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return np.float32(i), np.int64(i * i)

    ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10))
    assert len(ds) == 10 and len(ds[3]) == 2
    for dataset in (ds, Squares()):
        loader = DataLoader(dataset, batch_size=4)
        batches = list(loader)
        assert [len(b[0]) for b in batches] == [4, 4, 2] and len(loader) == 3
        assert [len(b[0]) for b in DataLoader(dataset, batch_size=4, drop_last=True)] == [4, 4]
    assert [len(b[0]) for b in DataLoader(ds)] == [1] * 10  # batch_size=1 by default
    o1 = np.concatenate([b[1] for b in DataLoader(ds, batch_size=3, shuffle=True, seed=5)])
    o2 = np.concatenate([b[1] for b in DataLoader(ds, batch_size=3, shuffle=True, seed=5)])
    assert np.array_equal(o1, o2) and sorted(o1) == list(range(10))
    plain = np.concatenate([b[1] for b in DataLoader(ds, batch_size=3)])
    assert np.array_equal(plain, np.arange(10))  # shuffle=False by default


def test_mnist_and_fashion_mnist_from_root(tmp_path, monkeypatch):
    from _fake_mnist import NAMES, write_fake_mnist

    write_fake_mnist(tmp_path / "plain", n_train=20, n_test=8)
    gz = tmp_path / "gz"
    gz.mkdir()
    for n in NAMES:  # gzipped files under their usual names work too
        (gz / (n + ".gz")).write_bytes(gzip.compress((tmp_path / "plain" / n).read_bytes()))
    for root in (tmp_path / "plain", gz):
        for load in (datasets.mnist, datasets.fashion_mnist):
            x, t = load(root=str(root), train=True, download=False)
            assert x.shape == (20, 28, 28) and x.dtype == np.uint8 and t.shape == (20,) and t.dtype == np.int64
            x, t = load(str(root), False)
            assert x.shape == (8, 28, 28) and t.shape == (8,)
    monkeypatch.setenv("ZERODL_DATA", str(tmp_path / "plain"))
    x, t = datasets.mnist(download=False)
    assert x.shape == (20, 28, 28)


def test_embedded_datasets():
    images, labels = datasets.digits()
    assert len(images) == len(labels) == 1797 and labels.dtype.kind == "i"
    x, t = datasets.spiral()
    assert x.shape == (300, 2) and t.shape == (300,) and set(t.tolist()) == {0, 1, 2}
    x, t = datasets.spiral(n_per_class=10, n_classes=4, seed=1)
    assert x.shape == (40, 2) and set(t.tolist()) == {0, 1, 2, 3}
    assert np.array_equal(datasets.spiral(seed=2)[0], datasets.spiral(seed=2)[0])
    a = np.asarray(datasets.airline_passengers())
    assert a.shape == (144,) and a[0] == 112 and a[-1] == 432  # 1949-01 ... 1960-12


def test_data_helpers():
    from zerodl import data

    x, y = np.arange(40).reshape(20, 2), np.arange(20)
    parts = data.train_test_split(x, y)
    assert len(parts) == 4
    x_tr, x_te, y_tr, y_te = parts
    assert len(x_te) == 5 and len(x_tr) == 15 and np.array_equal(x_tr[:, 0] // 2, y_tr)  # test_size=0.25
    a = data.train_test_split(x, test_size=0.5, shuffle=True, seed=1)
    b = data.train_test_split(x, test_size=0.5, shuffle=True, seed=1)
    assert np.array_equal(a[0], b[0]) and len(a[1]) == 10
    tr, te = data.train_test_split(np.arange(8), shuffle=False)
    assert np.array_equal(te, [6, 7])
    oh = data.to_categorical(np.array([0, 2, 1]))
    assert oh.shape == (3, 3) and np.array_equal(oh.argmax(1), [0, 2, 1])
    assert data.to_categorical([1], num_classes=5).shape == (1, 5)
    X, Y = data.make_windows(np.arange(10.0), 3)
    assert len(X) == len(Y) == 7 and np.array_equal(np.asarray(X).reshape(7, 3)[0], [0, 1, 2])
    assert np.array_equal(np.asarray(Y).reshape(7, -1)[:, 0], np.arange(3, 10))
    X, Y = data.make_windows(np.arange(10.0), history=3, horizon=2)
    assert len(X) == 6 and np.asarray(Y).reshape(6, 2)[0].tolist() == [3.0, 4.0]


# ============================================================================ command line
def test_cli_parser_options():
    from zerodl.cli import build_parser

    p = build_parser()
    a = p.parse_args(["train"])
    assert a.command == "train" and a.dataset == "digits"  # no options: the embedded digits
    for ds in ("digits", "mnist", "fashion-mnist", "spiral"):
        assert p.parse_args(["train", "--dataset", ds]).dataset == ds
    for model in ("mlp", "cnn"):
        assert p.parse_args(["train", "--model", model]).model == model
    a = p.parse_args(["train", "--epochs", "3", "--batch-size", "16", "--lr", "0.01", "--optimizer", "sgd",
                      "--data-dir", "/d", "--out", "/o"])
    assert (a.epochs, a.batch_size, a.lr, a.optimizer, a.data_dir, a.out) == (3, 16, 0.01, "sgd", "/d", "/o")
    with pytest.raises(SystemExit):
        p.parse_args(["train", "--dataset", "cifar"])
    with pytest.raises(SystemExit):
        p.parse_args(["train", "--model", "rnn"])
    a = p.parse_args(["evaluate", "m.safetensors"])
    assert a.command == "evaluate" and "m.safetensors" in vars(a).values()
    a = p.parse_args(["predict", "m.safetensors", "a.png", "b.png"])
    assert a.command == "predict" and ["a.png", "b.png"] in vars(a).values()
    with pytest.raises(SystemExit):
        p.parse_args(["predict", "m.safetensors"])  # IMAGE... needs at least one
    a = p.parse_args(["summary", "m.safetensors"])
    assert a.command == "summary" and "m.safetensors" in vars(a).values()


def test_cli_entry_points():
    from importlib import metadata

    eps = [e for e in metadata.entry_points(group="console_scripts") if e.name == "zerodl"]
    assert eps and eps[0].value.replace(" ", "") == "zerodl.cli:main"
    assert importlib.util.find_spec("zerodl.__main__") is not None


def test_cli_parser_options_0_2():
    """API.md 0.2: `zerodl tune [--storage URL] [--trials N]` and `zerodl train --distributed`."""
    from zerodl.cli import build_parser

    p = build_parser()
    a = p.parse_args(["tune", "--storage", "sqlite:///study.db", "--trials", "7"])
    assert a.command == "tune" and "sqlite:///study.db" in vars(a).values() and 7 in vars(a).values()
    assert p.parse_args(["train", "--distributed"]).distributed is True
    assert p.parse_args(["train"]).distributed is False
