"""Callbacks of fit (zerodl.callbacks), with Keras's semantics."""
import csv
import os

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.callbacks import (
    BackupAndRestore,
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


def blobs(n=60, seed=0, classes=3, dim=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    x = 3.0 * np.eye(classes, dim)[y] + rng.normal(size=(n, dim))
    return x.astype(np.float32), y.astype(np.int64)


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class Script(Callback):
    """Overwrites logs[key] with scripted values (so monitored values are known), and records
    the weights at the end of every epoch. Put it before the callback under test."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = list(values), key
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(snapshot(self.model))


def fit(model, callbacks, epochs, x=None, y=None, **kw):
    if x is None:
        x, y = blobs()
    if getattr(model, "_zd_compile", None) is None:
        model.compile(optim.SGD(model.parameters(), lr=0.05), "cross_entropy", ["accuracy"])
    kw.setdefault("verbose", 0)
    return model.fit(x, y, epochs=epochs, batch_size=16, callbacks=callbacks, **kw)


# ----------------------------------------------------------------------------- base class
class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_batch_end(self, batch, logs=None):
        assert np.isfinite(logs["loss"]) and logs["size"] > 0
        self.calls.append(f"batch_end {batch}")


def test_hooks_are_called_in_keras_order_with_model_and_params():
    x, y = blobs(n=40)
    model = mlp()
    rec = Recorder()
    fit(model, [rec], epochs=2, x=x, y=y, validation_split=0.2)  # 32 training samples: 2 batches
    keys = "['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    assert rec.calls == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", f"epoch_end 0 {keys}",
        "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", f"epoch_end 1 {keys}",
        "train_end",
    ]
    assert rec.model is model
    assert rec.params == {"epochs": 2, "steps": 2, "verbose": 0}


def test_stop_training_at_batch_end_finishes_the_epoch_then_stops():
    class StopAtBatch(Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_batch_end(self, batch, logs=None):
            self.batches += 1
            if batch == 1:
                self.model.stop_training = True

    cb = StopAtBatch()
    h = fit(mlp(), [cb], epochs=5, validation_split=0.25)
    assert cb.batches == 2
    assert len(h.history["loss"]) == 1 and len(h.history["val_loss"]) == 1  # epoch logs still written

    class StopAtEpoch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.stop_training = True

    h = fit(mlp(), [StopAtEpoch()], epochs=10)
    assert h.epoch == [0, 1, 2]


def test_lambda_callback():
    seen = []
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, round(logs["loss"], 6))))
    h = fit(mlp(), [cb], epochs=3)
    assert seen == [(i, round(v, 6)) for i, v in enumerate(h.history["loss"])]


# ----------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_and_restores_the_best_weights():
    model = mlp()
    script = Script([1.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0])
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = fit(model, [script, es], epochs=8)
    # epoch 1 is the best; epochs 2 and 3 do not improve: patience 2 runs out at epoch 3
    assert h.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3 and es.best == 0.5 and es.best_epoch == 1
    assert model.stop_training is True
    assert_same_weights(snapshot(model), script.weights[1])
    with pytest.raises(AssertionError):
        assert_same_weights(script.weights[1], script.weights[3])  # the weights did change


def test_early_stopping_without_restore_keeps_the_last_weights_and_min_delta():
    model = mlp()
    # improvements smaller than min_delta do not count
    script = Script([1.0, 0.95, 0.92, 0.91, 0.5])
    es = EarlyStopping(patience=2, min_delta=0.1)
    h = fit(model, [script, es], epochs=5)
    assert h.epoch == [0, 1, 2] and es.stopped_epoch == 2 and es.best == 1.0
    assert_same_weights(snapshot(model), script.weights[2])


def test_early_stopping_auto_mode_maximises_accuracy():
    script = Script([0.5, 0.6, 0.6, 0.55, 0.7], key="val_accuracy")
    es = EarlyStopping(monitor="val_accuracy", patience=2)
    assert es.mode == "max"
    h = fit(mlp(), [script, es], epochs=5)
    assert h.epoch == [0, 1, 2, 3] and es.best == 0.6 and es.best_epoch == 1
    assert EarlyStopping(monitor="val_loss").mode == "min"
    assert EarlyStopping(monitor="acc").mode == "max"
    assert EarlyStopping(monitor="val_mae", mode="max").mode == "max"


def test_early_stopping_restores_the_best_weights_also_when_epochs_run_out():
    # Keras 3: restore_best_weights applies at the end of training whenever a best epoch exists
    model = mlp()
    script = Script([1.0, 0.4, 0.6, 0.7])
    es = EarlyStopping(patience=10, restore_best_weights=True)
    h = fit(model, [script, es], epochs=4)
    assert len(h.epoch) == 4 and es.stopped_epoch == 0
    assert_same_weights(snapshot(model), script.weights[1])


def test_early_stopping_warns_when_the_monitor_is_missing():
    es = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match="val_loss"):
        h = fit(mlp(), [es], epochs=2)  # no validation data
    assert len(h.epoch) == 2


# ----------------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    model = mlp()
    script = Script([1.0, 0.8, 0.9, 0.7])
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.4f}.safetensors")
    mc = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    fit(model, [script, mc], epochs=4)
    assert sorted(os.listdir(tmp_path)) == [
        "ckpt-01-1.0000.safetensors", "ckpt-02-0.8000.safetensors", "ckpt-04-0.7000.safetensors",
    ]
    assert mc.best == 0.7
    loaded = zd.load_model(str(tmp_path / "ckpt-02-0.8000.safetensors"))
    assert_same_weights(snapshot(loaded), script.weights[1])


def test_model_checkpoint_every_epoch_and_weights_only(tmp_path):
    model = mlp()
    fit(model, [ModelCheckpoint(str(tmp_path / "m{epoch}.safetensors"))], epochs=3)
    assert sorted(os.listdir(tmp_path)) == ["m1.safetensors", "m2.safetensors", "m3.safetensors"]
    weights_path = str(tmp_path / "w.safetensors")
    fit(model, [ModelCheckpoint(weights_path, save_weights_only=True, monitor="loss")], epochs=1)
    assert_same_weights(zd.load(weights_path), snapshot(model))
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert leftovers == []  # atomic writes leave no temporary files


def test_model_checkpoint_names_a_missing_format_field(tmp_path):
    mc = ModelCheckpoint(str(tmp_path / "m-{val_auc:.2f}.safetensors"))
    with pytest.raises(KeyError, match="val_auc"):
        fit(mlp(), [mc], epochs=1)


# ----------------------------------------------------------------------------- learning rate
def test_reduce_lr_on_plateau_multiplies_the_rate_after_patience_epochs():
    model = mlp()
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy")
    script = Script([1.0] * 8)
    rl = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    h = fit(model, [script, rl], epochs=8)
    # best at epoch 0; waits 1, 2 -> reduce at the end of epoch 2, again at 4, then 6 (min_lr)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert model.optimizer.lr == pytest.approx(0.02)


def test_reduce_lr_on_plateau_cooldown_and_improvements():
    model = mlp()
    model.compile(optim.SGD(model.parameters(), lr=1.0), "cross_entropy")
    script = Script([1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    rl = ReduceLROnPlateau(factor=0.1, patience=1, cooldown=2)
    h = fit(model, [script, rl], epochs=8)
    # Keras's order: the cooldown counter is decremented first, then the value is compared.
    # e1: wait 1 -> reduce, cooldown 2; e2: cooldown 1, improves; e3: cooldown 0 (so no longer
    # in cooldown), no improvement -> wait 1 -> reduce; e4, e5 likewise; e6, e7 likewise.
    assert h.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_sets_the_rate_every_epoch():
    model = mlp()
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy")
    used = []

    class Spy(Callback):
        def on_batch_begin(self, batch, logs=None):
            if batch == 0:
                used.append(self.model.optimizer.lr)

    sched = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.5)
    h = fit(model, [sched, Spy()], epochs=4)
    assert used == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    # the one-argument form (Keras's old API)
    fit(model, [LearningRateScheduler(lambda epoch: 0.3)], epochs=1)
    assert model.optimizer.lr == pytest.approx(0.3)


# ----------------------------------------------------------------------------- CSVLogger
def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = str(tmp_path / "logs" / "history.csv")
    h = fit(mlp(), [CSVLogger(path)], epochs=3, validation_split=0.25)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]  # sorted, as Keras
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, r in enumerate(rows[1:]):
        assert float(r[2]) == pytest.approx(h.history["loss"][i])
        assert float(r[4]) == pytest.approx(h.history["val_loss"][i])
    # append=True continues the file without a second header
    fit(mlp(), [CSVLogger(path, append=True)], epochs=2, validation_split=0.25)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 6 and rows.count(rows[0]) == 1
    # a new run without append starts over; separator
    fit(mlp(), [CSVLogger(path, separator=";")], epochs=1)
    with open(path) as f:
        assert f.read().splitlines()[0] == "epoch;accuracy;loss"


# ----------------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    calls = {"n": 0}

    def flaky_loss(y_pred, y_true):
        calls["n"] += 1
        loss = F.softmax_cross_entropy(y_pred, y_true)
        return loss * float("nan") if calls["n"] == 3 else loss

    model = mlp()
    model.compile(optim.SGD(model.parameters(), lr=0.05), flaky_loss)
    h = fit(model, [TerminateOnNaN()], epochs=5, verbose=0)  # 4 batches per epoch
    assert calls["n"] == 3
    assert len(h.epoch) == 1 and np.isnan(h.history["loss"][0])
    assert "Batch 2: Invalid loss" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_with_a_diverging_learning_rate():
    x, y = blobs()
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))
    model.compile(optim.SGD(model.parameters(), lr=1e3), "mse")
    h = model.fit(x, y.astype(np.float32) * 100, epochs=50, batch_size=4, callbacks=[TerminateOnNaN()], verbose=0)
    assert len(h.epoch) < 50
    assert not np.isfinite(h.history["loss"][-1])


# ----------------------------------------------------------------------------- BackupAndRestore
class Crash(Exception):
    pass


class CrashAt(Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise Crash(f"killed at the start of epoch {epoch}")

    def on_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise Crash(f"killed in epoch {self.current}, batch {batch}")


def _resumable_run(seed, callbacks, epochs=6, extra=()):
    """Build, compile and fit a model that uses every source of state: shuffling, dropout,
    batch norm running stats, Adam's moments, and a learning-rate schedule."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=90)
    x = (2.0 * np.eye(3, 5)[y] + rng.normal(size=(90, 5))).astype(np.float32)
    zd.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3),
                          nn.Softmax())
    model.compile("adam", "cross_entropy", ["accuracy"])
    sched = LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    h = model.fit(x, y, epochs=epochs, batch_size=16, shuffle=True, validation_split=0.2,
                  callbacks=[sched, *extra, *callbacks], verbose=0)
    return model, h


