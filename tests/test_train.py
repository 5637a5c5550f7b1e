"""The Keras-style training API: compile / fit / evaluate / predict / summary (zerodl.train)."""
import io
import sys

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import DataLoader, Dataset, TensorDataset
from zerodl.train import History


def blobs(n=120, seed=0, classes=3, dim=4):
    """Well separated Gaussian blobs: float32 inputs, int64 labels."""
    rng = np.random.default_rng(seed)
    centers = 4.0 * np.eye(classes, dim)
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(size=(n, dim))
    return x.astype(np.float32), y.astype(np.int64)


def mlp(dim=4, classes=3, hidden=16, softmax=False):
    layers = [nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, classes)]
    if softmax:
        layers.append(nn.Softmax())
    return nn.Sequential(*layers)


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------- fit basics
def test_fit_returns_history_with_keras_keys_and_lengths():
    zd.manual_seed(0)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy", "mae"])
    h = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(h, History)
    assert list(h.history) == ["loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae"]
    assert all(len(v) == 3 for v in h.history.values())
    assert h.epoch == [0, 1, 2]
    assert model.history is h
    assert all(isinstance(v, float) for v in h.history["loss"])
    # no validation: no val_ keys; "acc" keeps its name (Keras 3)
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["acc"])
    h = model.fit(x, y, epochs=2, verbose=0)
    assert list(h.history) == ["loss", "acc"]


def test_loss_decreases_and_accuracy_rises_on_a_separable_problem():
    zd.manual_seed(1)
    x, y = blobs(n=200, seed=1)
    model = mlp()
    model.compile("adam", "cross_entropy", ["accuracy"])
    before = model.evaluate(x, y)
    h = model.fit(x, y, epochs=15, batch_size=20, verbose=0)
    loss = h.history["loss"]
    assert loss[-1] < loss[0] * 0.5
    assert h.history["accuracy"][-1] > 0.95
    after = model.evaluate(x, y)
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.95


def test_string_optimizers_use_pytorch_default_learning_rates():
    """zerodl names take the zerodl.optim class's own defaults, PyTorch's (zerodl.optim.names);
    the Keras facade's names take Keras's."""
    x, y = blobs(n=32)
    expected = {"adam": (optim.Adam, 1e-3), "sgd": (optim.SGD, 1e-3), "rmsprop": (optim.RMSprop, 1e-2),
                "adagrad": (optim.AdaGrad, 1e-2), "momentum": (optim.Momentum, 0.01),
                "adamw": (optim.AdamW, 1e-3)}
    for name, (cls, lr) in expected.items():
        model = mlp()
        model.compile(optimizer=name, loss="cross_entropy")
        assert model.optimizer is None  # made at the start of fit, once the parameters exist
        model.fit(x, y, epochs=1, verbose=0)
        assert type(model.optimizer) is cls and model.optimizer.lr == pytest.approx(lr)
    with pytest.raises(ValueError, match="unknown optimizer"):
        mlp().compile(optimizer="adamax")


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = blobs(n=100, seed=2)
    model = mlp()
    # lr = 0: the weights never change, so the logs must equal evaluate on each part
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.0), loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=1, batch_size=7, validation_split=0.25, shuffle=True, verbose=0)
    train = model.evaluate(x[:75], y[:75], batch_size=75)
    val = model.evaluate(x[75:], y[75:], batch_size=25)
    assert h.history["loss"][0] == pytest.approx(train["loss"], rel=1e-5)
    assert h.history["accuracy"][0] == pytest.approx(train["accuracy"])
    assert h.history["val_loss"][0] == pytest.approx(val["loss"], rel=1e-5)
    assert h.history["val_accuracy"][0] == pytest.approx(val["accuracy"])
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)


def test_validation_data_tuple_dataset_and_dataloader_agree():
    zd.manual_seed(3)
    x, y = blobs(n=60, seed=3)
    model = mlp()
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.0), loss="cross_entropy", metrics=["accuracy"])
    ref = model.evaluate(x[40:], y[40:])
    for val in [(x[40:], y[40:]), TensorDataset(x[40:], y[40:]), DataLoader(TensorDataset(x[40:], y[40:]), 8)]:
        h = model.fit(x[:40], y[:40], epochs=1, validation_data=val, verbose=0)
        assert h.history["val_loss"][0] == pytest.approx(ref["loss"], rel=1e-5)
        assert h.history["val_accuracy"][0] == pytest.approx(ref["accuracy"])


