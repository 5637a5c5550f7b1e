"""Chapters 4 and 5: the book's TwoLayerNet (784-50-10) on MNIST.

1. Chapter 4: training with NUMERICAL gradients (central differences,
   ``zerodl.utils.numerical_grad``) with sigmoid hidden units, as the book does: correct but
   slow (two forward passes per parameter, ~40k parameters), so only a few iterations on a
   small slice. The time per iteration is compared with backpropagation's.
2. Gradient check (ch. 5.7): backpropagation against numerical gradients on 3 samples
   in float64; the max |numerical - backprop| per parameter (W1, b1, W2, b2) is printed.
3. Chapter 5: training with BACKPROPAGATION (ReLU hidden units): SGD, lr 0.1, batch 100,
   10000 iterations (about 17 epochs), train and test accuracy after each epoch and a
   learning-curve figure. The book reaches about 97% test accuracy.

The loop is written out as in the book: draw a mini-batch, compute the gradients, update
``params[key] -= lr * grad[key]``.

    python examples/two_layer_net.py [--data-dir DIR] [--quick] [--out DIR] [--iters N]
"""
import time

import numpy as np

import zerodl as zd
import zerodl.functions as F

import _common as C


class TwoLayerNet:
    """The book's two-layer network: ``Affine -> activation -> Affine -> SoftmaxWithLoss``."""

    def __init__(self, input_size, hidden_size, output_size, activation="relu",
                 weight_init_std=0.01, dtype=np.float32):
        rng = zd.get_rng()
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.params = {k: zd.tensor(v, requires_grad=True, dtype=dtype) for k, v in self.params.items()}
        self.activation = {"relu": F.relu, "sigmoid": F.sigmoid}[activation]
        self.dtype = dtype

    def predict(self, x):
        p = self.params
        a1 = F.linear(x, p["W1"], p["b1"])   # x @ W1 + b1
        z1 = self.activation(a1)
        return F.linear(z1, p["W2"], p["b2"])  # scores; softmax is fused into the loss

    def loss(self, x, t):
        return F.softmax_cross_entropy(self.predict(zd.tensor(x, dtype=self.dtype)), t)

    def accuracy(self, x, t, batch_size=10000):
        correct = 0
        with zd.no_grad():
            for i in range(0, len(x), batch_size):
                y = self.predict(zd.tensor(x[i:i + batch_size], dtype=self.dtype))
                correct += int((y.data.argmax(axis=1) == t[i:i + batch_size]).sum())
        return correct / len(x)

    def numerical_gradient(self, x, t):
        """Ch. 4: d loss / d param by central differences, one parameter entry at a time."""
        from zerodl.utils import numerical_grad

        keys = list(self.params)
        grads = numerical_grad(lambda: self.loss(x, t), params=[self.params[k] for k in keys])
        return {key: g.astype(self.dtype) for key, g in zip(keys, grads)}

    def gradient(self, x, t):
        """Ch. 5: the same gradients by backpropagation (one forward, one backward)."""
        for p in self.params.values():
            p.grad = None
        loss = self.loss(x, t)
        loss.backward()
        self.last_loss = float(loss.item())
        return {key: p.grad for key, p in self.params.items()}


