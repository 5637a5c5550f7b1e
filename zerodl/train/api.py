"""``compile`` / ``fit`` / ``evaluate`` / ``predict``: Keras's training API on any ``nn.Module``.

``model.compile(...)``, ``model.fit(...)`` etc. are these functions, installed on ``nn.Module``
by ``zerodl.train`` (``train/module_methods.py``).

Choices (see also the module docstrings of ``callbacks``, ``progress`` and
``losses_and_metrics``):

- **Optimizer.** A name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"momentum"``,
  ``"adamw"``: ``zerodl.optim.names``, the table the CLI and the Keras facade share; the
  ``zerodl.optim`` class with its own defaults, which are PyTorch's), an optimizer class
  or factory ``f(params) -> optimizer`` (or an object with ``build(params)``, as the Keras
  facade's recipes), or a ready ``zerodl.optim`` optimizer. Names, classes and factories are
  turned into an optimizer at the start of the first ``fit``, after a dry forward pass (eval
  mode, ``no_grad``, on the first batch) has materialised layers whose input size is
  inferred; until then ``model.optimizer`` is None. A ready optimizer is used as given; if
  the dry forward creates parameters it cannot know (they did not exist when ``compile`` ran),
  they are added with ``optimizer.add_param_group`` when it has one, otherwise ``fit`` raises
  an error that says how to build the optimizer after a first call.
- **Loss.** ``"cross_entropy"`` (and the Keras names ``"categorical_crossentropy"``,
  ``"sparse_categorical_crossentropy"``) is ``F.softmax_cross_entropy`` on logits, with int
  labels or one-hot targets; ``"bce"`` (``"binary_crossentropy"``) is
  ``F.binary_cross_entropy_with_logits``; ``"mse"``, ``"mae"``; or a callable
  ``loss(y_pred, y_true) -> scalar Tensor``. When the model is an ``nn.Sequential`` whose last
  layer is ``nn.Softmax`` (for the cross entropy) or ``nn.Sigmoid`` (for ``"bce"``), ``fit``
  and ``evaluate`` run it without that layer and apply the fused, stable loss to the logits
  (Keras's ``Dense(10, activation="softmax")`` expands to ``Linear`` + ``Softmax``);
  ``predict`` runs the whole model and returns probabilities. For other models the output is
  taken as logits (a warning is given once if it looks like probabilities).
- **Metrics.** ``"accuracy"``/``"acc"`` (argmax for several outputs, with int or one-hot
  targets; one output per sample: threshold 0.5 on probabilities, 0 on the logits of
  ``"bce"``), ``"mae"``, ``"mse"``, ``"rmse"``, or a callable ``metric(y_pred, y_true)`` on
  arrays. Computed from the training forward outputs (no second pass; on probabilities for
  the regression metrics when the final activation was stripped). The log key is the name
  as given (``"acc"`` stays ``"acc"``, as Keras 3).
- **Data.** ``x`` is an array (with ``y``), a ``Dataset`` yielding ``(x, y)`` or a
  ``DataLoader`` (then ``batch_size`` and ``shuffle`` are its own). Arrays are converted
  once: floating, boolean and uint8 inputs to the model's float dtype (float32 by default),
  integer inputs kept as int64 when the model's first layer is an ``Embedding``; integer
  targets stay int64 (float for the regression and binary losses). ``validation_split`` takes
  the last fraction before shuffling, as Keras (``floor(n * (1 - split))`` samples train).
  Shuffling uses a ``DataLoader`` whose seed is drawn from ``zerodl.core.get_rng()``, so
  ``zd.manual_seed`` makes runs repeatable.
- **Logs.** Epoch logs are means over samples (each batch weighted by its size).
- **Distributed.** ``distributed=True`` (or None, the default, under an MPI launcher with
  several processes) trains data-parallel: ``fit`` asks a ``zerodl.distributed.DataParallel``
  for this rank's shard of the loader, the optimizer that averages gradients over the ranks,
  the averaged epoch logs and whether this rank prints (docs/distributed.md). False never.
- **Modes.** ``fit`` trains with every module in training mode (``model.switch_mode(training=True,
  grad=True)``, as PyTorch's ``model.train()``; a callback may switch a sub-module to eval in
  ``on_train_begin`` / ``on_epoch_begin`` and it stays so), validation runs in eval, and at the
  end every module gets back its OWN mode (a sub-module the user left in eval is in eval
  again). ``evaluate``, ``predict`` and the lazy build run under ``model.switch_mode()``.
"""
import math
import warnings

