"""bench's KCNN / KFIT workloads (the material's Keras CNN) for zerodl, on tiny data (no torch,
no TensorFlow), and the driver's report with the new frameworks and ratio pairs."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zerodl as zd  # noqa: E402
import zerodl.keras as keras  # noqa: E402
import zerodl.nn as nn  # noqa: E402
from bench import run as driver  # noqa: E402
from bench.data import ImageData  # noqa: E402
from bench.workloads import WORKLOADS, Options  # noqa: E402
from bench.workloads import keras_cnn as K  # noqa: E402

# Keras's model.summary() of the material's CNN: 320 + 18,496 + 36,928 + 36,928 + 650
KERAS_PARAMS = 93_322


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, n)
    return ImageData(x, t, x[:100], t[:100], source="test")


def _count(model):
    return sum(p.data.size for p in model.parameters())


def test_both_zerodl_models_are_the_materials_network():
    model = K.nn_layers(nn)
    kmodel = K.keras_model(keras)
    assert _count(model) == _count(kmodel) == KERAS_PARAMS
    # the same weights give the same outputs: NCHW zerodl.nn against channels-last zerodl.keras
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    lins = [m for m in model if isinstance(m, nn.Linear)]
    klayers = [la for la in kmodel.layers if la.weights]
    for conv, la in zip(convs, klayers[:3]):
        conv.W.data[...] = la.kernel.data.transpose(3, 2, 0, 1)
        conv.b.data[...] = la.bias.data
    # Flatten: Keras's features run (h, w, c), NCHW's (c, h, w)
    k1 = klayers[3].kernel.data.reshape(3, 3, 64, K.HIDDEN).transpose(2, 0, 1, 3).reshape(K.FLAT, K.HIDDEN)
    lins[0].W.data[...] = k1
    lins[0].b.data[...] = klayers[3].bias.data
    lins[1].W.data[...] = klayers[4].kernel.data
    lins[1].b.data[...] = klayers[4].bias.data
    x = _data(4).x_train
    with zd.no_grad():
        logits = model(zd.Tensor(x)).data
    probs = kmodel.predict(K.channels_last(x), verbose=0)
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(1, keepdims=True), probs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("framework", ["zerodl", "zdkeras"])
def test_kcnn_runs_training_steps(framework):
    run = K.build_steps(framework, _data(), Options(seed=0))
    first = run(1)
    assert math.isfinite(first) and first > 0
    for _ in range(5):  # batches 2, 3, then the first again (300 samples wrap after three)...
        last = run(1)
    assert math.isfinite(last) and last < first  # ...which Adam has been fitting since
    assert WORKLOADS["KCNN"].batches(Options(samples=1000)) == 10


@pytest.mark.parametrize("framework", ["zerodl", "zdkeras"])
def test_kfit_runs_one_epoch_of_fit(framework):
    opts = Options(fit_samples=200, seed=0)
    run = K.build_fit(framework, _data(), opts)
    assert run(0) is None  # the child's warm-up: the warm-up fit already ran in build
    assert math.isfinite(run(1))
    w = WORKLOADS["KFIT"]
    assert w.batches(opts) == 1
    assert w.flops(opts) == pytest.approx(2 * w.flops(Options(fit_samples=100)))


def test_the_kcnn_flop_count():
    f = K.forward_flops(1)
    assert f[0] == 2 * 32 * 26 * 26 * 9  # conv32 on 28x28x1, valid
    assert f[2] == 2 * 64 * 3 * 3 * 64 * 9
    assert K.FLAT == 576 and [s for *_, s in K.CONV_SHAPES] == [26, 11, 3]


def _run(fw, seconds, workload="KCNN", threads=1, mem=10.0):
    return {"ok": True, "workload": workload, "framework": fw, "threads": threads, "repeat": 1,
            "seconds": seconds, "cpu_seconds": seconds, "peak_delta_mib": mem, "last_value": 2.0,
            "threads_seen": {"openblas": "1"}, "memory_method": "test", "data_source": "test"}


def test_the_report_shows_tensorflow_and_keras_ratios():
    opts = Options(samples=1000, fit_samples=1000)
    ws = [WORKLOADS["KCNN"], WORKLOADS["KFIT"]]
    runs = [_run("zerodl", 2.0), _run("zdkeras", 3.0), _run("torch", 2.5), _run("tf", 4.0, mem=20.0),
            _run("zerodl", 10.0, "KFIT"), _run("zdkeras", 12.0, "KFIT", mem=30.0), _run("tf", 8.0, "KFIT", mem=20.0)]
    rows = driver.summarize(runs, ws, [1], list(driver.FRAMEWORKS), opts)
    kcnn, kfit = rows
    assert kcnn["ratios"][("zerodl", "torch")] == pytest.approx(0.8)
    assert kcnn["ratios"][("zerodl", "tf")] == pytest.approx(0.5)
    assert kcnn["time_verdict"] == "PASS (zerodl/PyTorch), PASS (zerodl/TensorFlow)"
    assert kfit["ratios"][("zdkeras", "tf")] == pytest.approx(1.5)
    assert kfit["time_verdict"] == "FAIL"
    assert kfit["mem_pair"] == ("zdkeras", "tf") and kfit["mem_ratio"] == pytest.approx(1.5)
    args = driver.parse_args(["--workloads", "KCNN,KFIT", "--threads", "1", "--repeats", "1",
                              "--python", "tf=/opt/tf/bin/python"])
    assert args.pythons == {"tf": "/opt/tf/bin/python"}
    text = driver.render(rows, runs, args, opts, [("CPU", "test")], {1: 100.0}, {}, "cmd",
                         __import__("datetime").datetime(2026, 1, 1), "0", "0")
    head = next(line for line in text.splitlines() if line.startswith("| Workload | Unit"))
    for col in ("zerodl.keras", "TensorFlow", "zerodl/PyTorch", "zerodl/TensorFlow", "zerodl.keras/TensorFlow"):
        assert f"| {col} |" in head
    assert "NumPy |" not in head.split("zerodl/NumPy")[0]  # no NumPy framework column: no workload has it
    assert "zerodl.keras/TensorFlow ≤ 1" in text and "1.50× (zerodl.keras/TensorFlow)" in text


def test_bad_python_option_is_refused(capsys):
    with pytest.raises(SystemExit):
        driver.parse_args(["--python", "tensorflow"])
    assert "--python expects FRAMEWORK=PYTHON" in capsys.readouterr().err


def test_the_layer_profiler_attributes_a_step_and_undoes_its_patches():
    from bench import profile_layers as P
    from zerodl.core import Function

    matmul, call = np.matmul, Function.__call__
    res = P.profile("KCNN", threads=1, steps=1, warmup=1, data_dir=None, use_torch=False)
    table = res["rec"].table
    assert res["at_sign"]  # ndarray @ ndarray was seen (weight gradients use it)
    assert [b for b, _ in res["blocks"]] == ["conv1", "conv2", "conv3", "dense head"]
    for block in ("conv1", "conv2", "conv3"):
        assert table[block]["gemm"] > 0 and table[block]["activation"] > 0
    assert table["conv1"]["pooling"] > 0 and table["conv3"]["pooling"] == 0  # no pool after conv3
    assert res["shapes"]["conv2"] == (100, 32, 13, 13)
    assert res["rec"].gemms["conv2"]  # its GEMMs were recorded, so the floor can replay them
    assert P.replay_floor(res["rec"].gemms["conv2"]) > 0
    text = P.report(res, "KCNN", "cmd")
    assert "| conv2 | 100×32×13×13 |" in text and "GEMMs through `@` seen: yes" in text
    # everything put back: numpy, Function, the operator slot
    from zerodl.functions.conv import Conv2d, Windows

    assert np.matmul is matmul and Function.__call__ is call
    assert not hasattr(Conv2d.forward, "__wrapped__") and not hasattr(Windows.im2col, "__wrapped__")
    rec = res["rec"]
    rec.on, seen = True, sum(map(len, rec.gemms.values()))
    _ = np.ones((2, 2)) @ np.ones((2, 2))
    np.matmul(np.ones((2, 2)), np.ones((2, 2)))
    assert sum(map(len, rec.gemms.values())) == seen


def test_the_child_applies_and_reports_zerodls_thread_count():
    pytest.importorskip("threadpoolctl")
    from bench import child
    from zerodl.core import threads

    from threadpoolctl import threadpool_limits

    before = zd.get_num_threads()
    blas = threadpool_limits(limits=None)  # records the pools' counts, changes nothing
    try:
        child.limit_threads("zdkeras", 1)
        seen = child.thread_report("zdkeras")
        assert seen["zerodl"] == 1 and seen.get("openblas", "1").startswith("1")
        assert child.probe("zdkeras")["ok"]
    finally:
        threads._setting["n"] = before
        blas.restore_original_limits()
