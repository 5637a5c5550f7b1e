"""Transfer learning on MNIST: features learnt on digits 0-4 reused for digits 5-9.

1. Pretrain a CNN on every training image of digits 0-4 (about 30,600)::

       body: Conv2d(1, 16, 3, p1) -> ReLU -> MaxPool 2 -> Conv2d(16, 32, 3, p1) -> ReLU -> MaxPool 2
             -> Flatten                                                       (32 x 7 x 7 = 1568)
       head: Linear(1568, 128) -> ReLU -> Linear(128, 5)

2. For digits 5-9, only 100 labelled training images per class (500 in all). Three ways to
   train the same network on them, each with a new head:

   - frozen:  the pretrained body, frozen (``body.requires_grad_(False)``: no gradient computed
     for it, the optimizer leaves it alone); only the head learns (Adam 1e-3);
   - scratch: the whole network from a fresh initialisation (Adam 1e-3);
   - fine-tuned: the pretrained body and the new head both learn, the body ten times slower
     through parameter groups: ``Adam([{"params": body, "lr": 1e-4}, {"params": head}], lr=1e-3)``.

Each is trained for the same number of epochs (mini-batches of 50) and tested on the full
5-9 MNIST test set (4,861 images). Everything is repeated for five seeds (the pretraining,
the choice of the 500 images and the initialisations change); reported are the mean test
accuracy, the standard deviation and the range. Figure ``accuracies.png``: accuracy of each
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


def train(model, opt, x, t, epochs, batch_size, rng, x_test=None, t_test=None, every=1):
    """Plain mini-batch loop (softmax cross entropy). With test data: returns the test accuracy
    after every ``every``-th epoch and after the last."""
    curve = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss = F.softmax_cross_entropy(model(zd.tensor(x[idx])), t[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if x_test is not None and (epoch % every == 0 or epoch == epochs):
            curve.append(C.accuracy(model, x_test, t_test, batch_size=1000))
    return curve


def few_labels(x, t, per_class, rng):
    idx = np.concatenate([rng.choice(np.flatnonzero(t == c), per_class, replace=False) for c in np.unique(t)])
    return x[idx], t[idx]


def run_seed(seed, data, args):
    (x_a, t_a), (x_b, t_b), (x_b_test, t_b_test), (x_a_test, t_a_test) = data
    rng = C.seed_everything(seed)
    pretrained = nn.Sequential(body(), head())
    opt = optim.Adam(pretrained.parameters(), lr=1e-3)
    train(pretrained, opt, x_a, t_a, args.pretrain_epochs, 100, rng)
    acc_a = C.accuracy(pretrained, x_a_test, t_a_test, batch_size=1000)
    x_few, t_few = few_labels(x_b, t_b, args.per_class, rng)

    def pretrained_body():
        b = body()
        b.load_state_dict(pretrained[0].state_dict())
        return b

    results, curves = {}, {}
    for method in METHODS:
        zd.manual_seed(seed * 100 + METHODS.index(method))
        b = body() if method == "scratch" else pretrained_body()
        h = head()
        model = nn.Sequential(b, h)
        if method == "frozen":
            b.requires_grad_(False)
            opt = optim.Adam(model.parameters(), lr=1e-3)
        elif method == "scratch":
            opt = optim.Adam(model.parameters(), lr=1e-3)
        else:
            opt = optim.Adam([{"params": b.parameters(), "lr": 1e-4}, {"params": h.parameters()}], lr=1e-3)
        curves[method] = train(model, opt, x_few, t_few, args.epochs, 50, np.random.default_rng(seed),
                               x_b_test, t_b_test, every=args.eval_every)
        results[method] = curves[method][-1]
    print(f"seed {seed}: pretrained on 0-4: test acc {acc_a:.4f}; on 5-9 with {len(x_few)} labels: "
          + ", ".join(f"{m} {results[m]:.4f}" for m in METHODS), flush=True)
    return results, curves


def main(argv=None):
    def extra(p):
        p.add_argument("--per-class", type=int, default=100, help="labelled images per class of 5-9 (100)")

    args = C.parse_args(__doc__, __file__, argv, extra, seeds="seeds (default 5; --quick 2)",
                        epochs="epochs on the 500 images (default 30; --quick 2)",
                        pretrain_epochs="epochs of pretraining on 0-4 (default 2; --quick 1)")
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(
        args, n_train=800 if args.quick else None, n_test=300 if args.quick else None)
    if args.quick:
        args.per_class = min(args.per_class, 20)
    args.seeds = args.seeds or (2 if args.quick else 5)
    args.epochs = args.epochs or (2 if args.quick else 30)
    args.pretrain_epochs = args.pretrain_epochs or (1 if args.quick else 2)
    args.eval_every = max(args.epochs // 6, 1)
    a, b = t_train < 5, t_train >= 5
    a_test, b_test = t_test < 5, t_test >= 5
    data = ((x_train[a], t_train[a]), (x_train[b], t_train[b] - 5), (x_test[b_test], t_test[b_test] - 5),
            (x_test[a_test], t_test[a_test]))
    print(f"digits 0-4: {a.sum()} training images; digits 5-9: {args.per_class} per class, "
          f"tested on {b_test.sum()} images; {args.epochs} epochs, {args.seeds} seeds")

    per_seed, curves = [], []
    with C.Timer("all seeds"):
        for seed in range(args.seeds):
            r, c = run_seed(seed, data, args)
            per_seed.append(r)
            curves.append(c)
    accs = {m: np.array([r[m] for r in per_seed]) for m in METHODS}
    for m in METHODS:
        key = m.replace("-", "_")
        C.result(f"{key}_test_accuracy_mean", float(accs[m].mean()))
        C.result(f"{key}_test_accuracy_std", float(accs[m].std(ddof=1)) if len(accs[m]) > 1 else 0.0)
        C.result(f"{key}_test_accuracy_range", f"{accs[m].min():.4f} .. {accs[m].max():.4f}")
    gain = 100 * (accs["frozen"].mean() - accs["scratch"].mean())
    C.result("frozen_minus_scratch_points", gain, "{:.2f}")

    plt = C.pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2))
    seeds = np.arange(args.seeds)
    for k, (m, marker) in enumerate(zip(METHODS, "osD")):
        ax0.plot(seeds, accs[m], marker=marker, ls="", ms=8,
                 label=f"{m}: {accs[m].mean():.4f} +- {accs[m].std(ddof=1) if len(seeds) > 1 else 0:.4f}")
        mean_curve = np.mean([c[m] for c in curves], axis=0)
        ep = [e for e in range(1, args.epochs + 1) if e % args.eval_every == 0 or e == args.epochs]
        ax1.plot(ep, mean_curve, marker=marker, label=m)
    ax0.set_xticks(seeds)
    C.decorate(ax0, "seed", "test accuracy on digits 5-9",
               title=f"{args.per_class} labels per class: final accuracy per seed")
    C.decorate(ax1, "epoch", "test accuracy (mean over seeds)", title="during training",
               legend={"loc": "lower right"})
    C.save_figure(fig, args, "accuracies.png")


if __name__ == "__main__":
    main()