import numpy as np

from .. import data, nn
from ..callbacks import CallbackList, TrainingRun
from ..core import Tensor
from ..core.backend import as_numpy
from ..distributed import resolve as resolve_strategy
from .compiling import OPTIMIZERS, check_optimizer, compiled_state, make_optimizer, compile
from .data_prep import convert_x, device_xp, eval_source, fit_data, float_dtype, takes_ids
from .guards import TrainingDiverged, nan_guard, weights_finite
from .losses_and_metrics import FINAL_ACTIVATIONS
from .progress import Progress, format_logs

__all__ = ["compile", "fit", "evaluate", "predict", "OPTIMIZERS"]

# ----------------------------------------------------------------------------- forward
def _is_head(layer, head):
    if head == "softmax":
        if not isinstance(layer, nn.Softmax):
            return False
        axis = getattr(layer, "axis", getattr(layer, "dim", -1))
        return axis in (-1, 1, None)
    if head == "sigmoid":
        return isinstance(layer, nn.Sigmoid)
    return False


def _strip_final(module, head):
    """A forward function running ``module`` without its final ``head`` activation, or None."""
    if not isinstance(module, nn.Sequential) or type(module).forward is not nn.Sequential.forward:
        return None
    layers = list(module.children())
    if not layers:
        return None
    last = layers[-1]
    if _is_head(last, head):
        body = layers[:-1]
    else:
        inner = _strip_final(last, head)
        if inner is None:
            return None
        body = layers[:-1] + [inner]
    if not body:
        return lambda x: x
    if len(body) == 1:
        return body[0]

    def forward(x):
        for layer in body:
            x = layer(x)
        return x

    return forward


def _training_forward(model, loss):
    """(forward, head): the model's forward without the final activation the loss fuses."""
    if loss is None or loss.head is None:
        return model, None
    fwd = _strip_final(model, loss.head)
    if fwd is None:
        return model, None
    return fwd, loss.head


def _looks_like_probabilities(out):
    out = as_numpy(out)
    if out.ndim != 2 or out.shape[1] < 2 or out.size == 0:
        return False
    return bool(out.min() >= 0 and np.allclose(out.sum(axis=1), 1.0, atol=1e-3))


def _build(model, state, probe, head):
    """Dry forward (once per compile), then the optimizer: made now, or checked."""
    if not state.built:
        with model.switch_mode():
            out = model(Tensor._wrap(probe))
        state.built = True
        loss = state.loss
        if (loss is not None and loss.kind == "cross_entropy" and head is None and not state.warned
                and isinstance(out, Tensor) and _looks_like_probabilities(out.data)):
            state.warned = True
            warnings.warn(
                "fit: the model's outputs look like probabilities (non-negative, rows sum to 1) but "
                "loss='cross_entropy' takes logits; end an nn.Sequential with nn.Softmax() (then fit "
                "fuses it with the loss) or remove the softmax from forward", stacklevel=3,
            )
    opt = getattr(model, "optimizer", None)
    if opt is None:
        if state.optimizer_spec is None:
            raise RuntimeError("fit: compile was given optimizer=None; pass an optimizer to model.compile")
        opt = make_optimizer(state.optimizer_spec, model.parameters())
        model.optimizer = opt
        state.param_ids.update(id(p) for p in model.parameters())
    else:
        check_optimizer(model, state, opt)
    return opt