class PairDataset(Dataset):
    """A plain map-style Dataset (no get_batch): float64 inputs, int32 labels."""

    def __init__(self, x, y):
        self.x, self.y = x.astype(np.float64), y.astype(np.int32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class StepCounter(zd.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0
        self.sizes = []

    def on_batch_end(self, batch, logs=None):
        self.batches += 1
        self.sizes.append(logs["size"])


def test_fit_accepts_dataset_and_dataloader():
    zd.manual_seed(4)
    x, y = blobs(n=90, seed=4)
    # a Dataset: batched by fit (batch_size, shuffle), converted to float32 / int64 batch by batch
    model = mlp()
    model.compile(optim.Adam(model.parameters(), lr=0.02), "cross_entropy", ["accuracy"])
    counter = StepCounter()
    h = model.fit(PairDataset(x, y), epochs=8, batch_size=20, callbacks=[counter], verbose=0)
    assert counter.batches == 8 * 5 and counter.sizes[:5] == [20, 20, 20, 20, 10]
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.evaluate(PairDataset(x, y))["accuracy"] > 0.9
    # validation_split on a Dataset: the last samples
    h = model.fit(PairDataset(x, y), epochs=1, batch_size=20, validation_split=0.2, verbose=0)
    assert "val_loss" in h.history
    # a DataLoader: its own batch size; fit's batch_size and shuffle are ignored
    counter = StepCounter()
    loader = DataLoader(TensorDataset(x, y), batch_size=45, shuffle=True, seed=0)
    model.fit(loader, epochs=2, batch_size=7, callbacks=[counter], verbose=0)
    assert counter.sizes == [45, 45, 45, 45]
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(loader, validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(loader, y, verbose=0)
    # a TensorDataset of (x, y) is also fine
    h = model.fit(TensorDataset(x, y), epochs=1, verbose=0)
    assert len(h.history["loss"]) == 1


def test_one_hot_targets_float64_inputs_and_targets():
    zd.manual_seed(5)
    x, y = blobs(n=80, seed=5)
    onehot = np.eye(3)[y]  # float64
    model = mlp()
    model.compile(optim.Adam(model.parameters(), lr=0.02), "categorical_crossentropy", ["accuracy"])
    h = model.fit(x.astype(np.float64), onehot, epochs=10, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    assert model.state_dict()["0.W"].dtype == np.float32  # inputs converted, model untouched
    ev_int = model.evaluate(x, y)
    ev_hot = model.evaluate(x, onehot)
    assert ev_int["loss"] == pytest.approx(ev_hot["loss"], rel=1e-5)
    assert ev_int["accuracy"] == ev_hot["accuracy"]


def test_shuffled_runs_repeat_with_manual_seed():
    x, y = blobs(n=64, seed=6)

    def run():
        zd.manual_seed(42)
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(3))
        model.compile("adam", "cross_entropy", ["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=8, shuffle=True, verbose=0)
        return h.history, weights(model)

    h1, w1 = run()
    h2, w2 = run()
    assert h1 == h2
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k])


def test_fit_restores_the_mode_and_dropout_is_off_in_evaluate_and_predict():
    zd.manual_seed(7)
    x, y = blobs(n=40, seed=7)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3))
    model.compile("adam", "cross_entropy")
    model.eval()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.training is False
    model.train()
    p1, p2 = model.predict(x), model.predict(x)
    np.testing.assert_array_equal(p1, p2)  # eval mode: no dropout
    assert model.training is True
    assert model.evaluate(x, y) == model.evaluate(x, y)


# ----------------------------------------------------------------------------- evaluate / predict
def test_predict_equals_a_manual_forward_and_evaluate_a_manual_loss():
    zd.manual_seed(8)
    x, y = blobs(n=53, seed=8)
    model = mlp()
    model.compile("adam", "cross_entropy", ["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    pred = model.predict(x, batch_size=10)  # 6 batches, the last one of 3
    assert isinstance(pred, np.ndarray) and pred.shape == (53, 3) and pred.dtype == np.float32
    with zd.no_grad():
        manual = model(zd.tensor(x)).data
    np.testing.assert_allclose(pred, manual, rtol=1e-6, atol=1e-6)
    logs = model.evaluate(x, y, batch_size=10)
    assert set(logs) == {"loss", "accuracy"}
    expected_loss = F.softmax_cross_entropy(zd.tensor(manual), y).item()
    assert logs["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(float((manual.argmax(1) == y).mean()))
    # Dataset / DataLoader input to predict: the first field is the input
    np.testing.assert_allclose(model.predict(TensorDataset(x, y)), manual, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.predict(DataLoader(TensorDataset(x), 16)), manual, rtol=1e-6, atol=1e-6)


def test_softmax_last_layer_is_fused_with_cross_entropy_and_predict_gives_probabilities():
    zd.manual_seed(9)
    x, y = blobs(n=90, seed=9)
    model = mlp(softmax=True)
    # huge logits: probabilities saturate to exactly 0/1 in float32, so log(softmax) would be -inf
    model[2].W.data *= 1e4
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy", "mse"])
    with zd.no_grad():
        logits = model[:3](zd.tensor(x))
    expected = F.softmax_cross_entropy(logits, y).item()
    assert np.isfinite(expected) and expected > 10
    logs = model.evaluate(x, y)
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)  # on the logits, not on probabilities
    model[2].W.data /= 1e4
    h = model.fit(x, y, epochs=10, batch_size=10, verbose=0)
    assert all(np.isfinite(h.history["loss"]))
    assert h.history["loss"][-1] < h.history["loss"][0]
    p = model.predict(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (p >= 0).all()
    # mse is computed on the probabilities (what predict returns), as Keras does
    mse = float(((p - np.eye(3)[y]) ** 2).mean())
    assert model.evaluate(x, y)["mse"] == pytest.approx(mse, rel=1e-4)


def test_sigmoid_last_layer_with_bce_and_binary_accuracy():
    zd.manual_seed(10)
    rng = np.random.default_rng(10)
    x = rng.normal(size=(120, 2)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.float32)  # (N,) targets against (N, 1) outputs
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(1), nn.Sigmoid())
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["accuracy"][-1] > 0.9
    p = model.predict(x)
    assert p.shape == (120, 1) and ((p > 0) & (p < 1)).all()
    acc = float(((p[:, 0] > 0.5) == (y > 0.5)).mean())
    assert model.evaluate(x, y)["accuracy"] == pytest.approx(acc)
    # loss equals bce on the logits of the model without its sigmoid
    with zd.no_grad():
        z = model[:3](zd.tensor(x))
    expected = F.binary_cross_entropy_with_logits(z, y.reshape(-1, 1)).item()
    assert model.evaluate(x, y)["loss"] == pytest.approx(expected, rel=1e-5)


def test_regression_losses_and_metrics():
    zd.manual_seed(11)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(100, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=100)  # (N,) float64 targets
    model = nn.Sequential(nn.Linear(3, 1))
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.05), loss="mse", metrics=["mae", "mse"])
    h = model.fit(x, y, epochs=20, batch_size=10, verbose=0)
    assert h.history["loss"][-1] < 0.02
    np.testing.assert_allclose(h.history["loss"], h.history["mse"], rtol=1e-5)
    logs = model.evaluate(x, y)
    p = model.predict(x)[:, 0]
    assert logs["mae"] == pytest.approx(float(np.abs(p - y).mean()), rel=1e-4)
    model.compile(optimizer="sgd", loss="mae")
    assert model.evaluate(x, y)["loss"] == pytest.approx(float(np.abs(p - y).mean()), rel=1e-4)


def test_callable_loss_and_metric():
    zd.manual_seed(12)
    x, y = blobs(n=48, seed=12)

    def my_loss(y_pred, y_true):  # zerodl's order: prediction first
        return F.softmax_cross_entropy(y_pred, y_true) * 2.0

    def top_class_rate(y_pred, y_true):  # arrays
        return float((y_pred.argmax(1) == 0).mean())

    model = mlp()
    model.compile("adam", my_loss, [top_class_rate])
    h = model.fit(x, y, epochs=2, verbose=0)
    assert set(h.history) == {"loss", "top_class_rate"}
    ref = model.evaluate(x, y)["loss"]
    model.compile("adam", "cross_entropy")
    assert model.evaluate(x, y)["loss"] == pytest.approx(ref / 2, rel=1e-5)


# ----------------------------------------------------------------------------- lazy layers
def test_lazy_layers_with_a_string_optimizer():
    zd.manual_seed(13)
    x, y = blobs(n=64, seed=13)
    model = nn.Sequential(nn.Linear(16), nn.ReLU(), nn.Linear(3))  # in_features inferred
    # a factory is called with the parameters once the dry forward has created them
    model.compile(lambda params: optim.Adam(params, lr=0.02), "cross_entropy", ["accuracy"])
    assert model.optimizer is None
    h = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    assert isinstance(model.optimizer, optim.Adam) and model.optimizer.lr == 0.02
    n_opt = sum(len(g["params"]) for g in model.optimizer.param_groups)
    assert n_opt == len(list(model.parameters())) == 4


def test_lazy_layers_with_an_optimizer_made_before_they_exist():
    zd.manual_seed(14)
    x, y = blobs(n=64, seed=14)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(3))  # the last layer is lazy
    opt = optim.Adam(model.parameters(), lr=0.01)  # knows 2 of the 4 parameters
    model.compile(opt, "cross_entropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer is opt
    assert sum(len(g["params"]) for g in opt.param_groups) == 4  # added by fit
    w = model[2].W.data.copy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(w, model[2].W.data)  # the new layer trains


def test_frozen_or_left_out_parameters_are_not_added():
    zd.manual_seed(15)
    x, y = blobs(n=32, seed=15)
    model = mlp()
    opt = optim.SGD(model[2].parameters(), lr=0.1)  # fine-tune the head only
    model.compile(opt, "cross_entropy")
    w0 = model[0].W.data.copy()
    model.fit(x, y, epochs=2, verbose=0)
    assert sum(len(g["params"]) for g in opt.param_groups) == 2
    np.testing.assert_array_equal(w0, model[0].W.data)


# ----------------------------------------------------------------------------- errors
def test_fit_before_compile_is_a_clear_error():
    x, y = blobs(n=10)
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        mlp().evaluate(x, y)
    assert mlp().predict(x).shape == (10, 3)  # predict needs no compile


def test_bad_inputs_are_reported():
    x, y = blobs(n=20)
    model = mlp()
    model.compile("adam", "cross_entropy")
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match="y is missing"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match=r"Linear.*features"):  # the layer's own error
        model.fit(np.zeros((20, 5), np.float32), y, verbose=0)
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile("adam", "hinge")
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile("adam", "cross_entropy", ["auc_roc"])
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)


