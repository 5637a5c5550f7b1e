"""The switches read by the ops are per thread: a thread predicting under ``no_grad()`` does not
stop another thread's training from recording its graph, and a ``default_dtype`` block in one
thread does not change the dtype of another's tensors."""
import threading

import numpy as np

import zerodl as zd
import zerodl.nn as nn
import zerodl.optim as optim
import zerodl.functions as F


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    t = rng.integers(0, 3, 64)
    return x, t


def _model(seed):
    zd.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))


def _train(steps=150):
    x, t = _data()
    model = _model(1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for i in range(steps):
        s = slice((i * 16) % 64, (i * 16) % 64 + 16)
        loss = F.softmax_cross_entropy(model(zd.tensor(x[s])), t[s])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: v.copy() for k, v in model.state_dict().items()}


def _predict(model, x):
    with zd.no_grad():
        y = model(zd.tensor(x))
        assert not y.requires_grad
        return y.data.copy()


def test_training_beside_no_grad_inference_matches_single_threaded():
    x, _ = _data()
    expected_weights = _train()
    server = _model(2)
    expected_pred = _predict(server, x)

    results, errors = {}, []
    done = threading.Event()

    def trainer():
        try:
            results["weights"] = _train()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    def predictor():
        preds = 0
        try:
            while not done.is_set() or preds < 50:
                y = _predict(server, x)
                if not np.array_equal(y, expected_pred):
                    errors.append(AssertionError("a prediction differs from the single-threaded one"))
                    return
                preds += 1
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        results["predictions"] = preds

    threads = [threading.Thread(target=predictor), threading.Thread(target=trainer)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert results["predictions"] >= 50
    for k, v in expected_weights.items():
        np.testing.assert_array_equal(results["weights"][k], v, err_msg=k)
    assert zd.is_grad_enabled()  # the main thread's mode was never touched


def test_grad_mode_and_dtype_are_per_thread_and_start_from_the_process_default():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with zd.no_grad(), zd.default_dtype(np.float64):
            inside.set()
            release.wait(10)
            seen["worker"] = (zd.is_grad_enabled(), zd.tensor([1.0]).dtype)

    th = threading.Thread(target=worker)
    th.start()
    inside.wait(10)
    # while the worker sits inside no_grad() / default_dtype(float64), this thread is unaffected
    w = zd.tensor([1.0, 2.0], requires_grad=True)
    assert zd.is_grad_enabled() and (w * 2).requires_grad and w.dtype == np.float32
    release.set()
    th.join()
    assert seen["worker"] == (False, np.float64)

    def fresh():
        seen["fresh"] = (zd.is_grad_enabled(), zd.get_default_dtype())

    with zd.no_grad():  # a thread started inside a no_grad block still records graphs
        th = threading.Thread(target=fresh)
        th.start()
        th.join()
    assert seen["fresh"] == (True, np.float32)

    old = zd.get_default_dtype()
    try:
        zd.set_default_dtype(np.float64)  # the process default: threads started afterwards
        th = threading.Thread(target=fresh)
        th.start()
        th.join()
        assert seen["fresh"] == (True, np.float64)
    finally:
        zd.set_default_dtype(old)


def test_one_no_grad_decorator_used_by_two_threads_restores_each_threads_mode():
    barrier = threading.Barrier(2)
    modes = []

    @zd.no_grad()
    def infer():
        barrier.wait(10)  # both threads inside the same decorated function at once
        modes.append(zd.is_grad_enabled())
        barrier.wait(10)

    def run():
        infer()
        modes.append(("after", zd.is_grad_enabled()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert modes.count(False) == 2 and modes.count(("after", True)) == 2


def test_conv_scratch_buffers_are_per_thread():
    """Two threads running the same convolution at once get the single-threaded results."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    expected = F.conv2d(zd.tensor(x), zd.tensor(w), padding=1).data.copy()
    bad = []

    def run():
        for _ in range(30):
            y = F.conv2d(zd.tensor(x), zd.tensor(w), padding=1).data
            if not np.array_equal(y, expected):
                bad.append(1)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not bad
