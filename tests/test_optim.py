"""zerodl.optim: update rules written out by hand (float64), state_dict, schedulers, clipping."""
import math
import re
import tracemalloc

import numpy as np
import pytest

import zerodl as zd
import zerodl.optim as optim
from zerodl.optim import lr_scheduler

# f(p) = 0.5 * sum(A * p**2)  ->  grad = A * p
RNG = np.random.default_rng(0)
A = [RNG.uniform(0.5, 2.0, (3, 4)), RNG.uniform(0.5, 2.0, (5,))]
P0 = [RNG.normal(size=(3, 4)), RNG.normal(size=(5,))]
STEPS = 6


def make_params(dtype=np.float64):
    return [zd.tensor(p.copy(), dtype=dtype, requires_grad=True) for p in P0]


def set_grads(params):
    for p, a in zip(params, A):
        p.grad = (a * p.data).astype(p.data.dtype)


def run(opt, params, steps=STEPS):
    for _ in range(steps):
        set_grads(params)
        opt.step()


# ----- the update rules, written out by hand (one parameter array at a time) ---------------
def ref_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
    out = []
    for p, a in zip(P0, A):
        p = p.copy()
        buf = None
        for _ in range(STEPS):
            g = a * p
            if weight_decay:
                g = g + weight_decay * p
            if momentum:
                buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
                g = g + momentum * buf if nesterov else buf
            p = p - lr * g
        out.append(p)
    return out


def ref_momentum(lr, momentum=0.9):
    out = []
    for p, a in zip(P0, A):
        p, v = p.copy(), np.zeros_like(p)
        for _ in range(STEPS):
            v = momentum * v - lr * (a * p)
            p = p + v
        out.append(p)
    return out


def ref_adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    out = []
    for p, a in zip(P0, A):
        p, h = p.copy(), np.full_like(p, initial_accumulator_value)
        for t in range(1, STEPS + 1):
            g = a * p + weight_decay * p
            clr = lr / (1 + (t - 1) * lr_decay)
            h = h + g * g
            p = p - clr * g / (np.sqrt(h) + eps)
        out.append(p)
    return out


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    out = []
    for p, a in zip(P0, A):
        p = p.copy()
        sq, ga, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        for _ in range(STEPS):
            g = a * p + weight_decay * p
            sq = alpha * sq + (1 - alpha) * g * g
            if centered:
                ga = alpha * ga + (1 - alpha) * g
                avg = np.sqrt(sq - ga * ga) + eps
            else:
                avg = np.sqrt(sq) + eps
            if momentum:
                buf = momentum * buf + g / avg
                p = p - lr * buf
            else:
                p = p - lr * g / avg
        out.append(p)
    return out


def ref_adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    b1, b2 = betas
    out = []
    for p, a in zip(P0, A):
        p = p.copy()
        m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        for t in range(1, STEPS + 1):
            g = a * p
            if decoupled:
                p = p * (1 - lr * weight_decay)
            elif weight_decay:
                g = g + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vmax = np.maximum(vmax, v)
            vh = vmax if amsgrad else v
            m_hat = m / (1 - b1**t)
            v_hat = vh / (1 - b2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


CASES = [
    ("SGD", dict(lr=0.1), ref_sgd),
    ("SGD", dict(lr=0.1, momentum=0.9), ref_sgd),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1), ref_sgd),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1), ref_sgd),
    ("Momentum", dict(lr=0.05, momentum=0.9), ref_momentum),
    ("AdaGrad", dict(lr=0.1), ref_adagrad),
    ("AdaGrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2), ref_adagrad),
    ("RMSprop", dict(lr=0.01), ref_rmsprop),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.05), ref_rmsprop),
    ("Adam", dict(lr=0.01), ref_adam),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1), ref_adam),
    ("Adam", dict(lr=0.01, amsgrad=True), ref_adam),
    ("AdamW", dict(lr=0.01), lambda **kw: ref_adam(decoupled=True, weight_decay=1e-2, **kw)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True), lambda **kw: ref_adam(decoupled=True, **kw)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw, _ in CASES]


@pytest.mark.parametrize("name,kw,ref", CASES, ids=IDS)
def test_update_rule_matches_hand_written(name, kw, ref):
    params = make_params()
    run(getattr(optim, name)(params, **kw), params)
    for p, want in zip(params, ref(**kw)):
        np.testing.assert_allclose(p.data, want, rtol=1e-12, atol=1e-14)


