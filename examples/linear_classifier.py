"""The slides' linear classifier ``p = W x + b`` (no hidden layer), then stacked layers.

1. 8x8 digits: scores ``p = x @ W + b`` (the slides' ``W x``, transposed to the book's layout),
   softmax cross entropy. The slides' update ``delta_W = delta_p x^T``, ``delta_b = delta_p``
   is written out by hand and compared with zerodl's autograd gradient, then used for batch
   gradient descent.
2. MNIST with the same one-layer model (``nn.Linear(784, 10)``, ``model.fit``). The slides
   report 80% test accuracy; plain softmax regression reaches about 92%.
3. The 1-D loss landscape: the training loss as a function of one weight coordinate around
   its trained value (the slides' picture of "a valley in the loss"), for a few coordinates.
4. The learned weights as ten 28x28 templates, one per digit.
5. The 3-layer version (784-100-100-10, ReLU) for comparison (the slides: 86%).

    python examples/linear_classifier.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import datasets, to_categorical, train_test_split

import _common as C


def digits_by_hand(args):
    """Part 1: the slides' update rule written out, on the 8x8 digits."""
    x, t = datasets.digits()
    x = x.reshape(len(x), -1).astype(np.float32) / 16.0
    x_train, x_test, t_train, t_test = train_test_split(x, t, test_size=0.25, seed=args.seed)
    print(f"\n[8x8 digits] {len(x_train)} training / {len(x_test)} test images, p = x @ W + b")

    W = zd.tensor(np.zeros((64, 10)), requires_grad=True)
    b = zd.tensor(np.zeros(10), requires_grad=True)
    T = to_categorical(t_train, 10).astype(np.float32)   # the "ideal p" as one-hot targets
    lr, steps = 0.5, (100 if args.quick else 500)
    for step in range(steps):
        p = x_train @ W + b                               # scores, (N, 10)
        loss = F.softmax_cross_entropy(p, t_train)
        W.grad = b.grad = None
        loss.backward()
        # The slides' rule by hand: delta_p = softmax(p) - t, delta_W = x^T delta_p, delta_b = delta_p
        # (summed over the N images and divided by N, as the loss is a mean).
        delta_p = (F.softmax(p).data - T) / len(x_train)
        delta_W = x_train.T @ delta_p
        delta_b = delta_p.sum(axis=0)
        if step == 0:
            diff = max(np.abs(delta_W - W.grad).max(), np.abs(delta_b - b.grad).max())
            print(f"  by hand vs autograd, first step: max |difference| = {diff:.2e}")
            C.result("digits_hand_vs_autograd_max_diff", float(diff), "{:.2e}")
        W.data -= lr * delta_W                            # W_new = W - eta * delta_W
        b.data -= lr * delta_b
    with zd.no_grad():
        train_acc = F.accuracy(x_train @ W + b, t_train)
        test_acc = F.accuracy(x_test @ W + b, t_test)
    print(f"  {steps} steps of batch gradient descent (lr {lr}): loss {loss.item():.4f}, "
          f"train acc {train_acc:.4f}, test acc {test_acc:.4f}")
    C.result("digits_linear_test_accuracy", float(test_acc))


def fit(model, args, data, epochs, lr):
    (x_train, t_train), (x_test, t_test) = data
    model.compile(optimizer=optim.SGD(model.parameters(), lr=lr),
                  loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x_train, t_train, epochs=epochs, batch_size=100,
                        validation_data=(x_test, t_test), verbose=0)
    h = history.history  # per-epoch lists: loss, accuracy, val_loss, val_accuracy
    for e in range(epochs):
        print(f"  epoch {e + 1:2d}: loss {h['loss'][e]:.4f}, train acc {h['accuracy'][e]:.4f}, "
              f"test acc {h['val_accuracy'][e]:.4f}")
    return h


def loss_landscape(model, x, t, coords, span=3.0, n=61):
    """Loss on (x, t) as one weight W[i, c] moves through w* + linspace(-span, span)."""
    W = model.W
    curves = []
    with zd.no_grad():
        for i, c in coords:
            w_star = float(W.data[i, c])
            values = w_star + np.linspace(-span, span, n)
            losses = []
            for v in values:
                W.data[i, c] = v
                losses.append(float(F.softmax_cross_entropy(model(zd.tensor(x)), t).item()))
            W.data[i, c] = w_star
            curves.append((values, np.array(losses), w_star))
    return curves


