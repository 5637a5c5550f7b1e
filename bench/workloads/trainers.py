"""The training loop of each framework, shared by the classifier workloads (W1, W2, W3).

Each ``*_trainer`` returns ``run(n)``: n Adam steps of softmax cross entropy on consecutive
batches, returning the last loss. The step is each framework's natural, idiomatic one.
"""
from __future__ import annotations

from bench.workloads.base import batch_slices


def zerodl_train_step(model, optimizer, x, t):
    """The natural zerodl training step (one batch)."""
    import zerodl as zd
    import zerodl.functions as F

    loss = F.softmax_cross_entropy(model(zd.Tensor(x)), t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def torch_train_step(model, optimizer, x, t):
    """The natural PyTorch training step (one batch)."""
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def zerodl_trainer(make_model, x, t, seed, batch, lr):
    import zerodl as zd
    import zerodl.optim as optim

    zd.manual_seed(seed)
    model = make_model()
    model.train()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    return _loop(lambda s: zerodl_train_step(model, optimizer, x[s], t[s]).item(), len(x), batch)


def torch_trainer(make_model, x, t, seed, batch, lr):
    import torch

    torch.manual_seed(seed)
    x, t = torch.from_numpy(x), torch.from_numpy(t)
    model = make_model()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return _loop(lambda s: torch_train_step(model, optimizer, x[s], t[s]).item(), len(x), batch)


def numpy_trainer(net, x, t, batch, lr):
    """The hand-written floor: ``net.loss_and_grads`` then the floor's in-place Adam."""
    from bench.peers.numpy_floor import Adam

    optimizer = Adam(net.params(), lr=lr)

    def step(s):
        loss = net.loss_and_grads(x[s], t[s])
        optimizer.step(net.grads())
        return loss

    return _loop(step, len(x), batch)


def _loop(step, n_samples, batch):
    slices = batch_slices(n_samples, batch)

    def run(n):
        loss = None
        for _ in range(n):
            loss = step(next(slices))
        return loss

    return run
