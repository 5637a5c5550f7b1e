"""zerodl.nn: Module bookkeeping, state dicts, configs, every layer's shapes and gradients, init."""
import copy
import json
import math
import time

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
from zerodl import optim
from zerodl.data import datasets
from zerodl.nn import init
from zerodl.utils import gradient_check


# ----- gradient check ----------------------------------------------------------------------
def check_layer_gradients(layer, x, seed=0, atol=1e-6, rtol=1e-5, input_grad=True):
    """Float64 central differences vs backprop (``zerodl.utils.gradient_check``) for the layer's
    parameters AND its input; returns the parameters' analytic gradients.

    ``zd.manual_seed(seed)`` before each forward makes stochastic layers (Dropout) deterministic.
    """
    layer.double()
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)

    def f(xt):
        zd.manual_seed(seed)
        return layer(xt)

    xt = zd.tensor(x, requires_grad=input_grad, dtype=x.dtype)
    res = gradient_check(f, xt, params=params, atol=atol, rtol=rtol)
    assert res.ok, res.errors
    if input_grad:
        assert res.analytic[0] is not None
    return res.analytic[1:]


# ----- registration --------------------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self, hidden=5, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)
        self.scale = nn.Parameter(np.ones(1))
        self.register_buffer("counter", np.zeros(2))
        self.not_registered = zd.tensor([1.0])

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_parameter_is_a_floating_tensor_that_requires_grad():
    p = nn.Parameter(np.arange(3))
    assert isinstance(p, zd.Tensor) and p.requires_grad and p.dtype == np.float32
    assert nn.Parameter(np.zeros(2, dtype=np.float64)).dtype == np.float32  # default dtype
    assert nn.Parameter(np.zeros(2), dtype=np.float64).dtype == np.float64
    with zd.default_dtype(np.float64):
        assert nn.Parameter([1.0, 2.0]).dtype == np.float64
    assert "Parameter containing" in repr(p)
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.data is not p.data and q.requires_grad


def test_registration_order_and_names():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    # own parameters come first, then each child's, in the order they were set
    assert names == ["scale", "fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert list(m.children()) == [m.fc1, m.act, m.fc2]
    assert [type(x).__name__ for x in m.modules()] == ["TwoLayer", "Linear", "ReLU", "Linear"]
    assert len(list(m.parameters())) == 5
    assert [n for n, _ in m.named_buffers()] == ["counter"]
    assert "not_registered" not in dict(m.named_parameters())
    assert m.fc1.W.shape == (4, 5) and m.fc1.b.shape == (5,)


def test_sequential_names_indexing_append():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    assert [n for n, _ in s.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert len(s) == 3 and isinstance(s[1], nn.ReLU) and s[-1] is s[2]
    sub = s[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is s[0]
    assert [type(m) for m in s] == [nn.Linear, nn.ReLU, nn.Linear]
    s.append(nn.Tanh())
    assert len(s) == 4 and [n for n, _ in s.named_children()] == ["0", "1", "2", "3"]
    assert nn.Sequential([nn.ReLU(), nn.Tanh()])[1].__class__ is nn.Tanh
    assert s(np.ones((5, 2), np.float32)).shape == (5, 4)
    with pytest.raises(TypeError, match="not an nn.Module"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(IndexError):
        s[10]


def test_shared_parameter_yielded_once_and_reassignment():
    a = nn.Linear(3, 3)
    s = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(s.parameters())) == 2
    m = TwoLayer()
    with pytest.raises(TypeError, match="is a parameter"):
        m.scale = np.ones(1)
    m.fc2 = nn.Linear(5, 7)
    assert m(np.ones((1, 4), np.float32)).shape == (1, 7)
    del m.fc2
    assert "fc2" not in dict(m.named_children())


def test_plain_attributes_and_properties():
    class WithProperty(nn.Module):
        def __init__(self):
            super().__init__()
            self._h = None
            self.state = 3

        @property
        def state(self):
            return self._h

        @state.setter
        def state(self, value):
            self._h = value * 2

    m = WithProperty()
    assert m.state == 6
    m.note = "plain"
    assert m.note == "plain" and list(m.named_parameters()) == []


def test_subclass_without_super_init_still_registers():
    class Lazy(nn.Module):
        def __init__(self):  # forgets super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)

    assert [n for n, _ in Lazy().named_parameters()] == ["fc.W", "fc.b"]


def test_repr_like_pytorch():
    s = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.2)))
    text = repr(s)
    assert text.startswith("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): Sequential(\n")
    assert "    (1): Dropout(p=0.2)" in text