@pytest.mark.parametrize("crash", [CrashAt(3), CrashAt(3, batch=1)], ids=["epoch-start", "mid-epoch"])
def test_backup_and_restore_resumes_bitwise_equal_to_an_uninterrupted_run(tmp_path, crash):
    reference, h_ref = _resumable_run(seed=7, callbacks=[])

    backup = str(tmp_path / "backup")
    with pytest.raises(Crash):
        _resumable_run(seed=7, callbacks=[BackupAndRestore(backup), crash])
    assert os.path.exists(os.path.join(backup, BackupAndRestore.FILENAME))

    # "a new process": another seed, so nothing is right unless the backup restores it
    bar = BackupAndRestore(backup)
    epochs_run = []
    spy = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch))
    resumed, h = _resumable_run(seed=123, callbacks=[bar, spy])
    assert bar.restored_epoch == 2 and epochs_run == [3, 4, 5]
    assert_same_weights(snapshot(resumed), snapshot(reference))
    assert h.epoch == h_ref.epoch == [0, 1, 2, 3, 4, 5]
    assert h.history == h_ref.history
    assert resumed.optimizer.lr == reference.optimizer.lr
    assert not os.path.exists(backup)  # deleted after a normal end (Keras's behaviour)


def test_backup_and_restore_keeps_early_stopping_state(tmp_path):
    def es():
        return EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)

    reference, _ = _resumable_run(seed=3, callbacks=[], extra=[es()])
    backup = str(tmp_path / "b")
    with pytest.raises(Crash):
        _resumable_run(seed=3, callbacks=[BackupAndRestore(backup), CrashAt(4)], extra=[es()])
    resumed, _ = _resumable_run(seed=99, callbacks=[BackupAndRestore(backup)], extra=[es()])
    assert_same_weights(snapshot(resumed), snapshot(reference))