def test_adamw_decay_is_decoupled():
    # With a zero gradient Adam's update is 0, so AdamW only shrinks p by (1 - lr * wd) per step
    # while Adam with weight_decay moves p by a full Adam step of the L2 gradient.
    p = zd.tensor(np.full(3, 2.0), dtype=np.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = np.zeros(3)
        opt.step()
    np.testing.assert_allclose(p.data, 2.0 * (1 - 0.1 * 0.5) ** 3, rtol=1e-14)
    q = zd.tensor(np.full(3, 2.0), dtype=np.float64, requires_grad=True)
    opt = optim.Adam([q], lr=0.1, weight_decay=0.5)
    q.grad = np.zeros(3)
    opt.step()
    np.testing.assert_allclose(q.data, 2.0 - 0.1, rtol=1e-6)  # first Adam step = lr * sign


@pytest.mark.parametrize("name", ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "AdamW"])
def test_frozen_and_gradless_params_untouched(name):
    params = make_params()
    frozen = zd.tensor(np.ones(4), dtype=np.float64)
    frozen.grad = np.ones(4)  # requires_grad False: must be skipped even with a grad
    nograd = zd.tensor(np.ones(4), dtype=np.float64, requires_grad=True)  # grad stays None
    opt = getattr(optim, name)(params + [frozen, nograd], lr=0.1)
    run(opt, params, 2)
    np.testing.assert_array_equal(frozen.data, np.ones(4))
    np.testing.assert_array_equal(nograd.data, np.ones(4))
    assert not np.allclose(params[0].data, P0[0])


@pytest.mark.parametrize("name", ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "AdamW"])
def test_float32_in_place_no_upcast(name):
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    kw = {"momentum": 0.9} if name == "SGD" else {}
    opt = getattr(optim, name)(params, lr=0.01, **kw)
    run(opt, params, 3)
    for p, arr in zip(params, arrays):
        assert p.data is arr and p.data.dtype == np.float32
    for st in opt.state.values():
        for v in st.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


@pytest.mark.parametrize("name,kw", [("Adam", {}), ("SGD", {"momentum": 0.9}), ("RMSprop", {})])
def test_step_allocates_no_arrays(name, kw):
    p = zd.tensor(np.ones((256, 256), np.float32), requires_grad=True)
    p.grad = np.full((256, 256), 0.5, np.float32)
    opt = getattr(optim, name)([p], lr=1e-3, **kw)
    opt.step()  # creates the state and the scratch buffer
    tracemalloc.start()
    try:
        for _ in range(3):
            opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.data.nbytes // 4, f"{name}.step() allocated {peak} bytes"


