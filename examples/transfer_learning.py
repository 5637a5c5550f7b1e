"""Transfer learning on MNIST: features learnt on digits 0-4 reused for digits 5-9.

1. Pretrain a CNN on every training image of digits 0-4 (about 30,600)::

       body: Conv2d(1, 16, 3, p1) -> ReLU -> MaxPool 2 -> Conv2d(16, 32, 3, p1) -> ReLU -> MaxPool 2
             -> Flatten                                                       (32 x 7 x 7 = 1568)
       head: Linear(1568, 128) -> ReLU -> Linear(128, 5)

2. For digits 5-9, only 100 labelled training images per class (500 in all; also 10 per class,
   ``--per-class``). Three ways to train the same network on them, each with a new head:

   - frozen:  a copy of the pretrained body (``Module.copy()``), frozen (``body.requires_grad_(False)``: no gradient computed
     for it, the optimizer leaves it alone); only the head learns (Adam 1e-3);
   - scratch: the whole network from a fresh initialisation (Adam 1e-3);
   - fine-tuned: the pretrained body and the new head both learn, the body ten times slower
     through parameter groups: ``Adam([{"params": body, "lr": 1e-4}, {"params": head}], lr=1e-3)``.

Each takes the same 300 Adam steps (mini-batches of 50, reshuffled every pass) and is tested
on the full 5-9 MNIST test set (4,861 images). Everything is repeated for five seeds (the
pretraining, the choice of the labelled images and the initialisations change); reported are
the mean test accuracy, the standard deviation and the range. Figure ``accuracies.png``: accuracy of each
method per seed and test accuracy during training.

    python examples/transfer_learning.py [--data-dir DIR] [--quick] [--out DIR] [--seeds N]
"""
import numpy as np

import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
import zerodl as zd

import _common as C

METHODS = ("frozen", "scratch", "fine-tuned")


def body():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 14 x 14
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 7 x 7
        nn.Flatten(),
    )


def head(classes=5):
    return nn.Sequential(nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes))


