"""The training loop and reports shared by the seq2seq examples (not an example itself).

``train(model, task, ...)`` is the book's ``Trainer.fit`` for seq2seq: every epoch shuffles
the training pairs, takes mini-batches, minimises the teacher-forcing cross entropy with Adam
(gradients clipped to a total norm ``max_grad``), then measures the exact-match accuracy of
greedy decoding on the held-out split and prints one line.
"""
from __future__ import annotations

import math
import time

import numpy as np

import zerodl.optim as optim
from zerodl.nn.seq2seq import exact_match

import _common as C


def inputs(x, reverse):
    """Questions as the model sees them: reversed along time with ``reverse`` (the book's trick)."""
    return np.ascontiguousarray(x[:, ::-1]) if reverse else x


def train(model, task, epochs, batch_size=128, lr=1e-3, max_grad=5.0, reverse=False, seed=0,
          label="", loss_fn=None, target=None, before_step=None):
    """Train ``model`` on ``task`` (a ``zerodl.data.seq_tasks.SeqTask``); returns the history dict
    ``{"loss": [...], "accuracy": [...], "seconds": [...]}`` (per epoch; accuracy on the test split).
    ``loss_fn(model, x, t)`` defaults to ``model.loss(x, t)``. With ``target`` set, training
    stops after the first epoch whose accuracy reaches it. ``before_step(optimizer)`` runs
    before every update (a learning-rate schedule)."""
    rng = np.random.default_rng(seed)
    x_train, t_train = inputs(task.x_train, reverse), task.t_train
    x_test, t_test = inputs(task.x_test, reverse), task.t_test
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn or (lambda m, x, t: m.loss(x, t))
    history = {"loss": [], "accuracy": [], "seconds": []}
    n_batches = len(x_train) // batch_size
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(n_batches):
            idx = order[i * batch_size:(i + 1) * batch_size]
            loss = loss_fn(model, x_train[idx], t_train[idx])
            opt.zero_grad()
            loss.backward()
            if max_grad:
                optim.clip_grad_norm_(model.parameters(), max_grad)
            if before_step is not None:
                before_step(opt)
            opt.step()
            total += loss.item()
        acc, _ = exact_match(model, x_test, t_test)
        history["loss"].append(total / n_batches)
        history["accuracy"].append(acc)
        history["seconds"].append(time.perf_counter() - t0)
        print(f"  {label} epoch {epoch:2d}: loss {total / n_batches:.4f}, test exact match {acc * 100:6.2f}% "
              f"({history['seconds'][-1]:.1f} s)", flush=True)
        if target is not None and acc >= target:
            break
    return history


def cosine_schedule(lr, total_steps, warmup=0):
    """A ``before_step`` for :func:`train`: linear warm-up over ``warmup`` steps, then the rate
    follows half a cosine from ``lr`` down to 0 at ``total_steps``."""
    step = [0]

    def before_step(opt):
        step[0] += 1
        s = step[0]
        if s <= warmup:
            opt.lr = lr * s / warmup
        else:
            opt.lr = 0.5 * lr * (1 + math.cos(math.pi * min(1.0, (s - warmup) / max(1, total_steps - warmup))))

    return before_step


def show_examples(task, x, pred, n=5, reverse=False):
    """Print a few test questions with the answer and the model's (``pred`` from ``exact_match``)."""
    v = task.vocab
    for i in range(n):
        q = v.decode(task.x_test[i])
        right, got = v.decode(task.t_test[i]), v.decode(pred[i])
        print(f"    Q {q!r:32} T {right:>10}  {'OK ' if right == got else 'NG '} {got}")


def accuracy_figure(args, histories, filename, title, book=None, book_label=None):
    """Test exact match per epoch for each model (``histories``: name -> history)."""
    fig, ax = C.pyplot().subplots(figsize=(7, 4.5))
    for (name, h), marker in zip(histories.items(), "osD^vx"):
        ax.plot(np.arange(1, len(h["accuracy"]) + 1), h["accuracy"], marker=marker, label=name)
    if book is not None:
        ax.axhline(book, color="gray", ls=":", lw=1, label=book_label)
    C.decorate(ax, "epoch", "test exact match", title=title, ylim=(-0.02, 1.02), legend={"loc": "lower right"})
    return C.save_figure(fig, args, filename)


def attention_figure(args, weights, task, x, t, filename, title):
    """Heat maps of attention weights (n, Ty-1, Tx) over questions ``x`` (n, Tx) in their own
    order: output characters (of ``t[:, 1:]``) down, question characters across."""
    n = len(x)
    fig, axes = C.pyplot().subplots(1, n, figsize=(4.2 * n, 3.6))
    v = task.vocab
    for ax, i in zip(np.atleast_1d(axes), range(n)):
        q = v.decode(x[i], strip=False)
        width = len(q.rstrip())
        ax.imshow(weights[i][:, :width], cmap="gray", aspect="auto")
        ax.set_xticks(range(width))
        ax.set_xticklabels(list(q[:width]), fontsize=7)
        ax.set_yticks(range(t.shape[1] - 1))
        ax.set_yticklabels(list(v.decode(t[i, 1:], strip=False)), fontsize=8)
        ax.set_title(repr(q.rstrip()), fontsize=9)
    fig.suptitle(title, fontsize=10)
    return C.save_figure(fig, args, filename)
