"""Vanishing gradients: the gradient norm per layer of a 10-layer net, sigmoid vs ReLU.

A 10-layer fully connected net (784-100-...-100-10, nine hidden layers of 100 units) is run
forward and backward on one MNIST mini-batch. With sigmoid hidden units (Xavier init) each
layer multiplies the backward signal by sigmoid' <= 0.25, so the gradient of the first
layers' weights is orders of magnitude smaller than the last's: they barely learn. With ReLU
(He init) the derivative is 1 where a unit is on, and the norms stay of the same order.
The norms ||dL/dW_l|| are printed and plotted (log scale); both nets are then trained a
little with the same SGD to show what it means for learning.

    python examples/vanishing_gradients.py [--data-dir DIR] [--quick] [--out DIR] [--iters N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C

SIZES = [784] + [100] * 9 + [10]  # 10 weight layers
CASES = {"sigmoid (Xavier init)": ("sigmoid", "xavier"), "ReLU (He init)": ("relu", "he")}


def grad_norms(net, x, t):
    net.zero_grad()
    F.softmax_cross_entropy(net(zd.tensor(x)), t).backward()
    return [float(np.linalg.norm(C.weight_and_bias(lin)[0].grad)) for lin in C.linear_layers(net)]


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv, iters="training iterations per net (default 1000; --quick 50)")
    rng = C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist(
        args, n_train=2000 if args.quick else None, n_test=500 if args.quick else None)
    x_batch, t_batch = x_train[:256], t_train[:256]

    nets, norms_at_init = {}, {}
    print(f"\n||dL/dW|| per layer (layer 1 = next to the input), batch of {len(x_batch)}:")
    for name, (act, init) in CASES.items():
        zd.manual_seed(args.seed)
        nets[name] = C.mlp(SIZES, act, init)
        norms_at_init[name] = grad_norms(nets[name], x_batch, t_batch)
        n = norms_at_init[name]
        print(f"  {name:22s}: " + " ".join(f"{v:.1e}" for v in n))
        C.result(f"grad_norm_ratio_last_over_first_{act}", n[-1] / n[0], "{:.3g}")

    # A little training with the same plain SGD, then the norms again.
    iters = args.iters or (50 if args.quick else 1000)
    print(f"\ntraining each for {iters} iterations (SGD lr 0.1, batch 100):")
    curves = {}
    for name, net in nets.items():
        opt = optim.SGD(net.parameters(), lr=0.1)
        curves[name] = []
        for _ in range(iters):
            mask = rng.choice(len(x_train), 100)
            opt.zero_grad()
            loss = F.softmax_cross_entropy(net(zd.tensor(x_train[mask])), t_train[mask])
            loss.backward()
            opt.step()
            curves[name].append(float(loss.item()))
        acc = C.accuracy(net, x_test, t_test)
        act = CASES[name][0]
        print(f"  {name:22s}: final loss {np.mean(curves[name][-50:]):.4f}, test acc {acc:.4f}")
        C.result(f"test_accuracy_after_{iters}_iters_{act}", acc)

    plt = C.pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.3))
    layers = np.arange(1, len(SIZES))
    for name, n in norms_at_init.items():
        ax0.semilogy(layers, n, "o-", label=name)
    ax0.set_xticks(layers)
    C.decorate(ax0, "layer (1 = input side)", "||dL/dW|| (log scale)",
               title="gradient norm per layer at initialisation", grid_which="both")
    for name, c in curves.items():
        ax1.plot(C.smooth_curve(c), label=name)
    C.decorate(ax1, "iteration", "training loss (smoothed)", title="10-layer nets, same SGD (lr 0.1)")
    C.save_figure(fig, args, "gradient_norms.png")


if __name__ == "__main__":
    main()