# ----------------------------------------------------------------------------- progress
def test_verbose_1_without_a_terminal_prints_one_line_per_epoch(capsys):
    zd.manual_seed(16)
    x, y = blobs(n=40, seed=16)
    model = mlp()
    model.compile("adam", "cross_entropy", ["accuracy"])
    model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Epoch {i + 1}/3 - ")
        for key in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: "):
            assert key in line
    model.fit(x, y, epochs=2, verbose=2)
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_verbose_0_prints_nothing(capsys):
    x, y = blobs(n=20)
    model = mlp()
    model.compile("adam", "cross_entropy", ["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y)
    model.predict(x)
    assert capsys.readouterr().out == ""


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_verbose_1_on_a_terminal_shows_a_bar(monkeypatch):
    pytest.importorskip("tqdm")
    x, y = blobs(n=40)
    model = mlp()
    model.compile("adam", "cross_entropy", ["accuracy"])
    out = FakeTTY()
    monkeypatch.setattr(sys, "stdout", out)
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    text = out.getvalue()
    assert "Epoch 1/2: 0/5 |" in text and "Epoch 2/2: 0/5 |" in text  # tqdm bars, drawn in place
    assert "\r" in text
    # each bar is replaced by the epoch's full line when the epoch ends
    lines = [line.strip("\r ") for line in text.replace("\r", "\n").splitlines()]
    assert sum(line.startswith("Epoch 1/2 - ") for line in lines) == 1
    assert sum(line.startswith("Epoch 2/2 - ") for line in lines) == 1


# ----------------------------------------------------------------------------- summary
def test_summary_lists_layers_shapes_and_parameter_totals(capsys):
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Dropout(0.2),
                          nn.Linear(10), nn.Softmax())
    text = model.summary(input_shape=(784,))
    assert capsys.readouterr().out.strip() == text.strip()
    for part in ("linear (Linear)", "relu (ReLU)", "batchnorm1d (BatchNorm1d)", "linear_1 (Linear)",
                 "softmax (Softmax)", "(None, 64)", "(None, 10)", "50,240", "650"):
        assert part in text, part
    # 784*64+64 + 2*64 (gamma, beta) + 64*10+10 trainable; 2*64 running stats non-trainable
    assert "Total params: 51,146" in text
    assert "Trainable params: 51,018" in text
    assert "Non-trainable params: 128" in text
    # the lazy Linear(10) was built by the dry forward; the table still prints without shapes
    text = model.summary()
    assert "?" in text and "Total params: 51,146" in text


def test_summary_of_unbuilt_and_custom_models(capsys):
    lazy = nn.Sequential(nn.Linear(8), nn.ReLU(), nn.Linear(2))
    text = lazy.summary()
    assert "0 (unbuilt)" in text and "Total params: 0" in text

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 5)
            self.act = nn.ReLU()
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            return self.head(self.act(self.body(x)))

    text = Net().summary(input_shape=(3,))
    assert "body (Linear)" in text and "head (Linear)" in text and "act (ReLU)" not in text
    assert "(None, 5)" in text and "(None, 2)" in text
    assert "Total params: 32" in text


