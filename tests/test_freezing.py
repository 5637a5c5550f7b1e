"""Frozen parameters (``requires_grad=False``, ``Module.requires_grad_(False)``): their gradients
are never computed, the graph is not even recorded where nothing upstream wants a gradient,
and every optimizer leaves them bitwise unchanged."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.functions import arithmetic, conv, normalization

SPIED = {"Conv2d": conv.Conv2d, "ConvTranspose2d": conv.ConvTranspose2d,
         "BatchNorm": normalization.BatchNorm, "Linear": arithmetic.Linear}


@pytest.fixture
def backward_calls(monkeypatch):
    """Records ``(op name, which inputs got a gradient)`` for each backward of the spied ops."""
    calls = []
    for name, cls in SPIED.items():
        original = cls.backward

        def spy(self, *gys, _original=original, _name=name):
            gxs = _original(self, *gys)
            gxs = gxs if type(gxs) is tuple else (gxs,)
            calls.append((_name, tuple(g is not None for g in gxs)))
            return gxs

        monkeypatch.setattr(cls, "backward", spy)
    return calls


def _body_and_head(seed=0):
    zd.manual_seed(seed)
    body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 8), nn.ReLU())
    head = nn.Linear(8, 3)
    return body, head


def _batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 5)


def test_frozen_body_records_no_graph_and_computes_no_body_gradient(backward_calls):
    body, head = _body_and_head()
    body.requires_grad_(False)
    x, t = _batch()
    feats = body(zd.tensor(x))
    assert feats.creator is None and not feats.requires_grad  # nothing upstream wants a gradient
    F.softmax_cross_entropy(head(feats), t).backward()
    assert backward_calls == [("Linear", (False, True, True))]  # the head only; no gx into the body
    assert all(p.grad is None for p in body.parameters())
    assert all(p.grad is not None for p in head.parameters())


def test_frozen_middle_passes_the_gradient_through_without_weight_gradients(backward_calls):
    # The GAN generator step: G -> D with D frozen. Only the image gradient flows through D.
    zd.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 2 * 3 * 3), nn.ReLU())
    D = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(27, 1))
    D.requires_grad_(False)
    z = zd.tensor(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32))
    y = D(G(z).reshape(4, 2, 3, 3))
    y.sum().backward()
    by_op = dict(backward_calls[:3])
    assert by_op["Linear"] == (True, False, False)        # D's head: gx only
    # (BatchNorm in training mode needs sum(gy) and sum(gy * xhat) for gx itself: they are the
    # dgamma/dbeta it hands back, which autograd then drops, so nothing extra is computed.)
    assert by_op["BatchNorm"][0]
    assert by_op["Conv2d"] == (True, False, False)        # gx only, no dW, db
    assert backward_calls[-1] == ("Linear", (False, True, True))  # G's layer: weights, not z
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None and np.abs(p.grad).sum() > 0 for p in G.parameters())


def test_conv_weight_gradient_kernel_never_runs_for_frozen_weights(monkeypatch):
    runs = []
    original = conv.Windows.weight_grad
    monkeypatch.setattr(conv.Windows, "weight_grad", lambda self, *a: runs.append(1) or original(self, *a))
    layer = nn.Conv2d(2, 3, 3)
    x = zd.tensor(np.ones((1, 2, 5, 5), np.float32), requires_grad=True)
    layer.requires_grad_(False)
    layer(x).sum().backward()
    assert runs == [] and x.grad is not None
    layer.requires_grad_(True)
    layer(x).sum().backward()
    assert runs == [1] and layer.W.grad is not None


OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "SGD_momentum_nesterov_wd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "Momentum": lambda p: optim.Momentum(p, lr=0.1),
    "AdaGrad": lambda p: optim.AdaGrad(p, lr=0.1),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.1),
    "Adam": lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1),
    "AdamW": lambda p: optim.AdamW(p, lr=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_leaves_frozen_parameters_bitwise_unchanged(name):
    body, head = _body_and_head()
    model = nn.Sequential(body, head)
    x, t = _batch()
    # A gradient left over from before freezing must not be applied either.
    F.softmax_cross_entropy(model(zd.tensor(x)), t).backward()
    body.requires_grad_(False)
    frozen = {k: p.data.copy() for k, p in body.named_parameters()}
    trained = {k: p.data.copy() for k, p in head.named_parameters()}
    opt = OPTIMIZERS[name](model.parameters())  # given every parameter, as users do
    for step in range(3):
        if step:
            opt.zero_grad()
            F.softmax_cross_entropy(model(zd.tensor(x)), t).backward()
        opt.step()
    for k, p in body.named_parameters():
        assert p.data.tobytes() == frozen[k].tobytes(), f"{name} changed frozen {k}"
    assert all(not np.array_equal(p.data, trained[k]) for k, p in head.named_parameters())
    assert all(id(p) not in {id(q) for q in opt.state} or not opt.state[p] for p in body.parameters())


def test_unfreezing_trains_the_body_again():
    body, head = _body_and_head()
    model = nn.Sequential(body, head)
    x, t = _batch()
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert model.requires_grad_(False) is model
    model.requires_grad_(True)
    before = body[0].W.data.copy()
    F.softmax_cross_entropy(model(zd.tensor(x)), t).backward()
    opt.step()
    assert not np.array_equal(body[0].W.data, before)


def test_frozen_layer_under_fit_keeps_its_weights():
    body, head = _body_and_head()
    model = nn.Sequential(body, head)
    body.requires_grad_(False)
    frozen = [p.data.copy() for p in body.parameters()]
    head_before = head.W.data.copy()
    x, t = _batch()
    model.compile(optimizer="adam", loss="cross_entropy")
    model.fit(x, t, epochs=2, batch_size=5, verbose=0)
    assert all(np.array_equal(p.data, f) for p, f in zip(body.parameters(), frozen))
    assert not np.array_equal(head.W.data, head_before)


def test_keras_layer_trainable_false_keeps_its_weights_under_fit():
    keras = pytest.importorskip("zerodl.keras")
    zd.manual_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 4)).astype(np.float32), rng.random((16, 2)).astype(np.float32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    frozen, other = model.layers
    frozen.trainable = False
    model.compile(optimizer="adam", loss="mse")  # Keras: trainable takes effect at compile
    before = [np.array(w) for w in frozen.get_weights()]
    other_before = [np.array(w) for w in other.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(b, w) for b, w in zip(before, frozen.get_weights()))
    assert not any(np.array_equal(b, w) for b, w in zip(other_before, other.get_weights()))
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
