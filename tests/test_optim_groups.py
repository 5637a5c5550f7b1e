"""Parameter groups in every optimizer (PyTorch's form), schedulers on every group, state dicts."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.optim as optim
from zerodl.optim import lr_scheduler

RNG = np.random.default_rng(5)
P0 = [RNG.normal(size=(3, 2)), RNG.normal(size=(4,)), RNG.normal(size=(2, 2))]
A = [RNG.uniform(0.5, 2.0, p.shape) for p in P0]

# (optimizer, defaults, group-1 overrides): every hyper-parameter a group may change
CASES = [
    ("SGD", dict(lr=0.1), dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Momentum", dict(lr=0.05), dict(lr=0.01, momentum=0.5)),
    ("AdaGrad", dict(lr=0.1), dict(lr=0.3, lr_decay=0.01, eps=1e-6)),
    ("RMSprop", dict(lr=0.01), dict(lr=0.001, alpha=0.9, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01), dict(lr=0.002, betas=(0.5, 0.9), weight_decay=0.3)),
]
IDS = [c[0] for c in CASES]


def _params():
    return [zd.tensor(p.copy(), dtype=np.float64, requires_grad=True) for p in P0]


def _run(opt, params, steps=5):
    for _ in range(steps):
        for p, a in zip(params, A):
            p.grad = a * p.data
        opt.step()


@pytest.mark.parametrize("name, defaults, override", CASES, ids=IDS)
def test_groups_behave_as_separate_optimizers(name, defaults, override):
    cls = getattr(optim, name)
    ps = _params()
    opt = cls([{"params": ps[:2]}, {"params": ps[2:], **override}], **defaults)
    assert opt.param_groups[1]["lr"] == override["lr"] and opt.param_groups[0]["lr"] == defaults["lr"]
    _run(opt, ps)
    qs = _params()
    a, b = cls(qs[:2], **defaults), cls(qs[2:], **{**defaults, **override})
    for _ in range(5):
        for p, g in zip(qs, A):
            p.grad = g * p.data
        a.step()
        b.step()
    for p, q in zip(ps, qs):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-14)


@pytest.mark.parametrize("name, defaults, override", CASES, ids=IDS)
def test_group_state_dict_round_trip(name, defaults, override):
    cls = getattr(optim, name)
    ps = _params()
    opt = cls([{"params": ps[:2]}, {"params": ps[2:], **override}], **defaults)
    _run(opt, ps, 2)
    sd = opt.state_dict()
    qs = [zd.tensor(p.data.copy(), dtype=np.float64, requires_grad=True) for p in ps]
    opt2 = cls([{"params": qs[:2]}, {"params": qs[2:]}], **defaults)  # group hyper-parameters come from sd
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    _run(opt, ps, 3)
    _run(opt2, qs, 3)
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.data, q.data)


def test_schedulers_act_on_every_group_and_lr_stays_settable():
    ps = _params()
    opt = optim.SGD([{"params": ps[:1], "lr": 1.0}, {"params": ps[1:], "lr": 0.1}], lr=0.5)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.025]
    assert sched.get_last_lr() == [0.25, 0.025]
    opt.param_groups[1]["lr"] = 0.3  # PyTorch's way to change one group
    _run(opt, ps, 1)
    assert opt.param_groups[1]["lr"] == 0.3
    opt.lr = 0.01
    assert all(g["lr"] == 0.01 for g in opt.param_groups)


def test_param_groups_settable_keeps_state_of_kept_params():
    ps = _params()
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}])
    _run(opt, ps, 2)
    st = opt.state[ps[0]]
    opt.param_groups = opt.param_groups[:1]
    assert len(opt.param_groups) == 1 and opt.state[ps[0]] is st and ps[2] not in opt.state
    opt.add_param_group({"params": [ps[2]], "lr": 0.5})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # defaults fill the new group
    with pytest.raises(ValueError, match="appears more than once"):
        opt.param_groups = [{"params": ps[:1]}, {"params": ps[:1]}]
    assert len(opt.param_groups) == 2  # a refused assignment changes nothing
    with pytest.raises(ValueError, match="invalid learning rate"):
        optim.SGD([{"params": ps, "lr": -1}], lr=0.1)


def test_zero_grad_set_to_none_false_zeroes():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1)
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)


@pytest.mark.parametrize("name, defaults, override", [c for c in CASES if c[0] != "Momentum"],
                         ids=[i for i in IDS if i != "Momentum"])
def test_groups_match_torch(name, defaults, override):
    torch = pytest.importorskip("torch")
    tname = {"AdaGrad": "Adagrad"}.get(name, name)
    ps = _params()
    ts = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    zo = getattr(optim, name)([{"params": ps[:2]}, {"params": ps[2:], **override}], **defaults)
    to = getattr(torch.optim, tname)([{"params": ts[:2]}, {"params": ts[2:], **override}], **defaults)
    for _ in range(5):
        for p, t, a in zip(ps, ts, A):
            p.grad = a * p.data
            t.grad = torch.tensor(a) * t.detach()
        zo.step()
        to.step()
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