def _check_verbose(verbose, where):
    if verbose == "auto" or verbose is True:
        return 1
    if verbose is False or verbose is None:
        return 0
    if verbose not in (0, 1, 2):
        raise ValueError(f"{where}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _check_positive_int(v, name, where, allow_zero=False):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < (0 if allow_zero else 1):
        raise ValueError(f"{where}: {name} must be a {'non-negative' if allow_zero else 'positive'} int, got {v!r}")
    return int(v)


# ----------------------------------------------------------------------------- evaluation
def _evaluate_batches(model, fwd, loss, metrics, prob_fn, batches, where):
    loss_fn = loss.fn if loss is not None else None
    nm = len(metrics)
    total, seen, sums = 0.0, 0, [0.0] * nm
    wrap = Tensor._wrap
    with model.switch_mode():
        for xb, yb in batches:
            out = fwd(wrap(xb))
            n = xb.shape[0]
            if loss_fn is not None:
                total += float(loss_fn(out, wrap(yb)).data) * n
            if nm:
                o = out.data
                p = prob_fn(o) if prob_fn is not None else o
                for i, m in enumerate(metrics):
                    sums[i] += m.fn(p if m.needs_probs else o, yb) * n
            seen += n
    if seen == 0:
        raise ValueError(f"{where}: no samples to evaluate")
    logs = {"loss": total / seen} if loss_fn is not None else {}
    for m, s in zip(metrics, sums):
        logs[m.name] = s / seen
    return logs


def _prob_fn(head, metrics):
    if head is not None and any(m.needs_probs for m in metrics):
        return FINAL_ACTIVATIONS[head]
    return None


# ----------------------------------------------------------------------------- fit
def fit(model, x, y=None, epochs=1, batch_size=32, validation_data=None, validation_split=0.0,
        shuffle=True, callbacks=None, verbose=1, initial_epoch=0, terminate_on_nan=True, distributed=None):
    """Train ``model``; returns a :class:`~zerodl.train.History` (see the module docstring).

    A NaN/Inf loss raises ``TrainingDiverged`` (``train/guards.py``) unless
    ``terminate_on_nan=False`` or a ``TerminateOnNaN`` callback is given; array inputs holding
    NaN/Inf are refused. ``distributed``: see "Distributed" in the module docstring."""
    state = compiled_state(model, "fit")
    if state.loss is None:
        raise RuntimeError("fit: compile was given loss=None; pass a loss to model.compile")
    verbose = _check_verbose(verbose, "fit")
    epochs = _check_positive_int(epochs, "epochs", "fit", allow_zero=True)
    batch_size = _check_positive_int(32 if batch_size is None else batch_size, "batch_size", "fit")
    initial_epoch = _check_positive_int(initial_epoch, "initial_epoch", "fit", allow_zero=True)

    loader, convert, probe, val = fit_data(model, state, x, y, batch_size, shuffle, validation_data,
                                            validation_split)
    fwd, head = _training_forward(model, state.loss)
    opt = _build(model, state, probe, head)
    strategy = resolve_strategy(distributed)
    if strategy is not None:  # this rank's shard, rank 0's weights, gradients averaged over the ranks
        loader = strategy.loader(loader)
        opt = strategy.optimizer(model, opt)
        verbose = verbose if strategy.is_writer else 0

    metrics = state.metrics
    nm = len(metrics)
    prob_fn = _prob_fn(head, metrics)
    loss_fn = state.loss.fn
    steps = len(loader)

    run = TrainingRun(model, opt, loader, epochs, initial_epoch)
    cbl = CallbackList(callbacks, model=model, params={"epochs": epochs, "steps": steps, "verbose": verbose},
                       run=run)
    begin_hooks, end_hooks = cbl.has_batch_begin, cbl.has_batch_end
    progress = Progress(verbose, epochs, steps)
    bar = progress.bar
    wrap = Tensor._wrap

    model.stop_training = False
    logs = None
    guard, quiet = nan_guard(terminate_on_nan, callbacks)
    # every module in training mode for the loop; each gets its own mode back at the end
    with model.switch_mode(training=True, grad=True), quiet:
        try:
            cbl.on_train_begin(None)
            for epoch in range(run.initial_epoch, epochs):
                if model.stop_training:
                    break
                cbl.on_epoch_begin(epoch, None)
                progress.epoch_begin(epoch)
                loss_sum, seen, sums = 0.0, 0, [0.0] * nm
                b = -1
                for b, batch in enumerate(loader):
                    xb, yb = batch if convert is None else convert(batch)
                    n = xb.shape[0]
                    if begin_hooks:
                        cbl.on_train_batch_begin(b, {"batch": b, "size": n})
                    out = fwd(wrap(xb))
                    loss = loss_fn(out, wrap(yb))
                    lv = float(loss.data)
                    bad = guard and not math.isfinite(lv)
                    if bad and strategy is None:
                        raise TrainingDiverged(epoch, epochs, b, steps, lv, weights_finite(model))
                    opt.zero_grad()
                    loss.backward()
                    if strategy is None:
                        opt.step()
                    elif strategy.step(opt, n, bad):  # a NaN/Inf loss on some rank: no rank updates
                        raise TrainingDiverged(epoch, epochs, b, steps, lv if bad else float("nan"),
                                               weights_finite(model))
                    loss_sum += lv * n
                    seen += n
                    if nm:
                        o = out.data
                        p = prob_fn(o) if prob_fn is not None else o
                        for i, m in enumerate(metrics):
                            sums[i] += m.fn(p if m.needs_probs else o, yb) * n
                    if bar:
                        progress.batch_end(b + 1, lambda: _running(loss_sum, seen, metrics, sums))
                    if end_hooks:
                        cbl.on_train_batch_end(b, {"batch": b, "size": n, "loss": lv})
                    if strategy is not None and (begin_hooks or end_hooks):  # all ranks stop at one step
                        model.stop_training = strategy.any_rank(model.stop_training)
                    if model.stop_training:
                        break
                if seen == 0:
                    raise ValueError("fit: the training data gave no batches (empty, or drop_last with too few samples)")
                logs = _running(loss_sum, seen, metrics, sums)
                if strategy is not None:
                    logs = strategy.epoch_logs(model, logs, seen)
                if val is not None:
                    cbl.on_test_begin()
                    vlogs = _evaluate_batches(model, fwd, state.loss, metrics, prob_fn, val(), "fit (validation)")
                    cbl.on_test_end(vlogs)
                    for k, v in vlogs.items():
                        logs["val_" + k] = v
                progress.epoch_end(epoch, logs, b + 1)
                cbl.on_epoch_end(epoch, logs)
                if strategy is not None:
                    model.stop_training = strategy.any_rank(model.stop_training)
                if model.stop_training:
                    break
            cbl.on_train_end(logs)
        finally:
            progress.close()
    model.history = cbl.history
    return cbl.history


def _running(loss_sum, seen, metrics, sums):
    logs = {"loss": loss_sum / seen}
    for m, s in zip(metrics, sums):
        logs[m.name] = s / seen
    return logs


# ----------------------------------------------------------------------------- evaluate / predict
def evaluate(model, x, y=None, batch_size=32, verbose=0):
    """Loss and metrics on ``(x, y)`` (eval mode, no_grad, in batches) -> ``{"loss": ..., ...}``."""
    state = compiled_state(model, "evaluate")
    if state.loss is None:
        raise RuntimeError("evaluate: compile was given loss=None; pass a loss to model.compile")
    verbose = _check_verbose(verbose, "evaluate")
    batch_size = _check_positive_int(32 if batch_size is None else batch_size, "batch_size", "evaluate")
    source = eval_source(model, state, x, y, batch_size, "evaluate")
    fwd, head = _training_forward(model, state.loss)
    logs = _evaluate_batches(model, fwd, state.loss, state.metrics, _prob_fn(head, state.metrics), source(),
                             "evaluate")
    if verbose:
        print(format_logs(logs), flush=True)
    return logs


def predict(model, x, batch_size=32, verbose=0):
    """The model's outputs for ``x`` (eval mode, no_grad, in batches), concatenated as an ndarray.

    ``x``: an array, a Dataset or a DataLoader (their first field is the input). The whole
    model runs, so a model ending with ``nn.Softmax`` returns probabilities.
    """
    _check_verbose(verbose, "predict")
    batch_size = _check_positive_int(32 if batch_size is None else batch_size, "batch_size", "predict")
    fdt, ids = float_dtype(model), takes_ids(model)
    xp = device_xp(model)

    def cx(a):
        a = convert_x(a, fdt, ids, "predict")
        return a if xp is np else xp.asarray(a)

    if isinstance(x, data.DataLoader) or isinstance(x, data.Dataset):
        loader = x if isinstance(x, data.DataLoader) else data.DataLoader(x, batch_size=batch_size)

        def batches():
            for batch in loader:
                yield cx(batch[0] if isinstance(batch, (tuple, list)) else batch)
    else:
        xa = cx(x)
        if xa.ndim == 0:
            raise ValueError(f"predict: x needs a first (sample) dimension; got shape {xa.shape}")

        def batches():
            for i in range(0, len(xa), batch_size):
                yield xa[i:i + batch_size]

    outs = []
    with model.switch_mode():
        for xb in batches():
            out = model(Tensor._wrap(xb))
            if isinstance(out, (tuple, list)):
                outs.append(tuple(as_numpy(o.data) for o in out))
            else:
                outs.append(as_numpy(out.data))
    if not outs:
        return np.empty((0,), dtype=fdt)
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outs))
    return outs[0] if len(outs) == 1 else np.concatenate(outs)
