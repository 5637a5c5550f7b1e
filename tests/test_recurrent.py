"""Recurrent ops (F.rnn, F.lstm, F.gru) and layers (nn.RNN, nn.LSTM, nn.GRU).

Values are checked against plain step-by-step float64 NumPy references written here (the
textbook equations; the GRU with PyTorch's), gradients against central differences in
float64, and the layers for shapes, state handling (truncated BPTT), serialisation, errors
and for actually learning a small task.
"""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
from zerodl.utils import gradient_check


# ----- float64 references, one step at a time -----------------------------------------------
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def ref_rnn(x, h, Wx, Wh, b):
    hs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    return np.stack(hs, axis=1), h


def ref_lstm(x, h, c, Wx, Wh, b):
    """Gates (i, f, g, o) along the 4H axis."""
    H = h.shape[1]
    hs = []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1), h, c


def ref_gru(x, h, Wx, Wh, bx, bh):
    """PyTorch's GRU: r, z, n with n = tanh(x W_n + b_in + r * (h W_hn + b_hn))."""
    H = h.shape[1]
    hs = []
    for t in range(x.shape[1]):
        gx, gh = x[:, t] @ Wx + bx, h @ Wh + bh
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, axis=1), h


def make_args(kind, rng, N=2, T=4, F_=3, H=4, scale=0.6):
    """Random float64 inputs of ``kind`` in the op's argument order."""
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    x = rng.standard_normal((N, T, F_))
    h0 = rng.standard_normal((N, H)) * 0.5
    Wx = rng.standard_normal((F_, G * H)) * scale
    Wh = rng.standard_normal((H, G * H)) * scale
    b = rng.standard_normal(G * H) * 0.3
    if kind == "rnn":
        return [x, h0, Wx, Wh, b]
    if kind == "lstm":
        return [x, h0, rng.standard_normal((N, H)) * 0.5, Wx, Wh, b]
    return [x, h0, Wx, Wh, b, rng.standard_normal(G * H) * 0.3]


OPS = {"rnn": (F.rnn, ref_rnn), "lstm": (F.lstm, ref_lstm), "gru": (F.gru, ref_gru)}
NAMES = {
    "rnn": ["x", "h0", "Wx", "Wh", "b"],
    "lstm": ["x", "h0", "c0", "Wx", "Wh", "b"],
    "gru": ["x", "h0", "Wx", "Wh", "bx", "bh"],
}


# ----- ops: values ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("sizes", [dict(N=2, T=4, F_=3, H=4), dict(N=3, T=1, F_=5, H=2), dict(N=1, T=6, F_=2, H=3)])
def test_forward_matches_reference(kind, sizes):
    op, ref = OPS[kind]
    args = make_args(kind, np.random.default_rng(0), **sizes)
    outs = op(*[zd.tensor(a, dtype=np.float64) for a in args])
    expected = ref(*args)
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_stays_float32(kind):
    op, ref = OPS[kind]
    args = make_args(kind, np.random.default_rng(1), N=3, T=5, F_=4, H=6)
    ts = [zd.tensor(a.astype(np.float32), requires_grad=True) for a in args]
    outs = op(*ts)
    assert all(o.dtype == np.float32 for o in outs)
    np.testing.assert_allclose(outs[0].data, ref(*args)[0], rtol=1e-4, atol=1e-5)
    sum(o.sum() for o in outs).backward()
    assert all(t.grad.dtype == np.float32 and t.grad.shape == t.shape for t in ts)


def test_outputs_do_not_alias_each_other():
    args = make_args("lstm", np.random.default_rng(2))
    hs, hT, cT = F.lstm(*[zd.tensor(a, dtype=np.float64) for a in args])
    np.testing.assert_array_equal(hs.data[:, -1], hT.data)
    hT.data += 1  # the last step of hs is a separate array
    assert not np.allclose(hs.data[:, -1], hT.data)


# ----- ops: gradients ----------------------------------------------------------------------------
def _weighted(outs, which, rng_seed=3):
    """sum(out * R) over the chosen outputs (fixed random R): a scalar loss."""
    rng = np.random.default_rng(rng_seed)
    loss = None
    for k in which:
        o = outs[k]
        term = (o * rng.standard_normal(o.shape)).sum()
        loss = term if loss is None else loss + term
    return loss