def test_zero_grad():
    params = make_params()
    set_grads(params)
    opt = optim.SGD(params, lr=0.1)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize(
    "name,kw",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Momentum", dict(lr=0.05)),
        ("AdaGrad", dict(lr=0.1)),
        ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
        ("Adam", dict(lr=0.01, amsgrad=True)),
        ("AdamW", dict(lr=0.01)),
    ],
)
def test_state_dict_round_trip_continues_identically(name, kw, tmp_path):
    params = make_params(np.float32)
    opt = getattr(optim, name)(params, **kw)
    run(opt, params, 3)
    sd = opt.state_dict()
    assert isinstance(sd["optimizer"], str)
    assert all(isinstance(v, np.ndarray) for k, v in sd.items() if k != "optimizer")
    zd.save(sd, tmp_path / "opt.safetensors")  # the flat form goes through zd.save as it is
    loaded = zd.load(tmp_path / "opt.safetensors")

    params2 = [zd.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(params2, lr=123.0)  # hyper-parameters come from the state
    opt2.load_state_dict(loaded)
    assert opt2.lr == opt.lr
    run(opt, params, 3)
    run(opt2, params2, 3)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_refuses_mismatches():
    params = make_params()
    opt = optim.Adam(params)
    run(opt, params, 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="Adam"):
        optim.SGD(make_params(), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        optim.Adam(make_params()[:1]).load_state_dict(sd)
    bad = dict(sd)
    bad["state.0.exp_avg"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match="shape"):
        optim.Adam(make_params()).load_state_dict(bad)


def test_lr_settable_and_param_groups():
    params = make_params()
    opt = optim.SGD([{"params": [params[0]], "lr": 0.5}, {"params": [params[1]]}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    set_grads(params)
    opt.step()
    np.testing.assert_allclose(params[0].data, P0[0] - 0.5 * A[0] * P0[0])
    np.testing.assert_allclose(params[1].data, P0[1] - 0.1 * A[1] * P0[1])
    opt.lr = 0.01
    assert opt.lr == 0.01 and all(g["lr"] == 0.01 for g in opt.param_groups)
    before = params[1].data.copy()
    set_grads(params)
    opt.step()
    np.testing.assert_allclose(params[1].data, before - 0.01 * A[1] * before)


def test_bad_arguments():
    with pytest.raises(TypeError):
        optim.SGD(make_params()[0], lr=0.1)  # a single tensor
    with pytest.raises(ValueError):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        optim.SGD(make_params(), lr=-1.0)
    with pytest.raises(ValueError):
        optim.SGD(make_params(), lr=0.1, nesterov=True)
    p = make_params()
    with pytest.raises(ValueError):
        optim.Adam([p[0], p[0]])



@pytest.mark.parametrize(
    "cls, kw, what",
    [
        (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
        (optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
        (optim.Momentum, dict(lr=0.1, momentum=-1.0), "momentum"),
        (optim.AdaGrad, dict(lr_decay=-1.0), "lr_decay"),
        (optim.AdaGrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (optim.AdaGrad, dict(eps=-1.0), "eps"),
        (optim.RMSprop, dict(momentum=-1.0), "momentum"),
        (optim.RMSprop, dict(eps=float("nan")), "eps"),
        (optim.RMSprop, dict(alpha=1.5), "alpha"),
        (optim.Adam, dict(eps=-1.0), "eps"),
        (optim.Adam, dict(betas=(0.9, 1.0)), "betas"),
        (optim.AdamW, dict(weight_decay="0.1"), "weight_decay"),
    ],
)
def test_bad_hyper_parameters_name_the_optimizer_and_the_value(cls, kw, what):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: invalid {what} {re.escape(repr(kw[what]))}"):
        cls(make_params(), **kw)


# ----- clipping ------------------------------------------------------------------------------
def test_clip_grad_norm_value_and_scaling():
    params = make_params()
    set_grads(params)
    grads = [p.grad.copy() for p in params]
    total = math.sqrt(sum(float((g**2).sum()) for g in grads))
    got = optim.clip_grad_norm_(params, max_norm=0.5)
    assert isinstance(got, float) and got == pytest.approx(total, rel=1e-12)
    coef = 0.5 / (total + 1e-6)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-12)
    # below the threshold: untouched, still returns the norm
    got = optim.clip_grad_norm_(params, max_norm=100.0)
    assert got == pytest.approx(0.5, rel=1e-5)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-12)
    # inf norm
    set_grads(params)
    assert optim.clip_grad_norm_(params, 1e9, norm_type=math.inf) == pytest.approx(
        max(np.abs(p.grad).max() for p in params)
    )


def test_clip_grad_norm_with_a_shared_gradient_array():
    a = zd.tensor(np.array([3.0, 0.0]), dtype=np.float64, requires_grad=True)
    b = zd.tensor(np.array([0.0, 4.0]), dtype=np.float64, requires_grad=True)
    (a + b).sum().backward()  # a.grad and b.grad may be the same array
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(2.0)
    np.testing.assert_allclose(a.grad, [0.5, 0.5], rtol=1e-5)
    np.testing.assert_allclose(b.grad, [0.5, 0.5], rtol=1e-5)


# ----- schedulers -------------------------------------------------------------------------------
def _lrs(sched, opt, n):
    out = [opt.lr]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(opt.lr)
    return out


def _opt(lr=0.1):
    p = zd.tensor(np.zeros(2), requires_grad=True)
    return optim.SGD([p], lr=lr)


def test_step_lr():
    opt = _opt()
    got = _lrs(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), opt, 10)
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (t // 3) for t in range(11)], rtol=1e-12)


def test_exponential_lr():
    opt = _opt()
    got = _lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), opt, 10)
    np.testing.assert_allclose(got, [0.1 * 0.9**t for t in range(11)], rtol=1e-12)


def test_cosine_annealing_lr():
    opt = _opt()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.01)
    got = _lrs(sched, opt, 20)
    want = [0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / 8)) / 2 for t in range(21)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert sched.get_last_lr() == [opt.lr]


def test_reduce_lr_on_plateau():
    opt = _opt(1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, min_lr=0.2)
    losses = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    lrs = []
    for loss in losses:
        sched.step(loss)
        lrs.append(opt.lr)
    #  bad epochs: 0 0 1 2 3->cut 0(3<4) 1 2 3->cut 1 2 3->cut(min) ...
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2]
    sd = sched.state_dict()
    opt2 = _opt(0.2)
    s2 = lr_scheduler.ReduceLROnPlateau(opt2, factor=0.5, patience=2, min_lr=0.2)
    s2.load_state_dict(sd)
    assert s2.best == 3 and s2.num_bad_epochs == sched.num_bad_epochs
    mx = lr_scheduler.ReduceLROnPlateau(_opt(1.0), mode="max", patience=0)
    mx.step(1.0)
    mx.step(0.5)
    assert mx.get_last_lr() == [pytest.approx(0.1)]


