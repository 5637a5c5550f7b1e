"""Chapter 3: the forward pass of the book's 3-layer network, with ``zerodl.functions``.

``a1 = x @ W1 + b1; z1 = sigmoid(a1); a2 = z1 @ W2 + b2; z2 = sigmoid(a2); y = z2 @ W3 + b3``
with the book's ``init_network()`` values. For x = [1.0, 0.5] the book prints
y = [0.31682708, 0.69627909] (identity output); ``softmax(y)`` turns it into probabilities.
Also: the stable softmax on large inputs, a batch of inputs at once, and a figure of the
activation functions (step, sigmoid, ReLU, tanh) with their derivatives from ``backward()``.

    python examples/forward_pass.py [--quick] [--out DIR]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F

import _common as C

BOOK_Y = np.array([0.31682708, 0.69627909])


def init_network():
    """The book's hand-set weights (ch. 3.4.3), float64 like the book."""
    t = lambda v: zd.tensor(v, dtype=np.float64)  # noqa: E731
    return {
        "W1": t([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": t([0.1, 0.2, 0.3]),
        "W2": t([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": t([0.1, 0.2]),
        "W3": t([[0.1, 0.3], [0.2, 0.4]]), "b3": t([0.1, 0.2]),
    }


def forward(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    a1 = x @ W1 + b1              # the same as F.linear(x, W1, b1)
    z1 = F.sigmoid(a1)
    a2 = z1 @ W2 + b2
    z2 = F.sigmoid(a2)
    a3 = F.linear(z2, W3, b3)
    y = F.identity(a3)            # regression: identity; classification: softmax
    return y


def main(argv=None):
    args = C.parse_args(__doc__.splitlines()[0], __file__, argv)
    C.seed_everything(args.seed)
    np.set_printoptions(precision=8, suppress=True)

    network = init_network()
    x = zd.tensor([1.0, 0.5], dtype=np.float64)
    y = forward(network, x)
    print(f"x = {x.data}")
    print(f"y = {y.data}   (book: {BOOK_Y})")
    err = float(np.abs(y.data - BOOK_Y).max())
    C.result("forward_max_abs_diff_vs_book", err, "{:.2e}")
    assert err < 1e-7, "forward pass does not match the book"
    p = F.softmax(y)
    print(f"softmax(y) = {p.data}   (sums to {p.data.sum():.6f})")

    # The book's softmax example and the overflow that the stable form avoids.
    a = zd.tensor([0.3, 2.9, 4.0], dtype=np.float64)
    print(f"softmax([0.3, 2.9, 4.0]) = {F.softmax(a).data}   (book: [0.01821127 0.24519181 0.73659691])")
    big = zd.tensor([1010.0, 1000.0, 990.0], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(big.data) / np.exp(big.data).sum()
    print(f"naive softmax([1010, 1000, 990]) = {naive}; F.softmax = {F.softmax(big).data}")

    # A batch: the same network on several inputs at once (rows of X).
    X = zd.tensor([[1.0, 0.5], [0.0, 0.0], [-1.0, 2.0]], dtype=np.float64)
    Y = forward(network, X)
    print(f"batch of {len(X)} inputs -> outputs of shape {Y.shape}:\n{Y.data}")

    # Figure: the activation functions and their derivatives (by backward()).
    plt = C.pyplot()
    xs = np.linspace(-5, 5, 501)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, fn, color in (("step", F.step, "C0"), ("sigmoid", F.sigmoid, "C1"),
                            ("ReLU", F.relu, "C2"), ("tanh", F.tanh, "C3")):
        v = zd.tensor(xs, requires_grad=True, dtype=np.float64)
        out = fn(v)
        axes[0].plot(xs, out.data, label=name, color=color, ls="--" if name == "step" else "-")
        if name != "step":  # step is not differentiable
            out.sum().backward()
            axes[1].plot(xs, v.grad, label=f"d {name}/dx", color=color)
    axes[1].plot(xs, np.zeros_like(xs), ls="--", color="C0", label="d step/dx (0 almost everywhere)")
    axes[0].set_title("activation functions")
    axes[1].set_title("their derivatives (from backward())")
    for ax in axes:
        ax.set_xlabel("x")
        ax.set_ylim(-1.1, 1.6)
        ax.grid(alpha=0.3)
        ax.legend()
    C.save_figure(fig, args, "activations.png")


if __name__ == "__main__":
    main()