def test_backup_and_restore_without_a_backup_is_a_plain_run(tmp_path):
    backup = str(tmp_path / "fresh")
    ref, h_ref = _resumable_run(seed=5, callbacks=[])
    model, h = _resumable_run(seed=5, callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    assert_same_weights(snapshot(model), snapshot(ref))
    assert h.history == h_ref.history
    assert os.path.exists(os.path.join(backup, BackupAndRestore.FILENAME))  # kept on request


def test_backup_of_a_finished_run_resumes_with_nothing_left_to_do(tmp_path):
    """A backup written at the last epoch (kept with delete_checkpoint=False): fit restores it,
    runs no epoch, returns the whole History, and deletes the backup at the normal end."""
    backup = str(tmp_path / "done")
    ref, h_ref = _resumable_run(seed=4, callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    epochs_run = []
    spy = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch))
    bar = BackupAndRestore(backup)
    model, h = _resumable_run(seed=77, callbacks=[bar, spy])
    assert epochs_run == [] and bar.restored_epoch == 5
    assert_same_weights(snapshot(model), snapshot(ref))
    assert h.epoch == [0, 1, 2, 3, 4, 5] and h.history == h_ref.history
    assert not os.path.exists(backup)


def test_backup_and_restore_with_initial_epoch(tmp_path):
    """Without a backup, initial_epoch is honoured; with one, the backup's epoch wins."""
    backup = str(tmp_path / "b")
    epochs_run = []
    spy = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch))

    class StopAt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 3:
                raise Crash("killed")

    with pytest.raises(Crash):
        fit(mlp(), [BackupAndRestore(backup), spy, StopAt()], epochs=6, initial_epoch=2)
    assert epochs_run == [2, 3]  # started at initial_epoch; the backup of epoch 2 exists
    epochs_run.clear()
    h = fit(mlp(), [BackupAndRestore(backup), spy], epochs=6, initial_epoch=0)
    assert epochs_run == [3, 4, 5] and h.epoch == [2, 3, 4, 5]


