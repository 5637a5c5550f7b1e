"""Chapter 6.1: SGD, Momentum, AdaGrad and Adam compared.

1. The book's f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 steps of each optimizer from
   ``zerodl.optim`` on a 2-element tensor (SGD lr 0.95, Momentum lr 0.1, AdaGrad lr 1.5,
   Adam lr 0.3, as in the book's optimizer_compare_naive.py): their paths over the contours,
   one panel each.
2. The same four on MNIST (the book's optimizer_compare_mnist.py): a 5-layer net with four
   hidden layers of 100 ReLU units (He init), batch 128, 2000 iterations, SGD / Momentum /
   AdaGrad lr 0.01 and Adam lr 0.001; the (smoothed) training-loss curves in one figure and
   the final losses printed.

    python examples/optimizers.py [--data-dir DIR] [--quick] [--out DIR] [--iters N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C


def f(p):
    return p[0] ** 2 / 20.0 + p[1] ** 2


def paths_on_f(steps=30):
    makers = {
        "SGD": lambda ps: optim.SGD(ps, lr=0.95),
        "Momentum": lambda ps: optim.Momentum(ps, lr=0.1),
        "AdaGrad": lambda ps: optim.AdaGrad(ps, lr=1.5),
        "Adam": lambda ps: optim.Adam(ps, lr=0.3),
    }
    paths = {}
    for name, make in makers.items():
        p = zd.tensor([-7.0, 2.0], requires_grad=True, dtype=np.float64)
        opt = make([p])
        path = [p.data.copy()]
        for _ in range(steps):
            opt.zero_grad()
            f(p).backward()
            opt.step()
            path.append(p.data.copy())
        paths[name] = np.array(path)
    return paths


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv,
                        iters="MNIST iterations per optimizer (default 2000 as the book; --quick 60)")
    rng = C.seed_everything(args.seed)
    plt = C.pyplot()

    # ---- 1. Paths on f(x, y) = x^2/20 + y^2.
    paths = paths_on_f()
    xs = np.arange(-10, 10, 0.01)
    ys = np.arange(-5, 5, 0.01)
    X, Y = np.meshgrid(xs, ys)
    Z = X ** 2 / 20.0 + Y ** 2
    Z[Z > 7] = 0  # the book's trick for a cleaner contour plot
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    lrs = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "Adam": 0.3}
    print("[f(x, y) = x^2/20 + y^2 from (-7, 2), 30 steps]")
    for ax, (name, path) in zip(axes.ravel(), paths.items()):
        ax.contour(X, Y, Z)
        ax.plot(path[:, 0], path[:, 1], "o-", color="red", ms=3)
        ax.plot(0, 0, "+", color="k", ms=12)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_title(f"{name} (lr {lrs[name]})")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        end = path[-1]
        value = end[0] ** 2 / 20 + end[1] ** 2
        print(f"  {name:8s}: after 30 steps at ({end[0]:+.4f}, {end[1]:+.4f}), f = {value:.5f}")
        C.result(f"f_after_30_steps_{name}", float(value), "{:.5f}")
    C.save_figure(fig, args, "optimizer_paths.png")

    # ---- 2. MNIST, the book's optimizer_compare_mnist.py.
    (x_train, t_train), _ = C.load_mnist(args, n_train=2000 if args.quick else None,
                                         n_test=100 if args.quick else None)
    max_iterations = args.iters or (60 if args.quick else 2000)
    batch_size = 128
    settings = {
        "SGD": lambda ps: optim.SGD(ps, lr=0.01),
        "Momentum": lambda ps: optim.Momentum(ps, lr=0.01),
        "AdaGrad": lambda ps: optim.AdaGrad(ps, lr=0.01),
        "Adam": lambda ps: optim.Adam(ps, lr=0.001),
    }
    networks, optimizers, train_loss = {}, {}, {}
    for k, (name, make) in enumerate(settings.items()):
        zd.manual_seed(args.seed)  # the same initial weights for all four
        networks[name] = C.mlp([784, 100, 100, 100, 100, 10], "relu", "he")
        optimizers[name] = make(networks[name].parameters())
        train_loss[name] = []
    print(f"\n[MNIST] 784-100-100-100-100-10 ReLU, batch {batch_size}, {max_iterations} iterations")
    with C.Timer("MNIST comparison"):
        for i in range(max_iterations):
            batch_mask = rng.choice(len(x_train), batch_size)
            x_batch, t_batch = zd.tensor(x_train[batch_mask]), t_train[batch_mask]
            for name in settings:
                net, opt = networks[name], optimizers[name]
                opt.zero_grad()
                loss = F.softmax_cross_entropy(net(x_batch), t_batch)
                loss.backward()
                opt.step()
                train_loss[name].append(float(loss.item()))
            if (i + 1) % (max_iterations // 4 or 1) == 0:
                print(f"  iteration {i + 1}: " + ", ".join(
                    f"{name} {train_loss[name][-1]:.4f}" for name in settings))
    C.loss_curves_figure(args, train_loss, "mnist_loss_curves.png",
                         "MNIST: training loss by optimizer (smoothed)", ylim=(0, 1), markers="oxsD")


if __name__ == "__main__":
    main()
