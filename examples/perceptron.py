"""Chapter 2: the perceptron.

1. AND, NAND and OR gates with weights set by hand (``y = step(x @ w + b)``), and XOR built
   from two layers of them (XOR = AND(NAND, OR)): a single perceptron cannot draw XOR's
   boundary, two layers can. Truth tables are printed.
2. A perceptron that learns AND and OR by itself with Rosenblatt's rule
   ``w += eta * (t - y) * x``, ``b += eta * (t - y)``: the learned weights and the number of
   epochs until every input is classified correctly are printed. On XOR the rule never
   converges (no straight line separates it).
3. A figure of each gate's decision boundary over the unit square.

    python examples/perceptron.py [--quick] [--out DIR]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F

import _common as C

X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)


def perceptron(x, w, b):
    """One perceptron: 1 if x . w + b > 0, else 0 (``F.step``)."""
    return F.step(zd.tensor(x) @ zd.tensor(w) + b).data


# The book's hand-set weights (ch. 2.3).
def AND(x):
    return perceptron(x, [0.5, 0.5], -0.7)


def NAND(x):
    return perceptron(x, [-0.5, -0.5], 0.7)


def OR(x):
    return perceptron(x, [0.5, 0.5], -0.2)


def XOR(x):
    """Two layers: s1 = NAND(x), s2 = OR(x), y = AND(s1, s2)."""
    s = np.stack([NAND(x), OR(x)], axis=-1)
    return AND(s)


def truth_table(name, gate):
    print(f"\n{name}\n x1 x2 | y")
    ys = gate(X)
    for (x1, x2), y in zip(X, ys):
        print(f"  {int(x1)}  {int(x2)} | {int(y)}")
    return [int(v) for v in ys]


def learn(t, eta=0.1, max_epochs=100, seed=0):
    """Rosenblatt's perceptron rule on the four inputs. Returns (w, b, epochs or None)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.1, size=2).astype(np.float32)
    b = np.float32(0.0)
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for x, target in zip(X, t):
            y = perceptron(x[None], w, b)[0]
            if y != target:
                w = w + eta * (target - y) * x
                b = b + eta * (target - y)
                errors += 1
        if errors == 0:
            return w, b, epoch
    return w, b, None


def main(argv=None):
    args = C.parse_args(__doc__.splitlines()[0], __file__, argv)
    C.seed_everything(args.seed)

    expected = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    gates = {"AND": AND, "NAND": NAND, "OR": OR, "XOR": XOR}
    all_ok = True
    for name, gate in gates.items():
        ys = truth_table(name + (" (two layers: AND(NAND(x), OR(x)))" if name == "XOR" else ""), gate)
        all_ok &= ys == expected[name]
    C.result("hand_set_gates_correct", all_ok)

    print("\nLearning with the perceptron rule (eta = 0.1):")
    learned = {}
    for name in ("AND", "OR", "NAND", "XOR"):
        t = np.array(expected[name], dtype=np.float32)
        w, b, epochs = learn(t, seed=args.seed, max_epochs=20 if args.quick else 100)
        learned[name] = (w, b)
        if epochs is None:
            print(f"  {name:4s}: did not converge (no line separates it): "
                  f"w = {np.round(w, 3)}, b = {b:.3f}")
        else:
            print(f"  {name:4s}: w = {np.round(w, 3)}, b = {b:.3f}, converged after {epochs} epochs")
            C.result(f"learned_{name}_epochs", epochs)
        C.result(f"learned_{name}_truth_table", [int(v) for v in perceptron(X, w, b)])

    # Decision regions of the hand-set gates, XOR and the learned AND/OR.
    plt = C.pyplot()
    g = np.linspace(-0.5, 1.5, 201, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    panels = [("AND", AND), ("NAND", NAND), ("OR", OR), ("XOR (2 layers)", XOR),
              ("learned AND", lambda x: perceptron(x, *learned["AND"])),
              ("learned OR", lambda x: perceptron(x, *learned["OR"]))]
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.5))
    for ax, (title, gate) in zip(axes.ravel(), panels):
        z = gate(grid).reshape(gx.shape)
        ax.contourf(gx, gy, z, levels=[-0.5, 0.5, 1.5], colors=["#f3d9c6", "#c6dcf3"])
        ys = gate(X)
        for (x1, x2), y in zip(X, ys):
            ax.scatter(x1, x2, marker="o" if y else "x", s=80, c="k")
        ax.set_title(title)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal")
    fig.suptitle("Perceptrons: o = output 1, x = output 0 (blue region: 1)")
    C.save_figure(fig, args, "perceptron_gates.png")


if __name__ == "__main__":
    main()
