"""Chapter 6.2: initial weights.

1. Activation histograms of a 5-layer, 100-unit net on 1000x100 standard-normal input (the
   book's weight_init_activation_histogram.py): sigmoid with weight std 1 (activations pile
   up at 0 and 1: vanishing gradients), std 0.01 (all near 0.5: no expressiveness), Xavier
   (1/sqrt(n), spread out); tanh with Xavier; ReLU with std 0.01, Xavier and He
   (sqrt(2/n)). One row of five histograms per setting; the std of each layer's activations
   is printed.
2. Zero initialisation fails: with every weight 0, all hidden units compute the same thing
   and receive the same gradient, so they stay identical. A 784-100-10 net is trained from
   zeros (sigmoid: the 100 hidden units stay identical, W1 has ONE distinct column, the net
   acts as if it had one hidden unit; ReLU: relu(0) = 0 blocks every gradient, only the
   output bias moves, accuracy stays at chance), next to a small random init (std 0.01).
   Only float32 rounding, which differs slightly from column to column inside the matrix
   products, breaks the symmetry, and slowly: the spread between columns is printed.
3. MNIST with std 0.01, Xavier and He (the book's weight_init_compare.py: four hidden layers
   of 100 ReLU units, SGD lr 0.01, batch 128, 2000 iterations): loss curves.

    python examples/weight_init.py [--data-dir DIR] [--quick] [--out DIR] [--iters N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C

SETTINGS = [  # (activation, label, std as a function of the fan-in n)
    ("sigmoid", "std 1", lambda n: 1.0),
    ("sigmoid", "std 0.01", lambda n: 0.01),
    ("sigmoid", "Xavier", lambda n: np.sqrt(1.0 / n)),
    ("tanh", "Xavier", lambda n: np.sqrt(1.0 / n)),
    ("relu", "std 0.01", lambda n: 0.01),
    ("relu", "Xavier", lambda n: np.sqrt(1.0 / n)),
    ("relu", "He", lambda n: np.sqrt(2.0 / n)),
]
ACT = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}


def histograms(args, rng):
    plt = C.pyplot()
    node_num, hidden_layer_size = 100, 5
    x0 = rng.standard_normal((1000, 100)).astype(np.float32)
    fig, axes = plt.subplots(len(SETTINGS), hidden_layer_size, figsize=(13, 2.0 * len(SETTINGS)))
    print("[activation histograms] 5 layers x 100 units, input 1000 x 100 ~ N(0, 1)")
    print("  std of each layer's activations:")
    for row, (act, label, std_of) in enumerate(SETTINGS):
        x = zd.tensor(x0)
        stds = []
        with zd.no_grad():
            for i in range(hidden_layer_size):
                w = zd.tensor(rng.standard_normal((node_num, node_num)) * std_of(node_num))
                x = ACT[act](x @ w)
                stds.append(float(x.data.std()))
                ax = axes[row, i]
                lo = -1 if act == "tanh" else 0
                ax.hist(x.data.ravel(), 30, range=(lo, 1))
                if act == "relu":
                    ax.set_ylim(0, 7000)  # the book's view: the spike at 0 is cut
                ax.set_yticks([])
                if row == 0:
                    ax.set_title(f"{i + 1}-layer")
                if i == 0:
                    ax.set_ylabel(f"{act}\n{label}", rotation=0, ha="right", va="center")
        print(f"  {act:7s} {label:8s}: " + "  ".join(f"{s:.3f}" for s in stds))
        C.result(f"activation_std_layer5_{act}_{label.replace(' ', '')}", stds[-1])
    fig.suptitle("activation distributions per layer (book fig. 6-10 to 6-14)")
    C.save_figure(fig, args, "activation_histograms.png")


def count_distinct_columns(W, tol):
    """Columns that differ (max abs difference > tol) from every column counted before them."""
    reps = []
    for j in range(W.shape[1]):
        if all(np.abs(W[:, j] - r).max() > tol for r in reps):
            reps.append(W[:, j])
    return len(reps)


def zero_init(args, data, rng):
    (x_train, t_train), (x_test, t_test) = data
    iters = 100 if args.quick else 1000
    print(f"\n[zero initialisation] 784-100-10, SGD lr 0.1, batch 100, {iters} iterations")
    for act in ("sigmoid", "relu"):
        for init in ("zeros", 0.01):
            zd.manual_seed(args.seed)
            net = C.mlp([784, 100, 10], act, init)
            opt = optim.SGD(net.parameters(), lr=0.1)
            for _ in range(iters):
                mask = rng.choice(len(x_train), 100)
                opt.zero_grad()
                F.softmax_cross_entropy(net(zd.tensor(x_train[mask])), t_train[mask]).backward()
                opt.step()
            W1 = C.weight_and_bias(C.linear_layers(net)[0])[0].data
            scale = float(np.abs(W1).max())
            # Columns of W1 = the hidden units' incoming weights. Count the distinct ones, up to
            # 1% of the largest weight (float32 rounding in the matrix products differs slightly
            # from column to column and slowly grows, so exact equality is too strict).
            spread = float(np.abs(W1 - W1[:, :1]).max()) / scale if scale else 0.0
            distinct = count_distinct_columns(W1, tol=0.01 * scale)
            acc = C.accuracy(net, x_test, t_test)
            name = "all zeros" if init == "zeros" else "std 0.01"
            print(f"  {act:7s} {name:9s}: distinct columns of W1 = {distinct:3d} / 100 "
                  f"(max |W1[:, j] - W1[:, 0]| = {spread:.1e} x max |W1| = {scale:.4f}), test acc {acc:.4f}")
            tag = f"{act}_{'zeros' if init == 'zeros' else 'std0.01'}"
            C.result(f"zero_init_distinct_W1_columns_{tag}", distinct)
            C.result(f"zero_init_test_accuracy_{tag}", acc)


def compare_on_mnist(args, data, rng):
    (x_train, t_train), _ = data
    max_iterations = args.iters or (60 if args.quick else 2000)
    batch_size = 128
    settings = {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}
    nets, opts, losses = {}, {}, {}
    for name, std in settings.items():
        zd.manual_seed(args.seed)
        nets[name] = C.mlp([784, 100, 100, 100, 100, 10], "relu", std)
        opts[name] = optim.SGD(nets[name].parameters(), lr=0.01)
        losses[name] = []
    print(f"\n[MNIST] 784-100x4-10 ReLU, SGD lr 0.01, batch {batch_size}, {max_iterations} iterations")
    with C.Timer("MNIST comparison"):
        for i in range(max_iterations):
            mask = rng.choice(len(x_train), batch_size)
            x_batch, t_batch = zd.tensor(x_train[mask]), t_train[mask]
            for name in settings:
                opts[name].zero_grad()
                loss = F.softmax_cross_entropy(nets[name](x_batch), t_batch)
                loss.backward()
                opts[name].step()
                losses[name].append(float(loss.item()))
            if (i + 1) % (max_iterations // 4 or 1) == 0:
                print(f"  iteration {i + 1}: " + ", ".join(f"{n} {losses[n][-1]:.4f}" for n in settings))
    C.loss_curves_figure(args, losses, "mnist_init_comparison.png",
                         "MNIST: training loss by weight initialisation (smoothed)", ylim=(0, 2.5), markers="os^")


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv, iters="MNIST iterations (default 2000 as the book; --quick 60)")
    rng = C.seed_everything(args.seed)
    histograms(args, rng)
    data = C.load_mnist(args, n_train=2000 if args.quick else None, n_test=500 if args.quick else None)
    zero_init(args, data, rng)
    compare_on_mnist(args, data, rng)


if __name__ == "__main__":
    main()
