"""Programs run under ``mpiexec -n 2`` by tests/test_distributed.py (one scenario per run).

    mpiexec -n 2 python tests/_distributed_scenarios.py SCENARIO OUT.json

Rank 0 writes what the test checks as JSON into OUT.json.
"""
import json
import os
import signal
import sys
import time

import numpy as np

import zerodl as zd
import zerodl.distributed as dist
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import TensorDataset


def _data(n, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    t = rng.integers(0, classes, n).astype(np.int64)
    return x, t


def _model(seed):
    zd.manual_seed(seed)
    with zd.default_dtype(np.float64):
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def _make_opt(name, params):
    if name == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    if name == "adam":  # two parameter groups: the wrapper must keep them
        params = list(params)
        return optim.Adam([{"params": params[:2], "lr": 0.01}, {"params": params[2:], "lr": 0.02}])
    raise ValueError(name)


def _train(model, opt, loader, epochs, weighted):
    for _ in range(epochs):
        for xb, tb in loader:
            loss = F.softmax_cross_entropy(model(zd.tensor(xb, dtype=np.float64)), tb)
            opt.zero_grad()
            loss.backward()
            if weighted:
                opt.step(weight=len(xb))
            else:
                opt.step()
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def equivalence(out):
    """2 ranks x batch B against 1 process x batch 2B on the same permutations."""
    r, world = dist.init()
    results = {}
    for name in ("sgd", "adam"):
        for n in (48, 45):  # 45: a short last global batch split unevenly (weighted average)
            x, t = _data(n)
            ds = TensorDataset(x, t)
            # reference: one process, batch 2B, plain optimizer (every rank computes it)
            ref_model = _model(100)
            ref = _train(ref_model, _make_opt(name, ref_model.parameters()),
                         dist.DistributedLoader(ds, batch_size=8, seed=5, num_replicas=1, rank=0), 3, False)
            model = _model(100 + r)  # different starting weights on each rank ...
            dist.broadcast_parameters(model)  # ... until rank 0's are broadcast
            opt = dist.DistributedOptimizer(_make_opt(name, model.parameters()))
            got = _train(model, opt, dist.DistributedLoader(ds, batch_size=8 // world, seed=5), 3, True)
            every = dist.allgather_object(got.tolist())
            results[f"{name}-{n}"] = {
                "max_diff": float(np.abs(got - ref).max()),
                "ranks_agree": all(e == every[0] for e in every),
                "moved": float(np.abs(ref - np.concatenate([p.data.ravel() for p in _model(100).parameters()])).max()),
                "groups": len(opt.param_groups),
            }
    if r == 0:
        _write(out, {"world": world, "results": results})


def sharding(out):
    """Each epoch covers every sample once; every rank runs the same number of steps."""
    r, world = dist.init()
    cases = []
    for n, b, shuffle in ((20, 3, True), (21, 4, True), (9, 4, True), (17, 1, False), (3, 5, True)):
        sampler = dist.DistributedSampler(range(n), shuffle=shuffle, seed=3, batch_size=b)
        per_epoch = []
        for epoch in range(3):
            sampler.set_epoch(epoch)
            mine = [idx.tolist() for idx in sampler.batches()]
            per_epoch.append(dist.allgather_object(mine))
        loader = dist.DistributedLoader(TensorDataset(np.arange(n) * 10, np.arange(n)), batch_size=b, seed=3,
                                        shuffle=shuffle)
        seen = [[int(v) for xb, _ in loader for v in xb] for _ in range(2)]
        cases.append({"n": n, "b": b, "shuffle": shuffle, "epochs": per_epoch,
                      "loader": dist.allgather_object(seen), "len": dist.allgather_object(len(loader))})
    metrics = dist.average_metrics({"loss": float(r + 1), "acc": 0.5}, weight=r + 1)
    # BatchNorm: running statistics from each rank's own batch, then averaged over the ranks
    bn = nn.BatchNorm1d(2)
    bn.train()
    bn(zd.tensor(np.array([[0.0, 1.0], [2.0, 3.0]]) + 10 * r))
    local = bn.running_mean.tolist()
    dist.average_buffers(bn)
    every = dist.allgather_object(bn.running_mean.tolist())
    if r == 0:
        _write(out, {"world": world, "cases": cases, "metrics": metrics, "bn_local": local,
                     "bn_mean": bn.running_mean.tolist(), "bn_every": every})


def _steps_then(action):
    r, world = dist.init()
    x, t = _data(64)
    model = _model(0)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1))
    loader = dist.DistributedLoader(TensorDataset(x, t), batch_size=4, seed=0)
    for epoch in range(10_000):  # far more steps than the test waits for
        for step, (xb, tb) in enumerate(loader):
            if r == 1 and epoch == 0 and step == 3:
                action()
            loss = F.softmax_cross_entropy(model(zd.tensor(xb, dtype=np.float64)), tb)
            opt.zero_grad()
            loss.backward()
            opt.step()


def kill(out):
    sys.stdout.flush()
    _steps_then(lambda: os.kill(os.getpid(), signal.SIGKILL))


def raise_(out):
    def fail():
        raise RuntimeError("rank one fails on purpose")

    _steps_then(fail)


def hang_check(out):
    """Sanity: a world where nobody fails ends by itself."""
    dist.init()
    dist.barrier()
    time.sleep(0.1)
    if dist.rank() == 0:
        _write(out, {"ok": True})


def _compiled_model(seed):
    model = _model(seed)
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loss="cross_entropy",
                  metrics=["accuracy"])
    return model


