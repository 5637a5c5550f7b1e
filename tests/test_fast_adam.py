"""The Numba kernel of zerodl/optim/_fast_adam.py against Adam's NumPy update: the same bits
after several steps, float32 and float64, Adam with L2 weight decay and AdamW (skipped without
numba); amsgrad stays on the NumPy code."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.optim as optim
from zerodl.optim import adam as adam_module

pytest.importorskip("numba")
from zerodl.optim import _fast_adam  # noqa: E402  (needs numba)

RNG = np.random.default_rng(2)


def _train(monkeypatch, fast, dtype, make):
    calls = []

    def loader(name):
        calls.append(name)
        return fast

    monkeypatch.setattr(adam_module, "fast_module", loader)
    shapes = [(7, 5), (5,), (3, 2, 2)]
    params = [zd.tensor(RNG.standard_normal(s).astype(dtype), requires_grad=True, dtype=dtype) for s in shapes]
    start = [p.data.copy() for p in params]
    grads = [[RNG.standard_normal(s).astype(dtype) for s in shapes] for _ in range(4)]
    return params, start, grads, calls, make(params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, lr=2e-3, betas=(0.5, 0.999)),
    lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=1e-2, eps=1e-6),
    lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True),
], ids=["adam", "adam_l2", "adamw", "amsgrad"])
def test_kernel_gives_the_numpy_bits(monkeypatch, dtype, make):
    results = []
    seed_state = RNG.bit_generator.state
    for fast in (None, _fast_adam):
        RNG.bit_generator.state = seed_state
        params, start, grads, calls, opt = _train(monkeypatch, fast, dtype, make)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g
            opt.step()
        results.append([p.data for p in params] + [opt.state[p]["exp_avg"] for p in params])
        if fast is not None and not opt.param_groups[0]["amsgrad"]:
            assert calls, "the kernel was not used"
    for a, b in zip(*results):
        assert b.dtype == dtype
        np.testing.assert_array_equal(b, a)


def test_kernel_on_the_pool_gives_the_numpy_bits(monkeypatch):
    """A parameter large enough to be updated in pieces on two threads: still NumPy's bits."""
    from tests._threads import one_then_two_threads

    w0 = RNG.standard_normal((600, 700)).astype(np.float32)
    grads = [RNG.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]

    def run(fast=_fast_adam):
        monkeypatch.setattr(adam_module, "fast_module", lambda name: fast)
        p = zd.tensor(w0.copy(), requires_grad=True)
        opt = optim.Adam([p], lr=2e-3, betas=(0.5, 0.999))
        for g in grads:
            p.grad = g
            opt.step()
        return p.data, opt.state[p]["exp_avg_sq"]

    reference = run(None)
    for result in one_then_two_threads(run):
        for a, b in zip(reference, result):
            np.testing.assert_array_equal(b, a)
