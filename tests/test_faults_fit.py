"""``fit`` refuses NaN/Inf inputs and stops at the first NaN/Inf loss, with words, not raw
NumPy warnings."""
import re
import warnings

import numpy as np
import pytest

import zerodl as zd
import zerodl.nn as nn
from zerodl.callbacks import Callback, TerminateOnNaN
from zerodl.train import TrainingDiverged


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    return x, (x @ rng.standard_normal((5, 1))).astype(np.float32)


def _model(lr=0.01):
    zd.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    m.compile(optimizer=zd.optim.SGD(m.parameters(), lr=lr), loss="mse")
    return m


def _weights(m):
    return {k: np.array(v, copy=True) for k, v in m.state_dict().items()}


@pytest.mark.parametrize("where, bad", [("x", np.nan), ("x", np.inf), ("y", -np.inf)])
def test_nan_or_inf_inputs_are_refused_with_count_and_first_index(where, bad):
    x, y = _data()
    target = x if where == "x" else y
    target[7, 0] = bad
    target[9, 0] = bad
    m = _model()
    before = _weights(m)
    with pytest.raises(ValueError) as e:
        m.fit(x, y, epochs=1, verbose=0)
    assert str(e.value).startswith(f"fit: {where} holds 2 NaN or infinite values (the first, {bad}, "
                                   f"at index (7, 0))")
    for k, v in _weights(m).items():
        np.testing.assert_array_equal(v, before[k])  # nothing trained


def test_large_finite_inputs_whose_sum_overflows_are_accepted():
    from zerodl.train.guards import check_finite

    x, _ = _data()
    x[:, 0] = 3e38  # float32: the sum overflows, the values are finite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_finite(x, "x")
    x[5, 3] = np.nan
    with pytest.raises(ValueError, match=r"fit: x holds 1 NaN or infinite value \(the first, nan, at index \(5, 3\)\)"):
        check_finite(x, "x")


def test_divergence_stops_fit_naming_epoch_and_batch_without_raw_warnings():
    x, y = _data()
    m = _model(lr=1e6)  # explodes within a few steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning from NumPy would raise here
        with pytest.raises(TrainingDiverged) as e:
            m.fit(x, y, epochs=5, batch_size=8, verbose=0)
    msg = str(e.value)
    assert re.match(r"fit: the loss became (nan|inf) at epoch \d/5, batch \d/8; training stopped", msg), msg
    assert "terminate_on_nan=False" in msg


def test_a_nan_loss_stops_before_the_update_so_the_weights_stay_finite():
    x, y = _data()
    m = _model()
    calls = []

    def loss(out, t):
        calls.append(1)
        value = ((out - t) ** 2).mean()
        return value * np.float32(np.nan) if len(calls) == 3 else value

    m.compile(optimizer=zd.optim.SGD(m.parameters(), lr=0.01), loss=loss)
    seen = []

    class Epochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    with pytest.raises(TrainingDiverged) as e:
        m.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[Epochs()])
    assert (e.value.epoch, e.value.batch) == (1, 0) and e.value.weights_finite
    assert "keeps the weights from before this batch" in str(e.value)
    assert all(np.isfinite(v).all() for v in _weights(m).values())
    assert seen == [0]  # the diverged epoch's end hooks (checkpoints) never ran


def test_terminate_on_nan_can_be_switched_off_or_replaced_by_the_keras_callback():
    x, y = _data()
    m = _model(lr=1e6)
    with np.errstate(all="ignore"):
        h = m.fit(x, y, epochs=3, batch_size=8, verbose=0, terminate_on_nan=False)
    assert len(h.history["loss"]) == 3 and not np.isfinite(h.history["loss"][-1])

    m = _model(lr=1e6)
    with np.errstate(all="ignore"):
        h = m.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[TerminateOnNaN()])
    assert m.stop_training  # Keras's behaviour: stop, no error
