"""Chapter 6.3: batch normalisation vs none, over 16 weight scales (the book's batch_norm_test.py).

For each initial weight std in ``logspace(0, -4, 16)``, two 6-layer nets (five hidden layers
of 100 ReLU units; ``Linear -> BatchNorm1d -> ReLU`` in one, ``Linear -> ReLU`` in the
other) start from the SAME weights and are trained on 1000 MNIST images, SGD lr 0.01,
batch 100, 20 epochs. One panel per scale shows the training accuracy after each epoch
(solid: with batch norm, dashed: without), as the book's figure 6-19: batch norm learns
faster and is far less sensitive to the initial scale.

    python examples/batch_norm.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C


def train(net, x_train, t_train, max_epochs, rng, batch_size=100, lr=0.01):
    """The book's loop: accuracy on the training set at the start of each epoch."""
    opt = optim.SGD(net.parameters(), lr=lr)
    train_size = len(x_train)
    iter_per_epoch = max(train_size // batch_size, 1)
    acc_list = []
    for i in range(10 ** 9):
        if i % iter_per_epoch == 0:
            acc_list.append(C.accuracy(net, x_train, t_train))
            if len(acc_list) >= max_epochs:
                break
        mask = rng.choice(train_size, batch_size)
        opt.zero_grad()
        F.softmax_cross_entropy(net(zd.tensor(x_train[mask])), t_train[mask]).backward()
        opt.step()
    return acc_list


def main(argv=None):
    def extra(p):
        p.add_argument("--epochs", type=int, default=None, help="epochs (default 20 as the book; --quick 5)")

    args = C.parse_args(__doc__.splitlines()[0], __file__, argv, extra)
    rng = C.seed_everything(args.seed)
    (x_train, t_train), _ = C.load_mnist(args, n_train=1000 if not args.quick else 300, n_test=10)
    max_epochs = args.epochs or (5 if args.quick else 20)
    weight_scale_list = np.logspace(0, -4, num=4 if args.quick else 16)
    sizes = [784, 100, 100, 100, 100, 100, 10]

    plt = C.pyplot()
    n = len(weight_scale_list)
    cols = 4
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.6 * rows), squeeze=False)
    wins = 0
    print(f"training accuracy after {max_epochs} epochs ({len(x_train)} images, SGD lr 0.01, batch 100):")
    with C.Timer("all scales"):
        for k, w in enumerate(weight_scale_list):
            zd.manual_seed(args.seed + k)
            bn_net = C.mlp(sizes, "relu", float(w), batchnorm=True, bn_eps=1e-7)
            zd.manual_seed(args.seed + k)  # the same weights without batch norm
            net = C.mlp(sizes, "relu", float(w), batchnorm=False)
            seed = int(rng.integers(2 ** 31))
            bn_acc = train(bn_net, x_train, t_train, max_epochs, np.random.default_rng(seed))
            acc = train(net, x_train, t_train, max_epochs, np.random.default_rng(seed))
            wins += bn_acc[-1] > acc[-1]
            print(f"  w std {w:.2e}: batch norm {bn_acc[-1]:.3f}   none {acc[-1]:.3f}")
            ax = axes.ravel()[k]
            x = np.arange(max_epochs)
            ax.plot(x, bn_acc, label="Batch Normalization", markevery=2)
            ax.plot(x, acc, ls="--", label="Normal (without BatchNorm)", markevery=2)
            ax.set_title(f"W: {w:.2e}", fontsize=9)
            ax.set_ylim(0, 1.0)
            if k % cols:
                ax.set_yticks([])
            else:
                ax.set_ylabel("accuracy")
            if k < n - cols:
                ax.set_xticks([])
            else:
                ax.set_xlabel("epochs")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[n - 1].legend(loc="lower right", fontsize=7)
    C.result("batchnorm_better_in", f"{int(wins)} of {n} weight scales")
    C.save_figure(fig, args, "batch_norm.png")


if __name__ == "__main__":
    main()