# ----------------------------------------------------------------------------- equivalences
def test_fit_is_bitwise_a_hand_written_loop():
    """No hidden work: fit (no shuffle) == forward, fused loss, zero_grad, backward, step."""
    x, y = blobs(n=50, seed=17)

    def build():
        zd.manual_seed(17)
        return mlp(softmax=True)

    model = build()
    model.compile(optim.SGD(model.parameters(), lr=0.1, momentum=0.9), "cross_entropy", ["accuracy"])
    h = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)

    ref = build()
    opt = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    body = ref[:3]  # without the Softmax: the loss is fused with it
    losses = []
    for _ in range(2):
        total = 0.0
        for i in range(0, 50, 16):
            out = body(zd.tensor(x[i:i + 16]))
            loss = F.softmax_cross_entropy(out, y[i:i + 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x[i:i + 16])
        losses.append(total / 50)
    for k, v in weights(ref).items():
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)
    assert h.history["loss"] == pytest.approx(losses, rel=1e-6)


def test_integer_ids_stay_integers_for_an_embedding_model():
    zd.manual_seed(18)
    rng = np.random.default_rng(18)
    ids = rng.integers(0, 10, size=(120, 3)).astype(np.int32)
    y = (ids[:, 0] >= 5).astype(np.int64)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(2))
    model.compile(lambda params: optim.Adam(params, lr=0.05), "cross_entropy", ["accuracy"])
    h = model.fit(ids, y, epochs=10, verbose=0)
    assert h.history["accuracy"][-1] > 0.95
    assert model.predict(ids[:5]).shape == (5, 2)
    assert "(None, 3, 4)" in model.summary(input_shape=(3,))