def test_early_stopping_baseline_keras3_semantics():
    """Keras 3: an epoch that improves on the best but not on ``baseline`` does not reset the
    wait counter (it only keeps training going that epoch), so the first epoch without an
    improvement stops training once ``patience`` epochs have passed without beating the
    baseline; ``best`` still follows the improvements."""
    es = EarlyStopping(patience=2, baseline=0.5)
    h = fit(mlp(), [Script([0.9, 0.8, 0.85, 0.7, 0.6]), es], epochs=5)
    assert len(h.epoch) == 3 and es.stopped_epoch == 2 and es.best == 0.8
    no_baseline = EarlyStopping(patience=2)  # the same values run to the end without a baseline
    assert len(fit(mlp(), [Script([0.9, 0.8, 0.85, 0.7, 0.6]), no_baseline], epochs=5).epoch) == 5
    es = EarlyStopping(patience=2, baseline=0.5)  # beaten at epoch 1: waits start again there
    h = fit(mlp(), [Script([0.9, 0.4, 0.45, 0.46, 0.3]), es], epochs=5)
    assert len(h.epoch) == 4 and es.stopped_epoch == 3 and es.best == 0.4 and es.best_epoch == 1


def test_early_stopping_min_delta_in_max_mode():
    es = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    h = fit(mlp(), [Script([0.5, 0.54, 0.56, 0.7], key="val_accuracy"), es], epochs=4)
    # 0.54 and 0.56 are within min_delta of 0.5: no improvement, stop after epoch 1
    assert es.mode == "max" and len(h.epoch) == 2 and es.best == 0.5