def main(argv=None):
    def extra(p):
        p.add_argument("--epochs", type=int, default=None, help="MNIST epochs (default 10; --quick 2)")

    args = C.parse_args(__doc__.splitlines()[0], __file__, argv, extra)
    C.seed_everything(args.seed)
    epochs = args.epochs or (2 if args.quick else 10)
    plt = C.pyplot()

    digits_by_hand(args)

    data = C.load_mnist(args, n_train=2000 if args.quick else None, n_test=500 if args.quick else None)
    (x_train, t_train), (x_test, t_test) = data

    print(f"\n[MNIST, one layer] nn.Linear(784, 10), SGD lr 0.5, batch 100, {epochs} epochs")
    linear = nn.Linear(784, 10)
    nn.init.zeros_(linear.W)
    with C.Timer("one-layer training"):
        h1 = fit(linear, args, data, epochs, lr=0.5)
    C.result("mnist_linear_test_accuracy", h1["val_accuracy"][-1])

    # The loss landscape along single weights (centre pixels, for a few classes).
    coords = [(14 * 28 + 14, 0), (14 * 28 + 14, 1), (10 * 28 + 12, 7)]
    n_land = min(len(x_train), 5000)
    curves = loss_landscape(linear, x_train[:n_land], t_train[:n_land], coords,
                            n=21 if args.quick else 61)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for (i, c), (values, losses, w_star) in zip(coords, curves):
        line, = ax.plot(values - w_star, losses, label=f"W[pixel ({i // 28},{i % 28}), class {c}]")
        ax.plot(0, losses[len(losses) // 2], "o", color=line.get_color())
    ax.set_xlabel("change of the weight from its trained value  (w - w*)")
    ax.set_ylabel(f"training loss (softmax cross entropy, {n_land} images)")
    ax.set_title("1-D loss landscape of the trained linear classifier")
    ax.grid(alpha=0.3)
    ax.legend()
    C.save_figure(fig, args, "loss_landscape.png")
    lowest = [float(values[np.argmin(losses)] - w_star) for values, losses, w_star in curves]
    print(f"  the trained weights sit at the bottom of each valley: argmin offsets {np.round(lowest, 2)}")

    # The ten learned templates.
    W = linear.W.data
    lim = np.abs(W).max()
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
    for k, ax in enumerate(axes.ravel()):
        ax.imshow(W[:, k].reshape(28, 28), cmap="seismic", vmin=-lim, vmax=lim)
        ax.set_title(f"class {k}")
        ax.axis("off")
    fig.suptitle("learned weights W[:, k] as 28x28 images (red +, blue -)")
    C.save_figure(fig, args, "weight_templates.png")

    print(f"\n[MNIST, three layers] 784-100-100-10 ReLU, SGD lr 0.1, batch 100, {epochs} epochs")
    C.seed_everything(args.seed)
    mlp = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                        nn.Linear(100, 10))
    with C.Timer("three-layer training"):
        h3 = fit(mlp, args, data, epochs, lr=0.1)
    C.result("mnist_3layer_test_accuracy", h3["val_accuracy"][-1])
    from zerodl.utils.plots import plot_history

    path = plot_history(h3, str(args.out / "history_3layer.png"), title="784-100-100-10 ReLU: model.fit history")
    print(f"figure: {path}")

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ep = np.arange(1, epochs + 1)
    ax.plot(ep, h1["val_accuracy"], "o-", label="one layer (p = x W + b), test")
    ax.plot(ep, h1["accuracy"], "o:", color="C0", alpha=0.6, label="one layer, train")
    ax.plot(ep, h3["val_accuracy"], "s-", label="784-100-100-10 ReLU, test")
    ax.plot(ep, h3["accuracy"], "s:", color="C1", alpha=0.6, label="784-100-100-10 ReLU, train")
    ax.axhline(0.80, color="gray", ls="--", lw=0.8)
    ax.axhline(0.86, color="gray", ls="-.", lw=0.8)
    ax.text(ep[0], 0.805, "slides: 80% (1 layer)", fontsize=8, color="gray")
    ax.text(ep[0], 0.865, "slides: 86% (3 layers)", fontsize=8, color="gray")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.75, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    C.save_figure(fig, args, "accuracy.png")


if __name__ == "__main__":
    main()