def sgd_step(net, grads, lr):
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key].data -= lr * grads[key]


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv, iters="backprop iterations (default 10000 as the book; --quick 300)")
    rng = C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist(
        args, n_train=1000 if args.quick else None, n_test=300 if args.quick else None)

    # ---- 1. Chapter 4: numerical gradients (sigmoid), a few iterations on a small slice.
    hidden_num = 10 if args.quick else 50
    batch_num = 10 if args.quick else 100
    iters_num = 1 if args.quick else 3
    print(f"\n[ch4] numerical gradients: TwoLayerNet(784-{hidden_num}-10, sigmoid), "
          f"batch {batch_num}, {iters_num} iteration(s), lr 0.1")
    net = TwoLayerNet(784, hidden_num, 10, activation="sigmoid")
    x_small, t_small = x_train[:batch_num * 5], t_train[:batch_num * 5]
    loss0 = float(net.loss(x_small, t_small).item())
    t0 = time.perf_counter()
    for i in range(iters_num):
        mask = rng.choice(len(x_small), batch_num)
        grads = net.numerical_gradient(x_small[mask], t_small[mask])
        sgd_step(net, grads, 0.1)
        print(f"  iteration {i + 1}: loss on the slice {float(net.loss(x_small, t_small).item()):.4f}")
    t_num = (time.perf_counter() - t0) / iters_num
    t0 = time.perf_counter()
    for _ in range(20):
        mask = rng.choice(len(x_small), batch_num)
        net.gradient(x_small[mask], t_small[mask])
    t_bp = (time.perf_counter() - t0) / 20
    print(f"  loss {loss0:.4f} -> {float(net.loss(x_small, t_small).item()):.4f}; "
          f"{t_num:.2f} s per numerical-gradient iteration vs {t_bp * 1e3:.2f} ms by backprop")
    C.result("numerical_vs_backprop_time_ratio", t_num / t_bp, "{:.0f}")

    # ---- 2. Gradient check (ch. 5.7), float64, 3 samples, ReLU net as in ch. 5.
    hidden_chk = 10 if args.quick else 50
    net64 = TwoLayerNet(784, hidden_chk, 10, activation="relu", dtype=np.float64)
    x_batch, t_batch = x_train[:3], t_train[:3]
    grad_numerical = net64.numerical_gradient(x_batch, t_batch)
    grad_backprop = net64.gradient(x_batch, t_batch)
    print(f"\n[gradient check] 784-{hidden_chk}-10 ReLU, float64, 3 samples: |numerical - backprop|")
    worst = 0.0
    for key in ("W1", "b1", "W2", "b2"):
        diff = np.abs(grad_numerical[key] - grad_backprop[key])
        print(f"  {key}: max {diff.max():.3e}   mean {diff.mean():.3e}")
        C.result(f"gradcheck_max_abs_diff_{key}", float(diff.max()), "{:.3e}")
        worst = max(worst, float(diff.max()))
    assert worst < 1e-6, "backprop and numerical gradients disagree"

    # ---- 3. Chapter 5: backpropagation, SGD lr 0.1, batch 100 (the book's train_neuralnet.py).
    iters_num = args.iters or (300 if args.quick else 10000)
    batch_size, learning_rate = 100, 0.1
    train_size = len(x_train)
    iter_per_epoch = max(train_size // batch_size, 1)
    print(f"\n[ch5] backprop: TwoLayerNet(784-50-10, ReLU), SGD lr {learning_rate}, "
          f"batch {batch_size}, {iters_num} iterations ({iter_per_epoch} per epoch)")
    net = TwoLayerNet(784, 50, 10, activation="relu")
    train_loss_list, train_acc_list, test_acc_list = [], [], []
    with C.Timer("backprop training"):
        for i in range(iters_num):
            batch_mask = rng.choice(train_size, batch_size)
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            grad = net.gradient(x_batch, t_batch)
            sgd_step(net, grad, learning_rate)
            train_loss_list.append(net.last_loss)
            if (i + 1) % iter_per_epoch == 0 or i + 1 == iters_num:
                train_acc = net.accuracy(x_train, t_train)
                test_acc = net.accuracy(x_test, t_test)
                train_acc_list.append(train_acc)
                test_acc_list.append(test_acc)
                print(f"  epoch {len(test_acc_list):2d} (iteration {i + 1}): "
                      f"train acc {train_acc:.4f}, test acc {test_acc:.4f}")
    C.result("train_accuracy", train_acc_list[-1])
    C.result("test_accuracy", test_acc_list[-1])

    plt = C.pyplot()
    fig, (ax0, ax) = plt.subplots(1, 2, figsize=(11, 4))
    ax0.plot(np.arange(1, len(train_loss_list) + 1), train_loss_list, lw=0.5)
    C.decorate(ax0, "iteration", "training loss (mini-batch)", legend=False)
    epochs = np.arange(1, len(train_acc_list) + 1)
    ax.plot(epochs, train_acc_list, marker="o", label="train acc")
    ax.plot(epochs, test_acc_list, marker="s", ls="--", label="test acc")
    C.decorate(ax, "epochs", "accuracy", title=f"TwoLayerNet by backprop: test acc {test_acc_list[-1]:.4f}",
               ylim=(0, 1.0), legend={"loc": "lower right"})
    C.save_figure(fig, args, "learning_curve.png")


if __name__ == "__main__":
    main()