GRAD_CASES = [
    ("rnn", (0, 1)),
    ("rnn", (0,)),
    ("rnn", (1,)),
    ("lstm", (0, 1, 2)),
    ("lstm", (0,)),
    ("lstm", (1,)),
    ("lstm", (2,)),
    ("gru", (0, 1)),
    ("gru", (0,)),
    ("gru", (1,)),
]


@pytest.mark.parametrize("kind, which", GRAD_CASES)
def test_gradients_match_central_differences(kind, which):
    """Every input (x, states, all weights), gradients arriving from hs and/or hT (cT)."""
    op, _ = OPS[kind]
    args = make_args(kind, np.random.default_rng(4), N=2, T=4, F_=3, H=3)
    res = gradient_check(lambda *ts: _weighted(op(*ts), which), *args, atol=1e-7, rtol=1e-5)
    assert res.ok, (kind, which, dict(zip(NAMES[kind], res.errors)))


@pytest.mark.parametrize("T", [1, 4])
def test_lstm_zero_initial_state_takes_the_short_path_with_the_same_results(T):
    """h0 = 0 skips the step-0 GEMMs (forward h0 @ Wh, its rows of dWh): a gradient check
    of that path, and the same outputs and gradients as a (tiny) nonzero h0 on the full path."""
    op, _ = OPS["lstm"]
    args = make_args("lstm", np.random.default_rng(6), N=2, T=T, F_=3, H=3)
    args[1] = np.zeros_like(args[1])
    res = gradient_check(lambda *ts: _weighted(op(*ts), (0, 1)), *args, atol=1e-7, rtol=1e-5)
    assert res.ok, dict(zip(NAMES["lstm"], res.errors))
    runs = []
    for h0 in (args[1], np.full_like(args[1], 1e-300)):
        ts = [zd.tensor(a, dtype=np.float64, requires_grad=True) for a in [args[0], h0] + args[2:]]
        outs = op(*ts)
        _weighted(outs, (0, 1)).backward()
        runs.append([o.data for o in outs] + [t.grad for t in ts])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradients_only_for_inputs_that_need_them(kind):
    """Constants (x and the states here) get no gradient; the weights' gradients are unchanged."""
    op, _ = OPS[kind]
    args = make_args(kind, np.random.default_rng(5), T=3)
    full = [zd.tensor(a, dtype=np.float64, requires_grad=True) for a in args]
    _weighted(op(*full), (0,)).backward()
    n_states = 3 if kind == "lstm" else 2
    part = [zd.tensor(a, dtype=np.float64, requires_grad=i >= n_states) for i, a in enumerate(args)]
    _weighted(op(*part), (0,)).backward()
    for i, (a, b) in enumerate(zip(full, part)):
        if i < n_states:
            assert b.grad is None
        else:
            np.testing.assert_allclose(b.grad, a.grad, rtol=1e-12, atol=1e-14)