def train(model, opt, x, t, steps, batch_size, rng, x_test=None, t_test=None, every=None):
    """``steps`` mini-batch steps (softmax cross entropy) over reshuffled passes of (x, t).
    With test data: returns the test accuracy after every ``every`` steps and after the last."""
    curve, order, pos = [], rng.permutation(len(x)), 0
    model.train()
    for step in range(1, steps + 1):
        if pos + batch_size > len(order):
            order, pos = rng.permutation(len(x)), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        loss = F.softmax_cross_entropy(model(zd.tensor(x[idx])), t[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if x_test is not None and (step % every == 0 or step == steps):
            curve.append(C.accuracy(model, x_test, t_test, batch_size=1000))
    return curve


def few_labels(x, t, per_class, rng):
    idx = np.concatenate([rng.choice(np.flatnonzero(t == c), per_class, replace=False) for c in np.unique(t)])
    return x[idx], t[idx]


def fine_tune(method, pretrained_body, seed, x_few, t_few, x_test, t_test, args):
    """Train a new head (and the body, unless frozen) on the few labels; the test curve."""
    zd.manual_seed(seed * 100 + METHODS.index(method))
    b = body() if method == "scratch" else pretrained_body.copy()
    h = head()
    model = nn.Sequential(b, h)
    if method == "frozen":
        b.requires_grad_(False)
        opt = optim.Adam(model.parameters(), lr=1e-3)
    elif method == "scratch":
        opt = optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = optim.Adam([{"params": b.parameters(), "lr": 1e-4}, {"params": h.parameters()}], lr=1e-3)
    return train(model, opt, x_few, t_few, args.steps, min(50, len(x_few)), np.random.default_rng(seed),
                 x_test, t_test, every=args.eval_every)


def run_seed(seed, data, args):
    """Pretrain on 0-4, then every method for every label budget: {(per_class, method): curve}."""
    (x_a, t_a), (x_b, t_b), (x_b_test, t_b_test), (x_a_test, t_a_test) = data
    rng = C.seed_everything(seed)
    pretrained = nn.Sequential(body(), head())
    opt = optim.Adam(pretrained.parameters(), lr=1e-3)
    train(pretrained, opt, x_a, t_a, args.pretrain_epochs * (len(x_a) // 100), 100, rng)
    acc_a = C.accuracy(pretrained, x_a_test, t_a_test, batch_size=1000)
    curves = {}
    for k in args.per_class:
        x_few, t_few = few_labels(x_b, t_b, k, rng)
        for method in METHODS:
            curves[k, method] = fine_tune(method, pretrained[0], seed, x_few, t_few, x_b_test, t_b_test, args)
        print(f"seed {seed}: pretrained on 0-4: test acc {acc_a:.4f}; on 5-9 with {len(x_few)} labels: "
              + ", ".join(f"{m} {curves[k, m][-1]:.4f}" for m in METHODS), flush=True)
    return curves


def main(argv=None):
    def extra(p):
        p.add_argument("--per-class", default="100,10",
                       help="labelled images per class of 5-9, comma-separated budgets (default 100,10)")

    args = C.parse_args(__doc__, __file__, argv, extra, seeds="seeds (default 5; --quick 2)",
                        steps="Adam steps (batches of 50) on the few labels (default 300; --quick 4)",
                        pretrain_epochs="epochs of pretraining on 0-4 (default 2; --quick 1)")
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(
        args, n_train=800 if args.quick else None, n_test=300 if args.quick else None)
    args.per_class = [min(int(k), 20) if args.quick else int(k) for k in args.per_class.split(",")]
    args.seeds = args.seeds or (2 if args.quick else 5)
    args.steps = args.steps or (4 if args.quick else 300)
    args.pretrain_epochs = args.pretrain_epochs or (1 if args.quick else 2)
    args.eval_every = max(args.steps // 6, 1)
    a, b = t_train < 5, t_train >= 5
    a_test, b_test = t_test < 5, t_test >= 5
    data = ((x_train[a], t_train[a]), (x_train[b], t_train[b] - 5), (x_test[b_test], t_test[b_test] - 5),
            (x_test[a_test], t_test[a_test]))
    print(f"digits 0-4: {a.sum()} training images; digits 5-9: {args.per_class} labelled per class, "
          f"tested on {b_test.sum()} images; {args.steps} steps, {args.seeds} seeds")

    with C.Timer("all seeds"):
        runs = [run_seed(seed, data, args) for seed in range(args.seeds)]
    acc = {key: np.array([r[key][-1] for r in runs]) for key in runs[0]}
    for k in args.per_class:
        for m in METHODS:
            a_km, name = acc[k, m], f"{m.replace('-', '_')}_{k}_per_class"
            C.result(f"{name}_test_accuracy_mean", float(a_km.mean()))
            C.result(f"{name}_test_accuracy_std", float(a_km.std(ddof=1)) if len(a_km) > 1 else 0.0)
            C.result(f"{name}_test_accuracy_range", f"{a_km.min():.4f} .. {a_km.max():.4f}")
        C.result(f"frozen_minus_scratch_points_{k}_per_class",
                 100 * (acc[k, "frozen"].mean() - acc[k, "scratch"].mean()), "{:.2f}")
    figure(args, runs, acc)


def figure(args, runs, acc):
    plt = C.pyplot()
    fig, axes = plt.subplots(len(args.per_class), 2, figsize=(12, 4.2 * len(args.per_class)), squeeze=False)
    seeds = np.arange(args.seeds)
    steps = [s for s in range(1, args.steps + 1) if s % args.eval_every == 0 or s == args.steps]
    for (ax0, ax1), k in zip(axes, args.per_class):
        for m, marker in zip(METHODS, "osD"):
            a_km = acc[k, m]
            spread = a_km.std(ddof=1) if len(a_km) > 1 else 0.0
            ax0.plot(seeds, a_km, marker=marker, ls="", ms=8, label=f"{m}: {a_km.mean():.4f} +- {spread:.4f}")
            ax1.plot(steps, np.mean([r[k, m] for r in runs], axis=0), marker=marker, label=m)
        ax0.set_xticks(seeds)
        C.decorate(ax0, "seed", "test accuracy on digits 5-9",
                   title=f"{k} labels per class ({5 * k} in all): final test accuracy per seed")
        C.decorate(ax1, "Adam step", "test accuracy (mean over seeds)", title="during training",
                   legend={"loc": "lower right"})
    C.save_figure(fig, args, "accuracies.png")


if __name__ == "__main__":
    main()
