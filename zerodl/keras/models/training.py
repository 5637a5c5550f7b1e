"""Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict`` for every ``keras.Model``, with
several inputs and outputs (a loss, weight and metrics per output).

- Inputs / targets: an array, a list (in the order of ``model.inputs`` / outputs), or a dict by
  input / output name; or a zerodl ``Dataset`` / ``DataLoader`` of ``(x, y)``.
- Logs: ``loss`` (the weighted sum), and with several outputs ``<output>_loss``; metrics
  ``<name>`` (one output) or ``<output>_<name>``; validation ones prefixed ``val_``. Epoch
  values are means over samples.
- An output layer ending in softmax (sigmoid) whose loss is a cross entropy on probabilities
  is trained on its logits with zerodl's fused op (the same value, stable); metrics see the
  probabilities.
- Callbacks, the progress bar and ``History`` are zerodl's own (``zerodl.callbacks``).
"""
import numpy as np

from ...core import Tensor
from ...core.backend import as_numpy
from ...core.random import get_rng
from ...data import DataLoader, Dataset
from ...optim import clip_grad_norm_
from ...callbacks import CallbackList, TrainingRun
from ...train.progress import Progress, format_logs
from .. import losses as L
from .. import metrics as M
from .. import optimizers as O

__all__ = ["Trainer"]


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z):
    return 0.5 * np.tanh(0.5 * z) + 0.5


_PROBS = {"softmax": _softmax, "sigmoid": _sigmoid}


class _Compiled:
    def __init__(self, optimizer, losses, weights, metrics, names, fused, heads):
        self.optimizer, self.losses, self.weights, self.metrics = optimizer, losses, weights, metrics
        self.names, self.fused, self.heads = names, fused, heads
        self.iterations = 0  # optimizer steps so far (learning-rate schedules read it)


