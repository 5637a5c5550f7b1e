"""Chapter 6.4: overfitting, and weight decay and dropout curing it.

A 7-layer net (six hidden layers of 100 ReLU units, He init) trained on only 300 MNIST
images (SGD lr 0.01, batch 100) memorises them: training accuracy reaches 100% while test
accuracy stays far lower (the book: about 70%). Then the same net with
1. weight decay (the book's L2 penalty ``0.5 * lambda * sum(W**2)`` added to the loss,
   lambda = 0.1), 200 epochs, and
2. dropout (ratio 0.2 after every hidden layer; zerodl's inverted dropout), 300 epochs,
which narrow the gap between training and test accuracy. Figures: train/test accuracy per
epoch for each.

    python examples/overfitting.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C


def train(net, data, epochs, rng, weight_decay_lambda=0.0, batch_size=100, lr=0.01):
    """The book's loop, with the L2 penalty in the loss when ``weight_decay_lambda`` > 0."""
    (x_train, t_train), (x_test, t_test) = data
    opt = optim.SGD(net.parameters(), lr=lr)
    train_size = len(x_train)
    iter_per_epoch = max(train_size // batch_size, 1)
    train_acc_list, test_acc_list = [], []
    for i in range(10 ** 9):
        if i % iter_per_epoch == 0:
            train_acc_list.append(C.accuracy(net, x_train, t_train))
            test_acc_list.append(C.accuracy(net, x_test, t_test))
            if len(train_acc_list) > epochs:
                break
        mask = rng.choice(train_size, batch_size)
        opt.zero_grad()
        loss = F.softmax_cross_entropy(net(zd.tensor(x_train[mask])), t_train[mask])
        if weight_decay_lambda:
            loss = loss + C.weight_decay_penalty(net, weight_decay_lambda)
        loss.backward()
        opt.step()
    return train_acc_list, test_acc_list


def main(argv=None):
    def extra(p):
        p.add_argument("--epochs", type=int, default=None,
                       help="epochs (default 200, and 300 with dropout, as the book; --quick 15)")

    args = C.parse_args(__doc__.splitlines()[0], __file__, argv, extra)
    C.seed_everything(args.seed)
    data = C.load_mnist(args, n_train=300, n_test=500 if args.quick else None)
    epochs = args.epochs or (15 if args.quick else 200)
    epochs_dropout = args.epochs or (15 if args.quick else 300)
    sizes = [784] + [100] * 6 + [10]
    runs = [
        ("no regularisation", dict(), {}, epochs),
        ("weight decay (lambda 0.1)", dict(), {"weight_decay_lambda": 0.1}, epochs),
        ("dropout (0.2)", {"dropout": 0.2}, {}, epochs_dropout),
    ]
    plt = C.pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(15, 4.2))
    for ax, (name, net_kw, train_kw, n_epochs) in zip(axes, runs):
        zd.manual_seed(args.seed)
        net = C.mlp(sizes, "relu", "he", **net_kw)
        with C.Timer(name):
            train_acc, test_acc = train(net, data, n_epochs, np.random.default_rng(args.seed), **train_kw)
        print(f"{name:26s}: after {n_epochs} epochs train acc {train_acc[-1]:.4f}, "
              f"test acc {test_acc[-1]:.4f} (gap {train_acc[-1] - test_acc[-1]:.4f})")
        tag = name.split(" (")[0].replace(" ", "_")
        C.result(f"{tag}_train_accuracy", train_acc[-1])
        C.result(f"{tag}_test_accuracy", test_acc[-1])
        x = np.arange(len(train_acc))
        ax.plot(x, train_acc, marker="o", markevery=10, ms=4, label="train")
        ax.plot(x, test_acc, marker="s", markevery=10, ms=4, label="test")
        ax.set_title(name)
        ax.set_xlabel("epochs")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(f"7-layer net on {len(data[0][0])} training images")
    C.save_figure(fig, args, "overfitting.png")


if __name__ == "__main__":
    main()