class EpochCounter(Callback):
    """A user's callback with state: what it has seen survives a crash through its state_dict."""

    def __init__(self):
        super().__init__()
        self.seen, self.losses = 0, None

    def on_train_begin(self, logs=None):
        self.seen, self.losses = 0, np.zeros(0)

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        self.losses = np.append(self.losses, logs["loss"])

    def state_dict(self):
        return {"seen": self.seen, "arrays": {"losses": self.losses}}

    def load_state_dict(self, state):
        self.seen, self.losses = state["seen"], np.asarray(state["arrays"]["losses"])


def test_backup_restores_any_callback_through_its_public_state_dict(tmp_path):
    """BackupAndRestore keeps every callback's state_dict() (JSON values and arrays, nested),
    restores it after every on_train_begin (it runs last), and keys it by class name, so a
    callback added only to the resumed run (the spy) does not shift anyone's state."""
    ref_counter = EpochCounter()
    _resumable_run(seed=5, callbacks=[], extra=[ref_counter])
    backup = str(tmp_path / "b")
    with pytest.raises(Crash):
        _resumable_run(seed=5, callbacks=[BackupAndRestore(backup), CrashAt(4)], extra=[EpochCounter()])
    counter, bar = EpochCounter(), BackupAndRestore(backup)
    spy = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    _resumable_run(seed=99, callbacks=[spy, bar], extra=[counter])
    assert bar.restored_epoch == 3 and counter.seen == 6
    np.testing.assert_array_equal(counter.losses, ref_counter.losses)
    assert [type(cb).__name__ for cb in bar.run.callbacks][-2:] == ["History", "BackupAndRestore"]


def test_monitor_callbacks_share_one_improvement_rule():
    from zerodl.callbacks import MonitorCallback

    for cb in (EarlyStopping(min_delta=0.1), ReduceLROnPlateau(min_delta=0.1), ModelCheckpoint("x", monitor="val_loss")):
        assert isinstance(cb, MonitorCallback) and cb.mode == "min" and cb.best == np.inf
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.1)
    assert es.mode == "max" and es.is_improvement(0.75, 0.6) and not es.is_improvement(0.65, 0.6)
    es.best, es.wait = 0.7, 2
    restored = EarlyStopping(monitor="val_accuracy")
    restored.load_state_dict(es.state_dict())
    assert restored.best == 0.7 and restored.wait == 2


class _StopAt(Callback):
    """Raises KeyboardInterrupt at the first batch of epoch ``epoch`` (a Ctrl-C in fit)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop_epoch", [0, 2])
def test_csv_logger_interrupted_leaves_complete_rows_and_never_an_emptied_file(tmp_path, stop_epoch):
    x, y = blobs()
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,9.0\n")  # a previous run's log
    model = mlp()
    model.compile(optimizer="adam", loss="cross_entropy")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=20, verbose=0, callbacks=[CSVLogger(path), _StopAt(stop_epoch)])
    rows = list(csv.DictReader(open(path, newline="")))
    if stop_epoch == 0:  # stopped before any epoch finished: the old file is untouched
        assert path.read_text() == "epoch,loss\n0,9.0\n"
    else:  # the finished epochs, each a whole row
        assert [r["epoch"] for r in rows] == ["0", "1"] and all(float(r["loss"]) > 0 for r in rows)
    fresh = tmp_path / "none.csv"
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[CSVLogger(fresh), _StopAt(0)])
    assert not fresh.exists()