def test_scheduler_state_dict_round_trip():
    opt = _opt()
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    _lrs(sched, opt, 3)
    sd = sched.state_dict()
    import json

    json.dumps(sd)  # JSON-able (goes into checkpoint metadata)
    opt2 = _opt()
    opt2.lr = opt.lr
    s2 = lr_scheduler.StepLR(opt2, step_size=7, gamma=0.9)
    s2.load_state_dict(sd)
    assert _lrs(s2, opt2, 5) == _lrs(sched, opt, 5)


# ----- against PyTorch itself, when it is installed ----------------------------------------------
@pytest.mark.parametrize("name,kw,tname", [(n, kw, {"AdaGrad": "Adagrad"}.get(n, n)) for n, kw, _ in CASES if n != "Momentum"], ids=[i for i, c in zip(IDS, CASES) if c[0] != "Momentum"])
def test_matches_torch(name, kw, tname):
    torch = pytest.importorskip("torch")
    zp = make_params()
    tp = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    zo, to = getattr(optim, name)(zp, **kw), getattr(torch.optim, tname)(tp, **kw)
    for _ in range(STEPS):
        set_grads(zp)
        for t, a in zip(tp, A):
            t.grad = torch.tensor(a) * t.detach()
        zo.step()
        to.step()
    for z, t in zip(zp, tp):
        np.testing.assert_allclose(z.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    for make in (
        lambda o, m: m.StepLR(o, step_size=3, gamma=0.5),
        lambda o, m: m.ExponentialLR(o, gamma=0.9),
        lambda o, m: m.CosineAnnealingLR(o, T_max=5, eta_min=0.001),
    ):
        opt = _opt()
        t_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
        ours = _lrs(make(opt, lr_scheduler), opt, 14)
        ts = make(t_opt, torch.optim.lr_scheduler)
        theirs = [t_opt.param_groups[0]["lr"]]
        for _ in range(14):
            t_opt.step()
            ts.step()
            theirs.append(t_opt.param_groups[0]["lr"])
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_reduce_lr_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = [5, 4, 4.1, 4, 3.9996, 4, 4, 3, 3, 3.5, 3, 3, 3, 3, 2.9999, 3, 3, 3, 3, 3]
    for kw in (
        dict(mode="min", factor=0.5, patience=1, cooldown=2, min_lr=0.01),
        dict(mode="max", factor=0.2, patience=0, threshold=0.1, threshold_mode="abs"),
    ):
        opt = _opt(1.0)
        t_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=1.0)
        ours = lr_scheduler.ReduceLROnPlateau(opt, **kw)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kw)
        for m in metrics:
            ours.step(m)
            theirs.step(m)
            assert opt.lr == t_opt.param_groups[0]["lr"]


def test_named_parameters_accepted():
    params = make_params()
    opt = optim.SGD([("a", params[0]), ("b", params[1])], lr=0.1)
    assert all(x is y for x, y in zip(opt.param_groups[0]["params"], params))
    opt = optim.SGD({"a": params[0], "b": params[1]}, lr=0.1)
    assert all(x is y for x, y in zip(opt.param_groups[0]["params"], params))
