"""``Module.copy()`` and ``copy.deepcopy(module)``: independent weights (EMA / target networks)."""
import copy

import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim


def _net():
    zd.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))


def _x():
    return zd.tensor(np.random.default_rng(0).standard_normal((4, 1, 6, 6)).astype(np.float32))


def test_copy_has_equal_but_independent_weights_buffers_and_no_grads():
    net = _net()
    F.softmax_cross_entropy(net(_x()), np.array([0, 1, 0, 1])).backward()  # grads, BN stats moved
    twin = net.copy()
    assert type(twin) is nn.Sequential and twin is not net and twin.training == net.training
    a, b = net.state_dict(), twin.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype
        assert not np.shares_memory(a[k], b[k]), k
    assert all(p.grad is None for p in twin.parameters())
    assert all(p.grad is not None for p in net.parameters())
    assert nn.module_to_config(twin) == nn.module_to_config(net)
    net.eval(), twin.eval()
    np.testing.assert_array_equal(twin(_x()).data, net(_x()).data)


def test_training_the_original_leaves_the_copy_alone():
    net = _net()
    target = net.copy()
    frozen = {k: v.copy() for k, v in target.state_dict().items()}
    opt = optim.SGD(net.parameters(), lr=0.5)
    for _ in range(2):
        opt.zero_grad()
        F.softmax_cross_entropy(net(_x()), np.array([0, 1, 0, 1])).backward()
        opt.step()
    assert not np.array_equal(net[0].W.data, frozen["0.W"])
    assert all(np.array_equal(v, frozen[k]) for k, v in target.state_dict().items())  # BN stats too


def test_ema_of_the_weights_with_a_copy():
    online = _net()
    ema = online.copy().requires_grad_(False)
    w0 = online[4].W.data.copy()
    online[4].W.data += 1.0  # the online net moves
    with zd.no_grad():
        for t, p in zip(ema.parameters(), online.parameters()):
            t.data *= 0.9
            t.data += 0.1 * p.data
    np.testing.assert_allclose(ema[4].W.data, w0 + 0.1, rtol=1e-6)
    assert all(not p.requires_grad for p in ema.parameters()) and all(p.requires_grad for p in online.parameters())


def test_deepcopy_keeps_grads_and_copies_lazy_layers():
    net = _net()
    F.softmax_cross_entropy(net(_x()), np.array([0, 1, 0, 1])).backward()
    twin = copy.deepcopy(net)
    for p, q in zip(net.parameters(), twin.parameters()):
        assert isinstance(q, nn.Parameter) and q.requires_grad
        assert np.array_equal(p.grad, q.grad) and not np.shares_memory(p.grad, q.grad)
    lazy = nn.Linear(3)  # no weights yet: the copy builds its own at its first call
    twin = lazy.copy()
    twin(zd.tensor(np.ones((2, 5), np.float32)))
    assert twin.W.shape == (5, 3) and lazy.W is None