def test_train_eval_propagate():
    m = TwoLayer()
    s = nn.Sequential(m, nn.Dropout())
    assert all(x.training for x in s.modules())
    assert s.eval() is s
    assert not any(x.training for x in s.modules())
    s.train()
    assert all(x.training for x in s.modules())
    s.train(False)
    assert not m.fc1.training


def test_zero_grad_and_freezing():
    zd.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    m[0].requires_grad_(False)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    m(x).sum().backward()
    assert m[0].W.grad is None and m[0].b.grad is None
    assert m[2].W.grad is not None and m[2].b.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    before = m[0].W.data.copy()
    opt = optim.Adam(m.parameters(), lr=0.1)
    m(x).sum().backward()
    opt.step()
    np.testing.assert_array_equal(m[0].W.data, before)  # frozen: left alone


def test_to_double_float_in_place():
    m = nn.Sequential(nn.Linear(3, 4))
    W = m[0].W
    assert m.double() is m
    assert m[0].W is W and W.dtype == np.float64 and m[0].b.dtype == np.float64
    lazy = nn.Sequential(nn.Linear(2)).double()
    assert lazy(np.ones((1, 3))).dtype == np.float64 and lazy[0].W.dtype == np.float64
    m.float()
    assert W.dtype == np.float32


def test_deepcopy_gives_an_independent_model():
    m = TwoLayer()
    c = copy.deepcopy(m)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert c.fc1.W is c._modules["fc1"]._parameters["W"]  # registries and attributes agree
    c.fc1.W.data[...] = 0
    assert not np.all(m.fc1.W.data == 0)
    x = np.ones((2, 4), np.float32)
    assert c(x).shape == (2, 3)


def test_apply_and_module_list():
    seen = []
    m = TwoLayer().apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "TwoLayer"] and isinstance(m, TwoLayer)
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    assert [n for n, _ in ml.named_parameters()] == ["0.W", "0.b", "1.W", "1.b"]
    assert len(ml) == 2 and ml[1].out_features == 3
    rebuilt = nn.module_from_config(nn.module_to_config(ml))
    assert isinstance(rebuilt, nn.ModuleList) and rebuilt[1].W.shape == (2, 3)