def test_compiled_names_travel_with_a_saved_model(tmp_path):
    zd.manual_seed(19)
    x, y = blobs(n=40, seed=19)
    model = mlp(softmax=True)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    loaded = zd.load_model(path)
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))


def test_a_custom_model_returning_probabilities_gets_a_warning():
    class SoftmaxNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x))

    x, y = blobs(n=20)
    model = SoftmaxNet()
    model.compile("sgd", "cross_entropy")
    with pytest.warns(UserWarning, match="look like probabilities"):
        model.fit(x, y, epochs=1, verbose=0)


def test_a_submodule_left_in_eval_keeps_its_mode():
    """Module.switch_mode restores every module's OWN mode: a BatchNorm the user froze in eval
    inside a training model stays in eval after summary(), fit (its lazy build and loop),
    evaluate, predict and build -- it used to be put back in training mode by train(was)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.integers(0, 2, 20)
    bn = nn.BatchNorm1d()
    model = nn.Sequential(nn.Linear(4), bn, nn.ReLU(), nn.Linear(2))
    bn.eval()

    def modes():
        return [m.training for m in model.modules()]

    expected = [True, True, False, True, True]
    model.summary((3,))  # builds the lazy layers with a dry forward
    assert modes() == expected
    before = bn.running_mean.copy()
    model.compile(optimizer="sgd", loss="cross_entropy")
    model.fit(x, y, epochs=1, batch_size=10, verbose=0, validation_data=(x, y))
    assert modes() == expected
    model.evaluate(x, y)
    model.predict(x)
    model.build((None, 3))
    assert modes() == expected
    assert np.array_equal(bn.running_mean, before) is False  # fit itself trains every module
    model.eval()
    model.predict(x)
    assert not any(modes())  # and an all-eval model stays all-eval