def _weights(model):
    return np.concatenate([p.data.ravel() for p in model.parameters()]).tolist()


def fit(out):
    """model.fit(distributed=True): rank r's batch B; run as a world of one with 2B for the reference."""
    from zerodl.callbacks import CSVLogger

    r, world = dist.init()
    x, t = _data(96)
    model = _compiled_model(100 + r)  # fit broadcasts rank 0's weights
    folder = os.path.dirname(os.path.abspath(out))
    zd.manual_seed(7)
    hist = model.fit(x, t, epochs=3, batch_size=16 // world, validation_split=0.25, verbose=2, distributed=True,
                     callbacks=[CSVLogger(os.path.join(folder, f"log-{world}-rank{r}.csv"))])
    every = dist.allgather_object(_weights(model))
    if r == 0:
        _write(out, {"world": world, "weights": every[0], "ranks_agree": all(e == every[0] for e in every),
                     "history": hist.history})


def resume(out):
    """BackupAndRestore in a distributed run: CRASH_AT=e makes every rank fail after epoch e's backup."""
    from zerodl.callbacks import BackupAndRestore, Callback

    class Crash(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == int(os.environ.get("CRASH_AT", "-1")):
                raise RuntimeError(f"crash after epoch {epoch}")

    r, world = dist.init()
    x, t = _data(96)
    model = _compiled_model(100)
    zd.manual_seed(7)
    backup = os.path.join(os.path.dirname(os.path.abspath(out)), os.environ.get("BACKUP", "backup"))
    hist = model.fit(x, t, epochs=4, batch_size=8, verbose=0, distributed=True,
                     callbacks=[Crash(), BackupAndRestore(backup)])
    if r == 0:
        _write(out, {"weights": _weights(model), "loss": hist.history["loss"], "epochs": hist.epoch})


def diverge(out):
    """A NaN/Inf loss on rank 1 only: every rank stops at the same step, none updates."""
    from zerodl.train import TrainingDiverged

    r, world = dist.init()
    x, _ = _data(32)
    t = np.zeros((32, 3))
    t[9] = 1e200  # rank 1 has samples 8..15 (no shuffle): its squared error overflows to inf
    model = _model(100)
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.1), loss="mse")
    before = _weights(model)
    caught = None
    try:
        model.fit(x, t, epochs=2, batch_size=8, shuffle=False, verbose=0, distributed=True)
    except TrainingDiverged as e:
        caught = {"epoch": e.epoch, "batch": e.batch, "finite": e.weights_finite}
    every = dist.allgather_object({"caught": caught, "unchanged": _weights(model) == before})
    if r == 0:
        _write(out, {"ranks": every})


def _write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


SCENARIOS = {"equivalence": equivalence, "sharding": sharding, "kill": kill, "raise": raise_,
             "hang_check": hang_check, "fit": fit, "resume": resume,
             "diverge": diverge}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](sys.argv[2])