# ----- state dict ---------------------------------------------------------------------------
def test_state_dict_round_trip_and_references():
    zd.manual_seed(1)
    a = TwoLayer()
    sd = a.state_dict()
    assert list(sd) == ["scale", "counter", "fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    assert sd["fc1.W"] is a.fc1.W.data  # references, as PyTorch
    zd.manual_seed(2)
    b = TwoLayer()
    arrays = {id(p.data) for p in b.parameters()}
    res = b.load_state_dict({k: v.copy() for k, v in sd.items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert {id(p.data) for p in b.parameters()} == arrays  # copied in place
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # float64 values are cast to the parameters' dtype; Tensors are accepted too
    b.load_state_dict({k: zd.tensor(v.astype(np.float64), dtype=np.float64) for k, v in sd.items()})
    assert b.fc1.W.dtype == np.float32


def test_load_state_dict_strict_errors_list_every_problem():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    sd = {k: v.copy() for k, v in m.state_dict().items()}
    assert "1.running_mean" in sd and "1.running_var" in sd
    assert "1.running_mean" not in dict(m.named_parameters())
    del sd["0.b"]
    sd["extra.W"] = np.zeros(2)
    sd["2.W"] = np.zeros((4, 1))
    before = m[0].W.data.copy()
    sd["0.W"] = before + 1
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert "missing keys: ['0.b']" in msg
    assert "unexpected keys: ['extra.W']" in msg
    assert "'2.W'" in msg and "(4, 1)" in msg and "(3, 1)" in msg
    np.testing.assert_array_equal(m[0].W.data, before)  # nothing loaded on error
    # strict=False ignores missing/unexpected keys but never a shape mismatch
    with pytest.raises(RuntimeError, match="mis-shaped"):
        m.load_state_dict(sd, strict=False)
    sd["2.W"] = np.zeros((3, 1))
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["0.b"] and res.unexpected_keys == ["extra.W"]
    np.testing.assert_array_equal(m[0].W.data, before + 1)


def test_lazy_model_loads_state_before_first_call():
    zd.manual_seed(0)
    a = nn.Sequential(nn.Linear(6), nn.BatchNorm1d(), nn.ReLU(), nn.Linear(2))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    a(x)
    b = nn.Sequential(nn.Linear(6), nn.BatchNorm1d(), nn.ReLU(), nn.Linear(2))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)


# ----- configs -----------------------------------------------------------------------------
def _every_layer_model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.ConvTranspose2d(4, 3, 2, stride=2),
        nn.Conv2d(None, 2, (3, 3), stride=1),
        nn.AvgPool2d(2, stride=2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(16),
        nn.BatchNorm1d(16),
        nn.LeakyReLU(0.1),
        nn.Linear(16, 8, bias=False),
        nn.Sigmoid(),
        nn.Linear(8),
        nn.Tanh(),
        nn.GELU(),
        nn.Identity(),
        nn.Softmax(axis=-1),
    )


def test_config_round_trip_rebuilds_an_equal_model():
    zd.manual_seed(0)
    model = _every_layer_model()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    model(x)  # materialise the lazy layers
    config = nn.module_to_config(model)
    text = json.dumps(config)  # JSON-able
    rebuilt = nn.module_from_config(json.loads(text))
    assert repr(rebuilt) == repr(model)
    assert rebuilt[5].in_channels == 3 and rebuilt[9].in_features == 18
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    np.testing.assert_array_equal(model(x).data, rebuilt(x).data)
    emb = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(2))
    ids = np.array([[1, 2], [3, 9]])
    emb(ids)
    emb2 = nn.module_from_config(json.loads(json.dumps(nn.module_to_config(emb))))
    emb2.load_state_dict(emb.state_dict())
    np.testing.assert_array_equal(emb(ids).data, emb2(ids).data)


def test_config_of_custom_module_records_constructor_arguments():
    m = TwoLayer(hidden=7, classes=2)
    cfg = nn.module_to_config(m)
    assert cfg == {"class": "TwoLayer", "config": {"hidden": 7, "classes": 2}}
    m2 = nn.module_from_config(cfg)
    assert m2.fc1.W.shape == (4, 7) and m2.fc2.W.shape == (7, 2)
    assert nn.Linear(5).get_config() == {"in_features": None, "out_features": 5, "bias": True}
    lin = nn.Linear(5)
    lin(np.ones((2, 3), np.float32))
    assert lin.get_config()["in_features"] == 3  # actual size once known

    class Wrapper(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

    with pytest.raises(TypeError, match="override get_config"):
        Wrapper(nn.ReLU()).get_config()

    class Dense(nn.Linear):  # a subclass with its own arguments keeps the recorded ones
        def __init__(self, units, activation=None):
            super().__init__(units)
            self.activation = activation

    assert Dense(4, activation="relu").get_config() == {"units": 4, "activation": "relu"}

    class Stack(nn.Sequential):  # a container subclass with its own constructor
        def __init__(self, layers=None, name=None):
            super().__init__()
            self.name = name
            for m in layers or []:
                self.append(m)

    st = Stack([nn.Linear(2, 3), nn.ReLU()], name="s")
    cfg = nn.module_to_config(st)
    assert cfg["config"]["name"] == "s" and len(cfg["config"]["layers"]) == 2
    st2 = nn.module_from_config(json.loads(json.dumps(cfg)))
    assert isinstance(st2, Stack) and st2.name == "s" and [type(m) for m in st2] == [nn.Linear, nn.ReLU]
    with pytest.raises(KeyError, match="unknown module class 'Nope'"):
        nn.module_from_config({"class": "Nope", "config": {}})


# ----- shapes -----------------------------------------------------------------------------
def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def test_linear_shapes_and_lazy_inference():
    assert nn.Linear(4, 3)(_x(5, 4)).shape == (5, 3)
    assert nn.Linear(4, 3)(_x(2, 6, 4)).shape == (2, 6, 3)
    lazy = nn.Linear(3)
    assert lazy.W is None and list(lazy.parameters()) == []
    assert lazy(_x(5, 7)).shape == (5, 3)
    assert lazy.in_features == 7 and lazy.W.shape == (7, 3) and lazy.b.shape == (3,)
    assert nn.Linear(4, 3, bias=False).b is None
    assert [n for n, _ in nn.Linear(4, 3, bias=False).named_parameters()] == ["W"]
    assert nn.Flatten()(_x(2, 3, 4, 5)).shape == (2, 60)


def test_build_materialises_lazy_parameters_without_touching_modes():
    m = nn.Sequential(nn.Linear(8), nn.Dropout(), nn.Linear(2))
    m.build((None, 5))
    assert [p.shape for p in m.parameters()] == [(5, 8), (8,), (8, 2), (2,)]
    assert all(x.training for x in m.modules())
    e = nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(2)).build((4, 7))
    assert e[2].W.shape == (21, 2)


@pytest.mark.parametrize(
    "name",
    ["ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "Identity"],
)
def test_activation_shapes_and_values(name):
    x = _x(3, 4, 5)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=-1, keepdims=True))
    erf = np.vectorize(math.erf)
    expected = {
        "ReLU": np.maximum(x64, 0),
        "Sigmoid": 1 / (1 + np.exp(-x64)),
        "Tanh": np.tanh(x64),
        "LeakyReLU": np.where(x64 > 0, x64, 0.01 * x64),
        "GELU": 0.5 * x64 * (1 + erf(x64 / math.sqrt(2))),
        "Softmax": e / e.sum(axis=-1, keepdims=True),
        "LogSoftmax": np.log(e / e.sum(axis=-1, keepdims=True)),
        "Identity": x64,
    }[name]
    y = getattr(nn, name)()(x)
    assert y.shape == (3, 4, 5) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)


