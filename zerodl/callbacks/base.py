"""``Callback``, ``CallbackList``, ``History``, ``LambdaCallback`` and ``TrainingRun``: how ``fit``
talks to callbacks.

``fit`` calls ``set_model(model)``, ``set_params(params)`` (``{"epochs", "steps", "verbose"}``)
and ``set_run(run)``, then ``on_train_begin``, per epoch ``on_epoch_begin``, per batch
``on_train_batch_begin`` / ``on_train_batch_end`` (which call ``on_batch_begin`` /
``on_batch_end``), ``on_epoch_end(epoch, logs)`` and finally ``on_train_end``. Epochs are
0-based as in Keras. Setting ``self.model.stop_training = True`` ends training: the loop
checks it after every batch (then finishes the epoch's validation and ``on_epoch_end``) and
after every epoch.

- Batch logs are ``{"batch": i, "size": n, "loss": <this batch's loss>}`` (that batch's loss,
  not a running mean: what ``TerminateOnNaN`` needs). Batch hooks cost nothing unless some
  callback overrides them.
- Epoch logs: ``loss``, each metric, then ``val_loss`` and ``val_<metric>`` with validation
  data; the learning-rate callbacks add ``learning_rate`` as Keras 3 does.
- State as data: ``state_dict()`` returns what a callback needs to continue a run (JSON-able
  values and arrays, nested dicts allowed) and ``load_state_dict(state)`` takes it back;
  ``BackupAndRestore`` stores it for every callback whose ``state_dict()`` is not empty.
- Order: ``CallbackList`` keeps the given order, adds a ``History`` after them (unless one is
  given), and runs callbacks whose ``runs_last`` is true (``BackupAndRestore``) after all the
  others, so they see every other callback's state at the end of an epoch and restore it
  after every ``on_train_begin`` has reset it.
"""
__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "TrainingRun"]


class TrainingRun:
    """What a running ``fit`` shares with callbacks that need more than the model
    (``callback.run``): the optimizer, the training DataLoader, the callback list, the number
    of epochs and the epoch to start from (a callback may change ``initial_epoch`` in
    ``on_train_begin``: ``BackupAndRestore`` does, to resume)."""

    def __init__(self, model, optimizer, train_loader, epochs, initial_epoch):
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self.callbacks = []


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being trained."""

    model = None
    params = None
    run = None
    runs_last = False  # CallbackList runs these after all others (see the module docstring)

    def __init__(self):
        self.model = None
        self.params = {}
        self.run = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def set_run(self, run):
        self.run = run

    def state_dict(self):
        """What this callback needs to continue an interrupted run ({}: nothing)."""
        return {}

    def load_state_dict(self, state):
        """Take back what ``state_dict()`` returned."""

    # training
    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    # evaluation (validation inside fit calls on_test_begin / on_test_end)
    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """Records the logs of every epoch (the object ``fit`` returns, as in Keras).

    ``history.history`` is a dict of per-epoch lists (``{"loss": [...], "val_loss": [...],
    "accuracy": [...], ...}``); ``history.epoch`` lists the (0-based) epoch indices.
    ``fit`` adds one to every run (after the given callbacks, as Keras does) and returns it;
    ``model.history`` is set to it as well. When ``BackupAndRestore`` resumes a run, the
    restored History holds the epochs from before the interruption too (its ``state_dict``).
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except Exception:  # pragma: no cover - a model that refuses new attributes
                pass

    def state_dict(self):
        return {"history": self.history, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.epoch = list(state.get("epoch", []))

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"<History: {len(self.epoch)} epochs; {keys}>"


def _overrides(cb, *names):
    for name in names:
        if name in getattr(cb, "__dict__", {}):
            return True
        mine = getattr(type(cb), name, None)
        if mine is not None and mine is not getattr(Callback, name):
            return True
    return False


class CallbackList:
    """A list of callbacks called together (order: see the module docstring).

    ``self.history`` is the list's ``History``. ``has_batch_begin`` / ``has_batch_end`` say
    whether any callback wants the per-batch calls, so the fit loop can skip them (and the
    per-batch logs dict) otherwise.
    """

    def __init__(self, callbacks=None, add_history=True, model=None, params=None, run=None):
        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        given = list(callbacks or [])
        for cb in given:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"fit: callbacks must be zerodl.callbacks.Callback instances, got {type(cb).__name__}"
                )
        self.callbacks = [cb for cb in given if not cb.runs_last]
        self.history = next((cb for cb in given if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        self.callbacks += [cb for cb in given if cb.runs_last]
        self.has_batch_begin = any(
            _overrides(cb, "on_batch_begin", "on_train_batch_begin") for cb in self.callbacks
        )
        self.has_batch_end = any(_overrides(cb, "on_batch_end", "on_train_batch_end") for cb in self.callbacks)
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)
        if run is not None:
            run.callbacks = self.callbacks
            for cb in self.callbacks:
                cb.set_run(run)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, cb):
        self.callbacks.append(cb)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_test_end(logs)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        super().__init__()
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end)):
            if fn is not None:
                setattr(self, name, fn)
        if on_train_begin is not None:
            self.on_train_begin = lambda logs=None: on_train_begin(logs)
        if on_train_end is not None:
            self.on_train_end = lambda logs=None: on_train_end(logs)