def _per_output(spec, names, what):
    """``spec`` (one thing, a list in output order, or a dict by name) -> a list per output."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} for unknown output(s) {sorted(unknown)}; outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {len(spec)} {what} for {len(names)} outputs ({names})")
        return list(spec)
    return [spec] * len(names) if what == "losses" or len(names) == 1 else [spec] + [None] * (len(names) - 1)


class Trainer:
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        names = self.output_names
        losses = [L.get(s) if s is not None else None for s in _per_output(loss, names, "losses")]
        weights = [1.0] * len(names) if loss_weights is None else [float(w) for w in _per_output(
            loss_weights, names, "loss_weights")]
        mets = []
        for spec, lo in zip(_per_output(metrics, names, "metrics"), losses):
            specs = [] if spec is None else (spec if isinstance(spec, (list, tuple)) else [spec])
            mets.append([M.get(s, lo) for s in specs])
        self.__dict__["_zk"] = _Compiled(O.get(optimizer), losses, weights, mets, names, None,
                                         [getattr(lo, "head", None) for lo in losses])
        self.__dict__["optimizer"] = None
        self.__dict__["compiled_loss"] = losses
        self.__dict__["_compile_config"] = _compile_names(optimizer, loss, metrics)

    # ----- data --------------------------------------------------------------------------------
    def _arrays(self, data, keys, what):
        if data is None:
            return None
        if isinstance(data, dict):
            missing = [k for k in keys if k not in data]
            if missing:
                raise ValueError(f"{what}: no data for {missing}; give {keys}")
            data = [data[k] for k in keys]
        elif not isinstance(data, (list, tuple)) or len(keys) == 1:
            data = [data]
        if len(data) != len(keys):
            raise ValueError(f"{what}: the model has {len(keys)} ({', '.join(keys)}), got {len(data)} arrays")
        out = []
        for a in data:
            a = as_numpy(a.data) if isinstance(a, Tensor) else np.asarray(a)
            if a.dtype.kind in "fbu" and a.dtype != self._dtype and not (a.dtype.kind == "u" and a.itemsize > 1):
                a = a.astype(self._dtype)
            out.append(a)
        n = {len(a) for a in out}
        if len(n) > 1:
            raise ValueError(f"{what}: arrays of different lengths {sorted(n)}")
        return out

    def _data_input_names(self):
        return getattr(self, "input_names", None) or ["input"]

    def _xy(self, x, y, where):
        if getattr(self, "_zk", None) is None:
            raise RuntimeError(f"{where}: the model is not compiled; call model.compile(optimizer, loss, metrics) "
                               "first")
        if isinstance(x, DataLoader):
            x = x.dataset
        if isinstance(x, Dataset):
            xs, ys = zip(*(x[i] for i in range(len(x))))
            x, y = np.stack([np.asarray(v) for v in xs]), np.stack([np.asarray(v) for v in ys])
        if x is None:
            raise ValueError(f"{where}: x is missing")
        return self._arrays(x, self._data_input_names(), f"{where} (x)"), self._arrays(y, self._zk.names, f"{where} (y)")

    # ----- one pass ------------------------------------------------------------------------------
    def _prepare(self, xs, where):
        zk = self._zk
        if zk.fused is None:
            with self.switch_mode():  # build lazily-shaped layers from one sample, in eval mode
                self._call_outputs([Tensor._wrap(a[:1]) for a in xs])
            heads = [h if (lo is not None and not getattr(lo, "from_logits", True)) else None
                     for h, lo in zip(zk.heads, zk.losses)]
            zk.fused = self.fusable_outputs(heads) if hasattr(self, "fusable_outputs") else []
        return zk

    def _step_logs(self, zk, outs, ys, sums, n):
        """The weighted loss of one batch (a Tensor); adds to ``sums`` and the metrics' states."""
        total = None
        for i, (o, lo, w) in enumerate(zip(outs, zk.losses, zk.weights)):
            if lo is None:
                continue
            v = lo.compute(o, ys[i], logits=i in zk.fused)
            key = zk.names[i] + "_loss"
            sums[key] = sums.get(key, 0.0) + float(v.data) * n
            term = v if w == 1.0 else v * w
            total = term if total is None else total + term
        if total is None:
            raise RuntimeError("fit: compile was given no loss")
        for i, mets in enumerate(zk.metrics):
            if not mets:
                continue
            logits = as_numpy(outs[i].data)
            probs = _PROBS[zk.heads[i]](logits) if i in zk.fused and any(m.needs_probs for m in mets) else logits
            for m in mets:
                m.update_state(ys[i], probs if m.needs_probs else logits)
        return total

    def _logs(self, zk, sums, seen, prefix=""):
        multi = len(zk.names) > 1
        # the loss is the weighted sum of the per-output means
        logs = {prefix + "loss": sum(w * sums[f"{k}_loss"] / seen for k, w in zip(zk.names, zk.weights)
                                     if f"{k}_loss" in sums)}
        if multi:
            for k in zk.names:
                if f"{k}_loss" in sums:
                    logs[f"{prefix}{k}_loss"] = sums[f"{k}_loss"] / seen
        for k, mets in zip(zk.names, zk.metrics):
            for m in mets:
                logs[f"{prefix}{k}_{m.name}" if multi else prefix + m.name] = m.result()
        return logs

    def _evaluate_arrays(self, zk, xs, ys, batch_size):
        for mets in zk.metrics:
            for m in mets:
                m.reset_state()
        sums, seen = {}, 0
        with self.switch_mode():
            for i in range(0, len(xs[0]), batch_size):
                xb = [Tensor._wrap(a[i:i + batch_size]) for a in xs]
                yb = [a[i:i + batch_size] for a in ys]
                n = len(yb[0])
                self._step_logs(zk, self._call_outputs(xb, zk.fused), yb, sums, n)
                seen += n
        if not seen:
            raise ValueError("evaluate: no samples")
        return sums, seen

    # ----- the Keras methods -------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        xs, ys = self._xy(x, y, "fit")
        if ys is None:
            raise ValueError("fit: y is missing")
        val = None
        if validation_data is not None:
            vx, vy = validation_data[0], validation_data[1]
            val = self._xy(vx, vy, "fit (validation_data)")
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split!r}")
            cut = int(len(xs[0]) * (1 - validation_split))
            val = ([a[cut:] for a in xs], [a[cut:] for a in ys])
            xs, ys = [a[:cut] for a in xs], [a[:cut] for a in ys]
        zk = self._prepare(xs, "fit")
        if self.optimizer is None:
            params = [p for p in self.parameters() if p.requires_grad]
            opt = zk.optimizer
            self.__dict__["optimizer"] = opt.build(params) if isinstance(opt, O.Optimizer) else opt
        opt = self.optimizer
        clip = getattr(zk.optimizer, "global_clipnorm", None)
        schedule = getattr(zk.optimizer, "schedule", None)
        clip_params = [p for p in self.parameters() if p.requires_grad] if clip else None
        penalties = [la for la in self._all_layers() if getattr(la, "kernel_regularizer", None) is not None]
        bs = int(batch_size or 32)
        n_total = len(xs[0])
        steps = -(-n_total // bs)
        if verbose not in ("auto", True, False, None, 0, 1, 2):
            raise ValueError(f"fit: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        verbose = 1 if verbose in ("auto", True) else int(verbose or 0)
        run = TrainingRun(self, opt, None, epochs, initial_epoch)  # no DataLoader: batches come from arrays
        cbl = CallbackList(callbacks, model=self, params={"epochs": epochs, "steps": steps, "verbose": verbose},
                           run=run)
        progress = Progress(verbose, epochs, steps)
        wrap = Tensor._wrap
        self.stop_training = False
        logs = None
        # every module in training mode for the loop; each gets its own mode back at the end
        with self.switch_mode(training=True, grad=True):
            try:
                cbl.on_train_begin(None)
                for epoch in range(run.initial_epoch, epochs):
                    if self.stop_training:
                        break
                    cbl.on_epoch_begin(epoch, None)
                    progress.epoch_begin(epoch)
                    for mets in zk.metrics:
                        for m in mets:
                            m.reset_state()
                    order = get_rng().permutation(n_total) if shuffle else np.arange(n_total)
                    sums, seen, b = {}, 0, -1
                    for b in range(steps):
                        idx = order[b * bs:(b + 1) * bs]
                        xb, yb = [wrap(a[idx]) for a in xs], [a[idx] for a in ys]
                        n = len(idx)
                        if cbl.has_batch_begin:
                            cbl.on_train_batch_begin(b, {"batch": b, "size": n})
                        loss = self._step_logs(zk, self._call_outputs(xb, zk.fused), yb, sums, n)
                        for la in penalties:
                            loss = loss + la.kernel_regularizer(la.kernel)
                        if schedule is not None:
                            opt.lr = schedule(zk.iterations)
                        zk.iterations += 1
                        opt.zero_grad()
                        loss.backward()
                        if clip:
                            clip_grad_norm_(clip_params, clip)
                        opt.step()
                        seen += n
                        if progress.bar:
                            progress.batch_end(b + 1, lambda: self._logs(zk, sums, seen))
                        if cbl.has_batch_end:
                            cbl.on_train_batch_end(b, {"batch": b, "size": n, "loss": float(loss.data)})
                        if self.stop_training:
                            break
                    logs = self._logs(zk, sums, seen)
                    if val is not None:
                        cbl.on_test_begin()
                        vs, vn = self._evaluate_arrays(zk, val[0], val[1], int(validation_batch_size or bs))
                        vlogs = self._logs(zk, vs, vn)
                        cbl.on_test_end(vlogs)
                        logs.update({"val_" + k: v for k, v in vlogs.items()})
                    progress.epoch_end(epoch, logs, b + 1)
                    cbl.on_epoch_end(epoch, logs)
                cbl.on_train_end(logs)
            finally:
                progress.close()
        self.__dict__["history"] = cbl.history
        return cbl.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss (a float) without metrics, else ``[loss, *metrics]`` in log order; or the
        dict of logs with ``return_dict=True``."""
        xs, ys = self._xy(x, y, "evaluate")
        if ys is None:
            raise ValueError("evaluate: y is missing")
        zk = self._prepare(xs, "evaluate")
        sums, seen = self._evaluate_arrays(zk, xs, ys, int(batch_size or 32))
        logs = self._logs(zk, sums, seen)
        if verbose not in (0, False, "auto"):
            print(format_logs(logs), flush=True)
        if return_dict:
            return logs
        values = [float(v) for v in logs.values()]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs as arrays (a list of arrays for several outputs, a dict for dict outputs)."""
        if isinstance(x, (DataLoader, Dataset)):
            x = self._xy_inputs(x)
        xs = self._arrays(x, self._data_input_names(), "predict (x)")
        bs = int(batch_size or 32)
        parts = []
        with self.switch_mode():
            if not self.built and not hasattr(self, "_inputs"):
                self._call_outputs([Tensor._wrap(a[:1]) for a in xs])
            for i in range(0, len(xs[0]), bs):
                outs = self._call_outputs([Tensor._wrap(a[i:i + bs]) for a in xs])
                parts.append([as_numpy(o.data) for o in outs])
        outs = [np.concatenate(p) for p in zip(*parts)]
        keys = getattr(self, "_output_keys", None)
        if keys:
            return dict(zip(keys, outs))
        return outs[0] if len(outs) == 1 else outs

    def _xy_inputs(self, data):
        ds = data.dataset if isinstance(data, DataLoader) else data
        first = [ds[i] for i in range(len(ds))]
        return np.stack([np.asarray(s[0] if isinstance(s, (tuple, list)) else s) for s in first])

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(x[0]) if isinstance(x, (list, tuple)) else len(x))

    def train_on_batch(self, x, y):
        h = self.fit(x, y, batch_size=len(x[0]) if isinstance(x, (list, tuple)) else len(x), epochs=1, verbose=0,
                     shuffle=False)
        values = [v[-1] for v in h.history.values()]
        return values[0] if len(values) == 1 else values


def _compile_names(optimizer, loss, metrics):
    """The compile arguments when they are plain names (recorded in model files)."""
    out = {}
    if isinstance(optimizer, str):
        out["optimizer"] = optimizer
    if isinstance(loss, str):
        out["loss"] = loss
    if isinstance(metrics, (list, tuple)) and all(isinstance(m, str) for m in metrics):
        out["metrics"] = list(metrics)
    return out or None