def test_conv_shapes():
    assert nn.Conv2d(3, 8, 3)(_x(2, 3, 10, 12)).shape == (2, 8, 8, 10)
    assert nn.Conv2d(3, 8, 3, stride=2, padding=1)(_x(2, 3, 10, 12)).shape == (2, 8, 5, 6)
    c = nn.Conv2d(None, 4, (3, 5))
    assert c(_x(1, 2, 7, 7)).shape == (1, 4, 5, 3) and c.W.shape == (4, 2, 3, 5) and c.b.shape == (4,)
    t = nn.ConvTranspose2d(4, 2, 2, stride=2)
    x = _x(2, 4, 5, 6)
    y = t(x)
    assert y.shape == (2, 2, 10, 12) and t.W.shape == (4, 2, 2, 2)
    # kernel 2, stride 2: each input pixel paints its own 2x2 block, W[c_in, c_out] times it
    ref = np.einsum("nchw,cokl->nohkwl", x, t.W.data).reshape(2, 2, 10, 12) + t.b.data[:, None, None]
    np.testing.assert_allclose(y.data, ref, rtol=1e-5, atol=1e-5)
    c = nn.Conv2d(3, 8, 1, stride=2)  # a 1x1 convolution with stride 2: a matmul on every other pixel
    x = _x(2, 3, 10, 12)
    ref = np.einsum("nchw,oc->nohw", x[:, :, ::2, ::2], c.W.data[:, :, 0, 0]) + c.b.data[:, None, None]
    np.testing.assert_allclose(c(x).data, ref, rtol=1e-5, atol=1e-5)
    assert nn.ConvTranspose2d(4, 2, 3, stride=1, padding=1)(_x(1, 4, 5, 5)).shape == (1, 2, 5, 5)


