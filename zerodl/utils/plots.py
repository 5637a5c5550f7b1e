"""Figures with matplotlib (imported lazily, Agg backend: works without a screen)."""
import os

from ..io import atomic_write


def _pyplot():
    import matplotlib

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, path, title=None):
    """Learning curves: one panel per quantity (loss, then each metric), train and ``val_``.

    ``history`` is a ``History`` or its ``.history`` dict of per-epoch lists. Writes ``path``
    (PNG by extension) atomically and returns it.
    """
    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_") and k not in ("lr",)]
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label=f"train {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    ext = os.path.splitext(path)[1].lstrip(".") or "png"
    atomic_write(path, lambda f: fig.savefig(f, format=ext, dpi=100))
    plt.close(fig)
    return path
