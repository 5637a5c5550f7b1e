"""Helpers shared by the example scripts (not an example itself).

Every example accepts the same options::

    python examples/NAME.py [--data-dir DIR] [--quick] [--out DIR] [--seed N]

``--data-dir``  folder holding the four MNIST IDX files (gzipped or not). Default: ``$ZERODL_DATA``,
                else ``../shared/data/mnist`` (relative to the current folder) when it exists.
``--quick``     a few seconds on a small slice (for CI). With ``--quick`` and no MNIST files at
                hand, a small stand-in is used: the embedded 8x8 digits enlarged to 28x28, so
                that CI never needs downloaded data.
``--out``       where figures go. Default: ``runs/examples/<script name>/`` under the current
                folder (``runs/`` is ignored by git), so a run never touches the committed
                reference figures.
``--reference`` write into ``examples/out/<script name>/``, the committed reference figures
                (a full run only: refused with ``--quick``, as is an ``--out`` inside
                ``examples/out/``).

Figures are written as PNG with matplotlib's Agg backend (no screen needed). Figures of
merit are printed as ``result: name = value`` lines, easy to grep.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import matplotlib

if not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

EXAMPLES_DIR = Path(__file__).resolve().parent
DEFAULT_SHARED_MNIST = Path("..") / "shared" / "data" / "mnist"
_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# ----------------------------------------------------------------------------- arguments
def parse_args(description: str, script: str, argv=None, extra=None,
               **int_options: str) -> argparse.Namespace:
    """The common options; ``extra(parser)`` may add script-specific ones.

    ``description``: the script's ``__doc__`` (its first line is the help text). ``script`` is
    the caller's ``__file__``: it names the default output folder. Each keyword adds an integer
    option that defaults to None (the script picks the value then, e.g. a smaller one with
    ``--quick``): ``iters="help text"`` adds ``--iters N``, ``batch_size=...`` ``--batch-size N``.
    """
    name = Path(script).stem
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description.strip().splitlines()[0])
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST IDX files (default: $ZERODL_DATA, "
                             "else ../shared/data/mnist if it exists)")
    parser.add_argument("--quick", action="store_true",
                        help="run on a small slice in a few seconds (CI)")
    parser.add_argument("--out", default=None,
                        help=f"folder for figures (default: runs/examples/{name}/)")
    parser.add_argument("--reference", action="store_true",
                        help=f"write the committed reference figures (examples/out/{name}/; "
                             "a full run, not with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    for option, help_text in int_options.items():
        parser.add_argument("--" + option.replace("_", "-"), type=int, default=None, help=help_text)
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.name = name
    args.out = output_folder(parser, args, name)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.data_dir is None:
        env = os.environ.get("ZERODL_DATA")
        if env:
            args.data_dir = env
        elif DEFAULT_SHARED_MNIST.is_dir():
            args.data_dir = str(DEFAULT_SHARED_MNIST)
    return args


def output_folder(parser, args, name) -> Path:
    """``--out`` / ``--reference`` / the default (see the module docstring) as a Path; the
    committed reference figures are written only by an explicit full run."""
    reference = EXAMPLES_DIR / "out"
    if args.reference:
        if args.out:
            parser.error("--reference and --out name two different folders: give one")
        out = reference / name
    else:
        out = Path(args.out) if args.out else Path("runs") / "examples" / name
    inside = out.resolve() == reference.resolve() or reference.resolve() in out.resolve().parents
    if args.quick and inside:
        parser.error(f"--quick does not write into {reference} (the committed reference figures); "
                     "drop --quick for a full run, or choose another --out")
    return out


def seed_everything(seed: int) -> np.random.Generator:
    """Seed zerodl (initialisers, dropout, shuffling) and return a NumPy generator for the
    script's own draws (mini-batch indices, as the book's ``np.random.choice``)."""
    import zerodl as zd

    zd.manual_seed(seed)
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- data
def _has_mnist(folder) -> bool:
    if folder is None:
        return False
    folder = Path(folder)
    for sub in (folder / "mnist", folder):
        if all((sub / f).exists() or (sub / (f + ".gz")).exists() for f in _MNIST_FILES):
            return True
    return False


def digits_28x28():
    """A small MNIST stand-in: the embedded UCI 8x8 digits enlarged 3x (24x24), padded to
    28x28, uint8 in 0..255. Returns ``(x_train, t_train), (x_test, t_test)`` (1497 / 300)."""
    from zerodl.data import datasets

    x, t = datasets.digits()
    x = np.kron(x.astype(np.float32) / 16.0, np.ones((3, 3), np.float32))
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    x = (x * 255).round().astype(np.uint8)
    return (x[:1497], t[:1497]), (x[1497:], t[1497:])


def load_mnist(args, n_train=None, n_test=None, flatten=True, quiet=False):
    """MNIST as float32 in [0, 1] (flattened to 784 unless ``flatten=False``) and int64 labels.

    Returns ``(x_train, t_train), (x_test, t_test)``, the first ``n_train`` / ``n_test``
    samples of each split (all when None). Sets ``args.data_source`` for the report.
    With ``--quick`` and no MNIST files at hand, uses :func:`digits_28x28` instead.
    """
    from zerodl.data import datasets

    if _has_mnist(args.data_dir) or not args.quick:
        try:
            x_train, t_train = datasets.mnist(root=args.data_dir, train=True,
                                              download=not args.quick)
            x_test, t_test = datasets.mnist(root=args.data_dir, train=False,
                                            download=not args.quick)
        except Exception as e:  # noqa: BLE001 - report and stop: no figure of merit without data
            sys.exit(f"{args.name}: MNIST not available ({e}).\n"
                     "Pass --data-dir FOLDER (the four IDX files) or set ZERODL_DATA; "
                     "--quick runs on a stand-in without it.")
        args.data_source = f"MNIST ({args.data_dir or 'zerodl cache'})"
    else:
        (x_train, t_train), (x_test, t_test) = digits_28x28()
        args.data_source = "stand-in: 8x8 digits enlarged to 28x28 (no MNIST files found)"
    if n_train is not None:
        x_train, t_train = x_train[:n_train], t_train[:n_train]
    if n_test is not None:
        x_test, t_test = x_test[:n_test], t_test[:n_test]
    x_train = x_train.astype(np.float32) / 255.0
    x_test = x_test.astype(np.float32) / 255.0
    if flatten:
        x_train = x_train.reshape(len(x_train), -1)
        x_test = x_test.reshape(len(x_test), -1)
    if not quiet:
        print(f"data: {args.data_source}: {len(x_train)} training / {len(x_test)} test images")
    return (x_train, t_train.astype(np.int64)), (x_test, t_test.astype(np.int64))


def load_mnist_images(args, n_train=None, n_test=None):
    """:func:`load_mnist` as images for the convolutional nets: arrays of shape (N, 1, 28, 28)."""
    (x_train, t_train), (x_test, t_test) = load_mnist(args, n_train, n_test, flatten=False)
    return (x_train.reshape(-1, 1, 28, 28), t_train), (x_test.reshape(-1, 1, 28, 28), t_test)


def keras_setup(args) -> bool:
    """Before a Keras article's script: ``--data-dir`` becomes ``$ZERODL_DATA`` (which
    ``keras.datasets.mnist.load_data()`` reads) and zerodl is seeded (its initialisers have
    their own generator; the article seeds NumPy only). Returns True when the script must use
    the stand-in (``--quick`` without MNIST files)."""
    import zerodl as zd

    if args.data_dir:
        os.environ["ZERODL_DATA"] = str(args.data_dir)
    zd.manual_seed(args.seed)
    return args.quick and not _has_mnist(args.data_dir)


# ----------------------------------------------------------------------------- models
def linear_layers(model):
    """The ``nn.Linear`` layers of a model, in order."""
    import zerodl.nn as nn

    return [m for m in _modules(model) if isinstance(m, nn.Linear)]


def _modules(module):
    yield module
    for child in module.children():
        yield from _modules(child)


def weight_and_bias(layer):
    """``(W, b)`` of a Linear layer (W of shape (in, out), as in the book)."""
    params = dict(layer.named_parameters())
    w = params.get("weight", params.get("W"))
    b = params.get("bias", params.get("b"))
    return w, b


def mlp(sizes, activation="relu", weight_std="he", batchnorm=False, dropout=0.0, bn_eps=1e-5):
    """The book's ``MultiLayerNet(Extend)`` as an ``nn.Sequential``.

    ``sizes`` = [input, hidden..., output]. Each hidden layer: Linear, [BatchNorm1d], activation,
    [Dropout]. ``weight_std`` is a number (normal with that std; biases zero), ``"he"``
    (std sqrt(2/fan_in), for ReLU), ``"xavier"`` (std sqrt(1/fan_in), the book's Xavier) or
    ``"zeros"`` (every weight 0, to show why that fails). ``bn_eps``: BatchNorm1d's eps
    (PyTorch's 1e-5 by default; the book uses 1e-7).
    """
    import zerodl.nn as nn

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(n_in, n_out)
        init_linear(lin, weight_std)
        layers.append(lin)
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out, eps=bn_eps))
            layers.append(acts[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def init_linear(lin, weight_std):
    """Set a Linear layer's weights as the book does (normal, scaled) and its bias to 0."""
    import zerodl.nn as nn

    w, b = weight_and_bias(lin)
    n_in = w.shape[0]
    if weight_std == "zeros":
        nn.init.zeros_(w)
    else:
        std = {"he": np.sqrt(2.0 / n_in), "xavier": np.sqrt(1.0 / n_in)}.get(weight_std, weight_std)
        nn.init.normal_(w, std=float(std))
    if b is not None:
        nn.init.zeros_(b)


def accuracy(model, x, t, batch_size=2000):
    """Accuracy of ``model`` on (x, t) in eval mode, without building a graph."""
    import zerodl as zd

    was_training = model.training
    model.eval()
    correct = 0
    with zd.no_grad():
        for i in range(0, len(x), batch_size):
            y = model(zd.tensor(x[i:i + batch_size]))
            correct += int((y.data.argmax(axis=1) == t[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / len(x)


def weight_decay_penalty(model, lam):
    """The book's L2 penalty ``0.5 * lam * sum(W**2)`` over every Linear weight (not biases)."""
    total = 0.0
    for lin in linear_layers(model):
        w, _ = weight_and_bias(lin)
        total = total + (w * w).sum()
    return 0.5 * lam * total


# ----------------------------------------------------------------------------- output
def pyplot():
    import matplotlib.pyplot as plt

    return plt


def decorate(ax, xlabel, ylabel, title=None, ylim=None, legend=True, grid_which="major"):
    """The usual finish of a panel: axis labels, optional title and y range, a light grid and
    a legend (``legend``: True, False, or a dict of ``ax.legend`` keywords such as ``loc``)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3, which=grid_which)
    if legend:
        ax.legend(**(legend if isinstance(legend, dict) else {}))


def smooth_curve(x, window=11):
    """The book's smoothing for loss curves (a Kaiser window, as in common/util.py)."""
    x = np.asarray(x)
    if len(x) < window:
        return x
    s = np.r_[x[window - 1:0:-1], x, x[-1:-window:-1]]
    w = np.kaiser(window, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def loss_curves_figure(args, losses, filename, title, ylim, markers="oxsD^"):
    """The book's comparison figure: one smoothed training-loss curve per setting
    (``losses``: name -> list of mini-batch losses), and ``result: mnist_final_loss_NAME``
    (the mean of the last 100 mini-batch losses) for each."""
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    for name, marker in zip(losses, markers):
        curve = smooth_curve(losses[name])
        ax.plot(np.arange(len(curve)), curve, marker=marker, markevery=max(len(curve) // 20, 1),
                label=name)
        result(f"mnist_final_loss_{name}", float(np.mean(losses[name][-100:])))
    print("  (final loss = mean of the last 100 mini-batch losses)")
    decorate(ax, "iterations", "loss", title=title, ylim=ylim)
    return save_figure(fig, args, filename)


def epoch_learning_curve(args, logs, title, book_accuracy, book_label, train_loss_label="train loss",
                         loss_title=None, train_acc_label=None, ylim_margin=0.01):
    """``learning_curve.png`` of a ``model.fit`` history with the test set as validation data:
    train and test loss per epoch (left); test accuracy (and the training accuracy when
    ``train_acc_label`` is given) per epoch with the book's figure as a dotted line (right)."""
    fig, (ax0, ax1) = pyplot().subplots(1, 2, figsize=(11, 4))
    ep = np.arange(1, len(logs["loss"]) + 1)
    ax0.plot(ep, logs["loss"], marker="o", label=train_loss_label)
    ax0.plot(ep, logs["val_loss"], marker="s", ls="--", label="test loss")
    decorate(ax0, "epoch", "cross entropy", title=loss_title)
    shown = list(logs["val_accuracy"])
    if train_acc_label:
        ax1.plot(ep, logs["accuracy"], marker="o", label=train_acc_label)
        shown += list(logs["accuracy"])
    ax1.plot(ep, logs["val_accuracy"], marker="s", ls="--", color="tab:orange", label="test acc")
    ax1.axhline(book_accuracy, color="gray", lw=0.8, ls=":", label=book_label)
    decorate(ax1, "epoch", "accuracy", title=title, ylim=(max(0.0, min(shown) - ylim_margin), 1.0),
             legend={"loc": "lower right"})
    return save_figure(fig, args, "learning_curve.png")


def keras_report(args, log, seconds, accuracy, stand_in, sizes, title, best_epoch=False,
                 per_epoch_fmt="{:.1f}"):
    """After a Keras article's script: the data line, the ``result:`` lines (epochs run, with
    ``best_epoch`` the epoch of the lowest val_loss, time, last validation and test accuracy)
    and ``learning_curve.png`` (``zerodl.utils.plots.plot_history``).
    ``sizes``: (training, validation, test) sample counts; ``title`` names the model."""
    from zerodl.utils.plots import plot_history

    data = "stand-in digits" if stand_in else "MNIST"
    print(f"data: {data}: {sizes[0]} training / {sizes[1]} validation / {sizes[2]} test")
    n_epochs = len(log.history["loss"])
    result("epochs_run", n_epochs)
    if best_epoch:
        result("best_val_loss_epoch", int(np.argmin(log.history["val_loss"])) + 1)
    result("training_seconds", seconds, "{:.1f}")
    result("seconds_per_epoch", seconds / n_epochs, per_epoch_fmt)
    result("val_accuracy_last_epoch", float(log.history["val_accuracy"][-1]))
    result("test_accuracy", float(accuracy))
    path = plot_history(log, str(Path(args.out) / "learning_curve.png"),
                        title=f"{title} (zerodl.keras): {n_epochs} epochs, test accuracy {accuracy:.4f}")
    print(f"figure: {path}")


def save_figure(fig, args, filename: str) -> Path:
    """Write ``fig`` under ``args.out`` as PNG, close it and print the path."""
    path = Path(args.out) / filename
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    print(f"figure: {path}")
    return path


def result(name: str, value, fmt: str = "{:.4f}") -> None:
    """Print one figure of merit as ``result: name = value``."""
    text = fmt.format(value) if isinstance(value, (float, np.floating)) else str(value)
    print(f"result: {name} = {text}")


class Timer:
    """``with Timer("training"):`` prints how long the block took."""

    def __init__(self, label):
        self.label = label

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        print(f"time: {self.label}: {self.seconds:.1f} s")
        return False
