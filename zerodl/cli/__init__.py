"""The ``zerodl`` command: ``zerodl train|evaluate|predict|summary`` (also ``python -m zerodl``)."""
import argparse
import sys

from . import tune
from .presets import DATASETS


def build_parser():
    p = argparse.ArgumentParser(prog="zerodl", description="Deep learning from zero, on NumPy.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on a named data set (default: the embedded digits)")
    t.add_argument("--dataset", default="digits", choices=DATASETS)
    t.add_argument("--model", choices=("mlp", "cnn"), default=None, help="default: cnn for images, mlp for spiral")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--optimizer", default="adam")
    t.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (or set ZERODL_DATA)")
    t.add_argument("--out", default=None, help="output folder (default ./runs/<timestamp>)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))

    e = sub.add_parser("evaluate", help="accuracy of a saved model on its data set's test split")
    e.add_argument("model")
    e.add_argument("--data-dir", default=None)

    pr = sub.add_parser("predict", help="classify PNG/JPEG images or .npy arrays with a saved model")
    pr.add_argument("model")
    pr.add_argument("inputs", nargs="+", metavar="IMAGE")

    s = sub.add_parser("summary", help="print the layers of a saved model")
    s.add_argument("model")

    tune.add_parser(sub)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    from . import commands

    try:
        handler = getattr(args, "run", None) or getattr(commands, args.command)
        return handler(args)
    except commands.CommandError as e:
        print(f"zerodl: error: {e}", file=sys.stderr)
        return 2