def test_pool_shapes_and_values():
    x = _x(2, 3, 8, 9)
    y = nn.MaxPool2d(2)(x)  # stride defaults to the kernel; the last column is dropped
    assert y.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(y.data, x[..., :8].reshape(2, 3, 4, 2, 4, 2).max(axis=(3, 5)))
    y = nn.AvgPool2d(3, stride=1, padding=1)(x)
    assert y.shape == (2, 3, 8, 9)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))  # zero padding counts in the mean (PyTorch's default)
    ref = sum(xp[..., i : i + 8, j : j + 9] for i in range(3) for j in range(3)) / 9
    np.testing.assert_allclose(y.data, ref, rtol=1e-5, atol=1e-6)


def test_batchnorm_shapes_buffers_and_modes():
    bn = nn.BatchNorm1d(4)
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    x = _x(16, 4) * 3 + 5
    y = bn(x)
    assert y.shape == (16, 4)
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-5)
    assert np.all(bn.running_mean > 0.1)  # updated in training
    rm = bn.running_mean.copy()
    bn.eval()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean, rm)  # untouched in eval
    assert nn.BatchNorm2d(3)(_x(2, 3, 4, 5)).shape == (2, 3, 4, 5)
    lazy = nn.BatchNorm2d()
    lazy(_x(2, 6, 3, 3))
    assert lazy.num_features == 6 and lazy.running_var.shape == (6,)


def test_dropout_training_and_eval():
    d = nn.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    y = d(x).data
    assert y.shape == x.shape and 0.3 < (y == 0).mean() < 0.7
    assert set(np.unique(y)) <= {0.0, 2.0}
    d.eval()
    np.testing.assert_array_equal(d(x).data, x)


def test_embedding_shapes():
    e = nn.Embedding(10, 4)
    assert e.W.shape == (10, 4)
    assert e(np.array([1, 2, 3])).shape == (3, 4)
    assert e(np.array([[1, 2, 3], [0, 9, 9]])).shape == (2, 3, 4)
    with pytest.raises(IndexError, match=r"Embedding\(10, 4\): id 10 is out of range"):
        e(np.array([10]))
    with pytest.raises(TypeError, match="integer ids"):
        e(np.array([0.5]))


# ----- gradient checks (float64) ------------------------------------------------------------
def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


GRADCHECK_CASES = [
    ("linear", lambda: nn.Linear(3, 4), (5, 3)),
    ("linear_3d", lambda: nn.Linear(3, 2), (2, 4, 3)),
    ("linear_nobias", lambda: nn.Linear(3, 2, bias=False), (4, 3)),
    ("conv2d", lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), (2, 2, 3, 3)),
    ("maxpool", lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
    ("avgpool", lambda: nn.AvgPool2d(2, stride=1), (2, 2, 4, 4)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 2)),
    ("dropout", lambda: nn.Dropout(0.3), (4, 5)),
    ("batchnorm1d", lambda: nn.BatchNorm1d(3), (6, 3)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(2), (3, 2, 3, 3)),
    ("batchnorm1d_eval", lambda: nn.BatchNorm1d(3).eval(), (6, 3)),
    ("relu", lambda: nn.ReLU(), (4, 5)),
    ("sigmoid", lambda: nn.Sigmoid(), (4, 5)),
    ("tanh", lambda: nn.Tanh(), (4, 5)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (4, 5)),
    ("gelu", lambda: nn.GELU(), (4, 5)),
    ("softmax", lambda: nn.Softmax(axis=-1), (4, 5)),
    ("log_softmax", lambda: nn.LogSoftmax(), (4, 5)),
    ("mlp", lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(2)), (5, 3)),
]