def test_lstm_and_gru_match_pytorch_when_available():
    """Weights mapped as documented: Wx = weight_ih.T, Wh = weight_hh.T (biases: see below)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    N, T, F_, H = 2, 5, 3, 4
    x = rng.standard_normal((N, T, F_))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    tx, th, tc = (torch.tensor(a) for a in (x, h0, c0))
    with torch.no_grad():
        lstm = torch.nn.LSTM(F_, H, batch_first=True).double()
        ths, (thT, tcT) = lstm(tx, (th[None], tc[None]))
        hs, hT, cT = F.lstm(
            zd.tensor(x, dtype=np.float64), h0, c0,
            lstm.weight_ih_l0.numpy().T, lstm.weight_hh_l0.numpy().T,
            (lstm.bias_ih_l0 + lstm.bias_hh_l0).numpy(),
        )
        for got, want in ((hs, ths), (hT, thT[0]), (cT, tcT[0])):
            np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-10, atol=1e-12)
        gru = torch.nn.GRU(F_, H, batch_first=True).double()
        ths, thT = gru(tx, th[None])
        hs, hT = F.gru(
            zd.tensor(x, dtype=np.float64), h0,
            gru.weight_ih_l0.numpy().T, gru.weight_hh_l0.numpy().T,
            gru.bias_ih_l0.numpy(), gru.bias_hh_l0.numpy(),
        )
        np.testing.assert_allclose(hs.data, ths.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(hT.data, thT[0].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.lstm(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)), "lstm: x must be (N, T, F)"),
        (lambda: F.lstm(np.zeros((2, 3, 5)), np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)), "lstm: Wx must be"),
        (lambda: F.lstm(np.zeros((2, 3, 3)), np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 16)), np.zeros((4, 12)), np.zeros(16)), "lstm: Wh must be (H, 4*H)"),
        (lambda: F.lstm(np.zeros((2, 3, 3)), np.zeros((3, 4)), np.zeros((2, 4)), np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)), "lstm: h0 must have shape (2, 4)"),
        (lambda: F.lstm(np.zeros((2, 3, 3)), np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)), "lstm: c0 must have shape (2, 4)"),
        (lambda: F.gru(np.zeros((2, 3, 3)), np.zeros((2, 4)), np.zeros((3, 12)), np.zeros((4, 12)), np.zeros(12), np.zeros(4)), "gru: bh must have shape (12,)"),
        (lambda: F.rnn(np.zeros((2, 0, 3)), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4)), "rnn: the sequence is empty"),
    ],
)
def test_op_shape_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)


# ----- layers ---------------------------------------------------------------------------------------
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _x(N=3, T=5, F_=4, seed=0):
    return np.random.default_rng(seed).standard_normal((N, T, F_)).astype(np.float32)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_layer_shapes_and_state(kind, num_layers):
    x = _x()
    seq = LAYERS[kind](4, 6, num_layers=num_layers, return_sequences=True)
    last = LAYERS[kind](4, 6, num_layers=num_layers)
    last.load_state_dict(seq.state_dict())
    hs, h = seq(x), last(x)
    assert hs.shape == (3, 5, 6) and h.shape == (3, 6) and hs.dtype == np.float32
    np.testing.assert_allclose(hs.data[:, -1], h.data, rtol=1e-6)
    states = last.state if kind == "lstm" else (last.state,)
    assert len(states) == (2 if kind == "lstm" else 1)
    for s in states:
        assert s.shape == (num_layers, 3, 6) and s.requires_grad  # still attached to the graph
    np.testing.assert_allclose(states[0].data[-1], h.data)


def test_layer_parameters_names_shapes_and_init():
    zd.manual_seed(0)
    lstm = nn.LSTM(5, 8, num_layers=2)
    shapes = {n: p.shape for n, p in lstm.named_parameters()}
    assert shapes == {
        "Wx_0": (5, 32), "Wh_0": (8, 32), "b_0": (32,),
        "Wx_1": (8, 32), "Wh_1": (8, 32), "b_1": (32,),
    }
    bound = 1 / np.sqrt(8)
    for p in lstm.parameters():
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound
    assert np.abs(lstm.Wh_0.data).max() > 0.8 * bound  # spread over the whole range
    gru = nn.GRU(5, 8)
    assert [n for n, _ in gru.named_parameters()] == ["Wx_0", "Wh_0", "bx_0", "bh_0"]
    assert gru.Wx_0.shape == (5, 24) and gru.bh_0.shape == (24,)
    assert nn.RNN(5, 8).Wh_0.shape == (8, 8)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_layer_matches_the_op_and_uses_the_initial_state(kind):
    rng = np.random.default_rng(1)
    layer = LAYERS[kind](4, 5, return_sequences=True)
    x = _x()
    h0 = rng.standard_normal((1, 3, 5)).astype(np.float32)
    c0 = rng.standard_normal((1, 3, 5)).astype(np.float32)
    state = (h0, c0) if kind == "lstm" else h0
    out = layer(x, state)
    p = [t.data for t in layer.parameters()]
    want = OPS[kind][0](x, *([h0[0], c0[0]] if kind == "lstm" else [h0[0]]), *p)[0]
    np.testing.assert_allclose(out.data, want.data, rtol=1e-6)
    assert not np.allclose(out.data, layer(x).data)  # None = zeros: a different result
    # (N, H) is accepted for one layer
    flat = (h0[0], c0[0]) if kind == "lstm" else h0[0]
    np.testing.assert_allclose(layer(x, flat).data, out.data)


def test_stacked_layers_feed_each_other():
    zd.manual_seed(3)
    deep = nn.GRU(4, 6, num_layers=2, return_sequences=True)
    one, two = nn.GRU(4, 6, return_sequences=True), nn.GRU(6, 6, return_sequences=True)
    sd = deep.state_dict()
    one.load_state_dict({k[:-1] + "0": v for k, v in sd.items() if k.endswith("_0")})
    two.load_state_dict({k[:-1] + "0": v for k, v in sd.items() if k.endswith("_1")})
    x = _x()
    np.testing.assert_allclose(deep(x).data, two(one(x)).data, rtol=1e-6)
    h0 = np.random.default_rng(0).standard_normal((2, 3, 6)).astype(np.float32)
    np.testing.assert_allclose(deep(x, h0).data, two(one(x, h0[0]), h0[1]).data, rtol=1e-6)
    np.testing.assert_allclose(deep.state.data, np.stack([one.state.data[0], two.state.data[0]]), rtol=1e-6)


def test_dropout_between_layers_only_in_training():
    zd.manual_seed(0)
    lstm = nn.LSTM(4, 6, num_layers=2, dropout=0.5)
    x = _x()
    lstm.eval()
    a, b = lstm(x).data, lstm(x).data
    np.testing.assert_array_equal(a, b)
    lstm.train()
    c = lstm(x).data
    assert not np.allclose(a, c)
    single = nn.LSTM(4, 6, dropout=0.5)  # one layer: nothing to drop between
    np.testing.assert_array_equal(single(x).data, single(x).data)


def test_truncated_bptt_detach_state_cuts_the_graph():
    zd.manual_seed(0)
    lstm = nn.LSTM(4, 5, return_sequences=True)
    x1 = zd.tensor(_x(seed=1), requires_grad=True)
    x2 = zd.tensor(_x(seed=2), requires_grad=True)

    # without detaching, chunk 2's gradient flows back into chunk 1
    lstm(x1)
    lstm(x2, lstm.state).sum().backward()
    assert x1.grad is not None and np.abs(x1.grad).max() > 0

    x1.grad = x2.grad = None
    out1 = lstm(x1)
    out1.sum().backward()
    g1 = x1.grad.copy()
    lstm.detach_state()
    h, c = lstm.state
    assert not h.requires_grad and h.creator is None and not c.requires_grad
    out2 = lstm(x2, lstm.state)
    out2.sum().backward()  # chunk 1's graph was freed by its own backward: must not be reached
    np.testing.assert_array_equal(x1.grad, g1)
    assert x2.grad is not None
    # the state carried over is the one chunk 1 ended with
    np.testing.assert_allclose(out2.data, lstm(x2, (h.data, c.data)).data)


def test_gradient_check_of_layer_parameters_and_input():
    with zd.default_dtype(np.float64):
        zd.manual_seed(1)
        layers = [
            nn.LSTM(3, 3, num_layers=2, return_sequences=True),
            nn.GRU(3, 3),
            nn.RNN(3, 2, num_layers=2),
        ]
    x = np.random.default_rng(2).standard_normal((2, 3, 3))
    for layer in layers:
        params = list(layer.parameters())
        assert all(p.dtype == np.float64 for p in params)
        res = gradient_check(lambda t: layer(t), x, params=params, atol=1e-7, rtol=1e-5)
        assert res.ok, (layer, res.errors)


def test_lazy_input_size_and_serialisation():
    zd.manual_seed(0)
    lstm = nn.LSTM(7, return_sequences=True)  # input size inferred at the first call
    assert lstm.input_size is None and lstm.Wx_0 is None
    x = _x(F_=4)
    out = lstm(x)
    assert out.shape == (3, 5, 7) and lstm.Wx_0.shape == (4, 28)
    config = nn.module_to_config(lstm)
    assert config == {
        "class": "LSTM",
        "config": {"input_size": 4, "hidden_size": 7, "num_layers": 1, "dropout": 0.0, "return_sequences": True},
    }
    clone = nn.module_from_config(config)
    clone.load_state_dict(lstm.state_dict())
    np.testing.assert_allclose(clone(x).data, out.data)
    lazy = nn.GRU(None, 7, num_layers=2)  # a lazy layer takes its size from a state dict
    lazy.load_state_dict(nn.GRU(4, 7, num_layers=2).state_dict())
    assert lazy.input_size == 4 and lazy(x).shape == (3, 7)
    assert "LSTM(4, 7, return_sequences=True)" == repr(lstm)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nn.LSTM(4, 6)(np.zeros((3, 4), np.float32)), "LSTM(4 -> 6): expected input of shape (N, T, F), got shape (3, 4)"),
        (lambda: nn.GRU(4, 6)(np.zeros((3, 5, 3), np.float32)), "GRU(4 -> 6): expected input with 4 features (N, T, 4), got shape (3, 5, 3)"),
        (lambda: nn.RNN(4, 6, num_layers=2)(np.zeros((3, 5, 4), np.float32), np.zeros((1, 3, 6))), "RNN(4 -> 6, num_layers=2): state h0 must have shape (num_layers, N, H) = (2, 3, 6) for input with N=3, got (1, 3, 6)"),
        (lambda: nn.LSTM(4, 6)(np.zeros((3, 5, 4), np.float32), np.zeros((1, 3, 6))), "LSTM(4 -> 6): state must be a pair (h0, c0)"),
        (lambda: nn.LSTM(4, 6)(np.zeros((3, 5, 4), np.float32), (np.zeros((1, 3, 6)), np.zeros((1, 2, 6)))), "LSTM(4 -> 6): state c0 must have shape (num_layers, N, H) = (1, 3, 6)"),
        (lambda: nn.LSTM(4, 0), "LSTM: hidden_size must be a positive integer"),
        (lambda: nn.GRU(4, 6, dropout=1.0), "GRU: dropout must be in [0, 1)"),
    ],
)
def test_layer_errors_name_the_layer_and_shapes(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)


# ----- learning ----------------------------------------------------------------------------------------
def _adam(params, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    """A minimal Adam, local to the test (independent of zerodl.optim)."""
    state = [(np.zeros_like(p.data), np.zeros_like(p.data)) for p in params]
    step = [0]

    def update():
        step[0] += 1
        t = step[0]
        for p, (m, v) in zip(params, state):
            m *= b1
            m += (1 - b1) * p.grad
            v *= b2
            v += (1 - b2) * p.grad * p.grad
            p.data -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
            p.grad = None

    return update


def test_lstm_learns_to_predict_a_sine_wave():
    """Next value of sin from the last 12 values, to MSE < 0.01 in a few hundred steps."""
    zd.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = nn.LSTM(1, 16), nn.Linear(16, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    update = _adam(params, lr=0.02)

    def batch(n=32, T=12):
        phase = rng.uniform(0, 2 * np.pi, (n, 1))
        s = np.sin(phase + 0.4 * np.arange(T + 1)).astype(np.float32)
        return s[:, :T, None], s[:, T:]

    for _ in range(250):
        x, t = batch()
        loss = F.mean_squared_error(head(lstm(x)), t)
        loss.backward()
        update()
    x, t = batch(256)
    with zd.no_grad():
        mse = float(F.mean_squared_error(head(lstm(x)), t).item())
    assert mse < 0.01, mse


# ----- activation= / recurrent_activation= and batch_first (API 0.2) -------------------------
ACTS = {
    "tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda a: np.maximum(a, 0),
    "hard_sigmoid": lambda a: np.clip(a / 6 + 0.5, 0, 1), "linear": lambda a: a,
}


def ref_cells(kind, act, ract):
    """Step-by-step references with the cell's functions swapped (Keras's meaning)."""
    A, R = ACTS[act], ACTS[ract]

    def rnn(x, h, Wx, Wh, b):
        hs = []
        for t in range(x.shape[1]):
            h = A(x[:, t] @ Wx + h @ Wh + b)
            hs.append(h)
        return np.stack(hs, axis=1), h

    def lstm(x, h, c, Wx, Wh, b):
        H, hs = h.shape[1], []
        for t in range(x.shape[1]):
            a = x[:, t] @ Wx + h @ Wh + b
            i, f, g, o = R(a[:, :H]), R(a[:, H:2 * H]), A(a[:, 2 * H:3 * H]), R(a[:, 3 * H:])
            c = f * c + i * g
            h = o * A(c)
            hs.append(h)
        return np.stack(hs, axis=1), h, c

    def gru(x, h, Wx, Wh, bx, bh):
        H, hs = h.shape[1], []
        for t in range(x.shape[1]):
            gx, gh = x[:, t] @ Wx + bx, h @ Wh + bh
            r, z = R(gx[:, :H] + gh[:, :H]), R(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = A(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
            hs.append(h)
        return np.stack(hs, axis=1), h

    return {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]


@pytest.mark.parametrize("kind, act, ract", [
    ("rnn", "relu", "sigmoid"), ("rnn", "hard_sigmoid", "sigmoid"), ("rnn", "sigmoid", "sigmoid"),
    ("lstm", "relu", "sigmoid"), ("lstm", "tanh", "hard_sigmoid"), ("lstm", "sigmoid", "relu"),
    ("lstm", "linear", "sigmoid"), ("gru", "relu", "hard_sigmoid"), ("gru", "sigmoid", "tanh"),
])
def test_ops_with_other_activations_match_the_reference(kind, act, ract):
    args = make_args(kind, np.random.default_rng(11), scale=1.5)
    kw = {"activation": act} if kind == "rnn" else {"activation": act, "recurrent_activation": ract}
    got = getattr(F, kind)(zd.tensor(args[0], dtype=np.float64), *args[1:], **kw)
    want = ref_cells(kind, act, ract)(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.data, w, rtol=1e-12, atol=1e-12)
    # and the float32 fast path is not taken by accident: tanh/sigmoid give a different result
    if (act, ract) != ("tanh", "sigmoid"):
        default = getattr(F, kind)(zd.tensor(args[0], dtype=np.float64), *args[1:])
        assert not np.allclose(default[0].data, got[0].data)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_layer_activation_argument_is_used_and_serialised(kind):
    zd.manual_seed(0)
    kw = {"activation": "relu"} if kind == "RNN" else {"activation": "relu", "recurrent_activation": "hard_sigmoid"}
    layer = getattr(nn, kind)(3, 4, return_sequences=True, **kw).double()
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    p = {k: v.data for k, v in layer.named_parameters()}
    h0 = [np.zeros((2, 4))] * (2 if kind == "LSTM" else 1)
    op_args = (*h0, *p.values())  # Wx, Wh and the bias(es), in the op's order
    want = ref_cells(kind.lower(), kw["activation"], kw.get("recurrent_activation", "sigmoid"))(x, *op_args)[0]
    np.testing.assert_allclose(layer(zd.tensor(x, dtype=np.float64)).data, want, rtol=1e-12, atol=1e-12)
    cfg = nn.module_to_config(layer)
    assert cfg["config"]["activation"] == "relu"
    clone = nn.module_from_config(cfg)
    assert clone.activation == "relu" and clone.recurrent_activation == kw.get("recurrent_activation", "sigmoid")
    assert "activation='relu'" in repr(layer)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_batch_first_false_takes_time_major_input(kind):
    zd.manual_seed(0)
    a = getattr(nn, kind)(3, 4, return_sequences=True).double()
    b = getattr(nn, kind)(3, 4, return_sequences=True, batch_first=False).double()
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 5, 3))  # (N, T, F)
    ya = a(zd.tensor(x, dtype=np.float64))
    yb = b(zd.tensor(x.transpose(1, 0, 2), dtype=np.float64))  # (T, N, F) in, (T, N, H) out
    assert yb.shape == (5, 2, 4)
    np.testing.assert_allclose(yb.data.transpose(1, 0, 2), ya.data, rtol=1e-12)
    b.return_sequences = False
    np.testing.assert_allclose(b(zd.tensor(x.transpose(1, 0, 2), dtype=np.float64)).data, ya.data[:, -1], rtol=1e-12)
    assert nn.module_from_config(nn.module_to_config(b)).batch_first is False
    with pytest.raises(ValueError, match=r"\(T, N, F\) \(batch_first=False\)"):
        b(np.zeros((2, 3)))


def test_activation_errors_name_the_layer():
    with pytest.raises(ValueError, match="LSTM: unknown activation 'swish'"):
        nn.LSTM(3, 4, activation="swish")
    with pytest.raises(ValueError, match="GRU: unknown recurrent_activation 'elu'"):
        nn.GRU(3, 4, recurrent_activation="elu")
    with pytest.raises(ValueError, match="RNN: has no gates"):
        nn.RNN(3, 4, recurrent_activation="hard_sigmoid")
    with pytest.raises(ValueError, match="lstm: unknown activation 'x'"):
        F.lstm(np.zeros((1, 2, 3)), np.zeros((1, 4)), np.zeros((1, 4)), np.zeros((3, 16)), np.zeros((4, 16)),
               np.zeros(16), activation="x")


def test_relu_rnn_and_time_major_lstm_match_pytorch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 2, 3))  # (T, N, F)
    with torch.no_grad():
        trnn = torch.nn.RNN(3, 4, nonlinearity="relu").double()  # batch_first=False
        tlstm = torch.nn.LSTM(3, 4, num_layers=2).double()
        ty, _ = trnn(torch.tensor(x))
        tly, (thT, tcT) = tlstm(torch.tensor(x))
    r = nn.RNN(3, 4, return_sequences=True, batch_first=False, activation="relu").double()
    r.Wx_0.data[...] = trnn.weight_ih_l0.detach().numpy().T
    r.Wh_0.data[...] = trnn.weight_hh_l0.detach().numpy().T
    r.b_0.data[...] = (trnn.bias_ih_l0 + trnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(r(zd.tensor(x, dtype=np.float64)).data, ty.numpy(), rtol=1e-10, atol=1e-12)
    m = nn.LSTM(3, 4, num_layers=2, return_sequences=True, batch_first=False).double()
    for l in range(2):
        getattr(m, f"Wx_{l}").data[...] = getattr(tlstm, f"weight_ih_l{l}").detach().numpy().T
        getattr(m, f"Wh_{l}").data[...] = getattr(tlstm, f"weight_hh_l{l}").detach().numpy().T
        getattr(m, f"b_{l}").data[...] = (getattr(tlstm, f"bias_ih_l{l}") + getattr(tlstm, f"bias_hh_l{l}")).detach().numpy()
    np.testing.assert_allclose(m(zd.tensor(x, dtype=np.float64)).data, tly.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.state[0].data, thT.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.state[1].data, tcT.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernels", [True, False], ids=["kernels", "numpy"])
@pytest.mark.parametrize("zero_state", [True, False], ids=["zero-state", "given-state"])
def test_lstm_in_row_pieces_matches_one_piece(monkeypatch, kernels, zero_state):
    """The time loops over pieces of the batch rows at two threads (each row's recurrence is its
    own): the values and every gradient those of the whole batch at once (one thread)."""
    from tests._threads import one_then_two_threads
    from zerodl.functions import _recurrent_util, recurrent as recurrent_module

    if not kernels:
        monkeypatch.setattr(recurrent_module, "fast_module", lambda name: None)
    rng = np.random.default_rng(5)
    N, T, D, H = 13, 5, 3, 6
    x = rng.standard_normal((N, T, D))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5, rng.standard_normal(4 * H)
    h0 = np.zeros((N, H)) if zero_state else rng.standard_normal((N, H))
    c0 = np.zeros((N, H)) if zero_state else rng.standard_normal((N, H))
    R, RT = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))

    def run():
        ts = [zd.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, h0, c0, Wx, Wh, b)]
        hs, hT, cT = F.lstm(*ts)
        ((hs * zd.tensor(R)).sum() + (hT * zd.tensor(RT)).sum() + (cT * cT).sum()).backward()
        return [hs.data, hT.data, cT.data] + [np.asarray(t.grad) for t in ts]

    whole = run()
    monkeypatch.setattr(_recurrent_util, "LSTM_PIECE_ELEMENTS", 8)
    one, two = one_then_two_threads(run)  # one thread: the whole batch; two: 8 pieces
    monkeypatch.setattr(_recurrent_util, "get_num_threads", lambda: 2)
    assert len(_recurrent_util.row_pieces(np.empty((T, N, 4, H)))) == 8
    monkeypatch.setattr(_recurrent_util, "get_num_threads", lambda: 1)
    assert _recurrent_util.row_pieces(np.empty((T, N, 4, H))) == [slice(None)]
    for a, b_, c in zip(whole, one, two):
        np.testing.assert_array_equal(b_, a)
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12)