@pytest.mark.parametrize("name,make,shape", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_layer_gradients_float64(name, make, shape):
    zd.manual_seed(0)
    with zd.default_dtype(np.float64):
        layer = make()
    x = _rand(*shape)
    if name == "maxpool":  # keep the max of each window away from ties
        x = x + np.arange(x.size).reshape(shape) * 0.01
    check_layer_gradients(layer, x)


def test_embedding_gradient_float64():
    zd.manual_seed(0)
    with zd.default_dtype(np.float64):
        e = nn.Embedding(6, 3)
    ids = np.array([[0, 2, 2], [5, 0, 1]])
    (gW,) = check_layer_gradients(e, ids, input_grad=False)
    assert np.all(gW[3] == 0) and np.all(gW[4] == 0)  # unused rows get no gradient
    assert np.any(gW[2] != 0)


# ----- init -----------------------------------------------------------------------------------
def test_init_statistics():
    zd.manual_seed(0)
    W = zd.tensor(np.empty((1000, 500), np.float32))
    assert init.he_normal_(W) is W
    assert abs(W.data.std() - np.sqrt(2 / 1000)) < 0.02 * np.sqrt(2 / 1000)
    assert abs(W.data.mean()) < 1e-3
    init.he_uniform_(W)
    assert np.abs(W.data).max() <= np.sqrt(6 / 1000) and np.abs(W.data).max() > 0.99 * np.sqrt(6 / 1000)
    bound = np.sqrt(6 / 1500)
    init.xavier_uniform_(W)
    assert np.abs(W.data).max() <= bound and np.abs(W.data).max() > 0.99 * bound
    init.xavier_normal_(W)
    assert abs(W.data.std() - np.sqrt(2 / 1500)) < 0.02 * np.sqrt(2 / 1500)
    C = nn.Parameter(np.zeros((64, 32, 3, 3)))
    init.he_normal_(C)  # fan_in = 32 * 9
    assert abs(C.data.std() - np.sqrt(2 / 288)) < 0.03 * np.sqrt(2 / 288)
    assert init.calculate_fans((64, 32, 3, 3)) == (288, 576)
    assert init.calculate_fans((784, 100)) == (784, 100)
    init.normal_(W, std=3.0, mean=1.0)
    assert abs(W.data.std() - 3) < 0.05 and abs(W.data.mean() - 1) < 0.05
    init.uniform_(W, -2.0, 5.0)
    assert W.data.min() >= -2 and W.data.max() <= 5
    assert np.all(init.zeros_(W).data == 0) and np.all(init.ones_(W).data == 1)
    assert W.dtype == np.float32
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.he_normal_(zd.tensor(np.zeros(3)))


def test_default_inits_and_seed_reproducibility():
    zd.manual_seed(0)
    lin = nn.Linear(2000, 300)
    assert abs(lin.W.data.std() - np.sqrt(2 / 2000)) < 0.02 * np.sqrt(2 / 2000)
    assert np.all(lin.b.data == 0)
    conv = nn.Conv2d(16, 64, 3)
    assert abs(conv.W.data.std() - np.sqrt(2 / 144)) < 0.05 * np.sqrt(2 / 144)
    emb = nn.Embedding(1000, 50)
    assert abs(emb.W.data.std() - 0.01) < 0.001
    zd.manual_seed(5)
    a = nn.Linear(4, 4).W.data.copy()
    zd.manual_seed(5)
    np.testing.assert_array_equal(a, nn.Linear(4, 4).W.data)


# ----- errors ---------------------------------------------------------------------------------
def test_error_messages_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Linear\(784 -> 10\): expected input with 784 features, got shape \(100, 100\)"):
        nn.Linear(784, 10)(np.zeros((100, 100), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 8, kernel_size=\(3, 3\)\): expected input with 3 channels.*\(2, 1, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d.*expected input of shape \(N, C, H, W\), got shape \(2, 8\)"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): expected 4 features.*got shape \(8, 5\)"):
        nn.BatchNorm1d(4)(np.zeros((8, 5), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4\): expected input of shape \(N, C, H, W\), got shape \(8, 4\)"):
        nn.BatchNorm2d(4)(np.zeros((8, 4), np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d.*got shape \(3, 4\)"):
        nn.MaxPool2d(2)(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="out_features must be a positive integer"):
        nn.Linear(3, 0)
    with pytest.raises(ValueError, match="Dropout: p must be in"):
        nn.Dropout(1.5)


def test_training_methods_are_installed_by_train(monkeypatch):
    """``zerodl.train`` installs compile/fit/evaluate/predict/summary on nn.Module (nn never
    imports train); each forwards its arguments to the train function; ``save`` is nn's own."""
    import zerodl.nn.module as module_file
    from zerodl.train import api, module_methods

    calls = []

    def spy(n):
        return lambda model, *a, **k: calls.append((n, model, a, k)) or n

    for name in ("compile", "fit", "evaluate", "predict"):
        monkeypatch.setattr(api, name, spy(name))
    monkeypatch.setattr(module_methods, "_summary", spy("summary"))
    monkeypatch.setattr(module_file, "save_model", spy("save_model"))
    m = nn.Sequential(nn.Linear(2, 2))
    assert m.stop_training is False
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    m.fit(np.zeros((4, 2)), np.zeros((4, 2)), epochs=3, verbose=0)
    m.evaluate(np.zeros((4, 2)), np.zeros((4, 2)))
    m.predict(np.zeros((4, 2)), batch_size=2)
    m.summary((None, 2))
    m.save("x.safetensors")
    assert [c[0] for c in calls] == ["compile", "fit", "evaluate", "predict", "summary", "save_model"]
    assert all(c[1] is m for c in calls)
    assert calls[0][3] == {"optimizer": "sgd", "loss": "mse", "metrics": ["mae"]}
    assert calls[1][3]["epochs"] == 3 and calls[1][3]["initial_epoch"] == 0
    assert calls[4][3] == {"input_shape": (None, 2)}
    for name, fn in module_methods.METHODS.items():
        assert getattr(nn.Module, name) is fn


# ----- end to end: the spiral -------------------------------------------------------------------
def test_spiral_classifier_reaches_97_percent():
    zd.manual_seed(0)
    x, t = datasets.spiral()
    assert x.shape == (300, 2)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64), nn.ReLU(), nn.Linear(3))
    model.build((None, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for epoch in range(300):
        idx = rng.permutation(len(x))
        for i in range(0, len(x), 30):
            b = idx[i : i + 30]
            loss = F.softmax_cross_entropy(model(x[b]), t[b])
            model.zero_grad()
            loss.backward()
            opt.step()
    with zd.no_grad():
        acc = (model(x).data.argmax(axis=1) == t).mean()
    print(f"spiral: accuracy {acc:.3f}, loss {loss.item():.4f}, {time.perf_counter() - start:.2f} s")
    assert acc >= 0.97, acc
    assert time.perf_counter() - start < 15


def test_import_zerodl_nn_alone_gives_modules_that_fit():
    """``import zerodl.nn`` runs zerodl/__init__.py first, which imports zerodl.train: the
    training methods are there however zerodl was imported (a fresh process proves it)."""
    import os
    import subprocess
    import sys

    code = ("import sys, numpy as np\nimport zerodl.nn as nn\n"
            "assert 'zerodl.train' in sys.modules\n"
            "m = nn.Sequential(nn.Linear(2, 2)); m.compile(optimizer='sgd', loss='mse')\n"
            "h = m.fit(np.zeros((4, 2)), np.zeros((4, 2)), epochs=2, verbose=0)\n"
            "print(len(h.history['loss']))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2"


def test_flatten_start_and_end_dim_as_pytorch():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Flatten(1, 2)(x).data, x.reshape(2, 12, 5))
    assert nn.module_from_config(nn.module_to_config(nn.Flatten(1, 2))).end_dim == 2
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=3, end_dim=1\).*\(2, 3, 4, 5\)"):
        nn.Flatten(3, 1)(x)
