"""The ``zerodl`` command: ``zerodl train|evaluate|predict|summary`` (also ``python -m zerodl``).

No Python traceback reaches the user: every failure ends as one line ``zerodl: error: ...``
(exit 2 for usage and bad input, 1 for a failure while running), Ctrl-C as one line
``zerodl: interrupted: ...`` (exit 130), and a closed pipe (``zerodl summary M | head``)
silently. ``ZERODL_TRACEBACK=1`` lets unexpected exceptions through, for debugging zerodl.
"""
import argparse
import os
import sys

from . import commands, tune
from .errors import CommandError, one_line, os_failure
from .presets import DATASETS


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one ``zerodl: error:`` line (no usage block), exit 2."""

    def error(self, message):
        _fail("error", f"{message} (see '{self.prog} --help')", 2)
        raise SystemExit(2)


KERAS_SCALE_HELP = ("Keras model files only: the model input is the raw pixel times SCALE "
                    "(default: 1/255 for 8-bit images and MNIST, 1/16 for digits, i.e. inputs in "
                    "[0, 1] as Keras scripts divide by 255); the input shape and channels-last "
                    "layout come from the model's keras.Input")


def build_parser():
    p = _Parser(prog="zerodl", description="Deep learning from zero, on NumPy.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on a named data set (default: the embedded digits)")
    t.add_argument("--dataset", default="digits", choices=DATASETS)
    t.add_argument("--model", choices=("mlp", "cnn"), default=None, help="default: cnn for images, mlp for spiral")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--optimizer", default="adam")
    t.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (or set ZERODL_DATA)")
    t.add_argument("--out", default=None, help="output folder (default: a new ./runs/<timestamp>); "
                   "an interrupted run found there is resumed")
    t.add_argument("--overwrite", action="store_true", help="replace the model of an earlier run in --out")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None, metavar="N",
                   help="compute with N threads (BLAS, Numba and zerodl's own; zd.set_num_threads). "
                        "Default: zerodl's default, see docs/benchmarks.md 'Thread control'")
    t.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    t.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI: mpiexec -n N zerodl train --distributed (rank 0 writes)")

    e = sub.add_parser("evaluate", help="accuracy of a saved model on its data set's test split")
    e.add_argument("model")
    e.add_argument("--dataset", default=None, choices=DATASETS,
                   help="the data set to test on: needed for a Keras model file (model.save), "
                        "else the one the file was trained on")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--scale", type=float, default=None, help=KERAS_SCALE_HELP)

    pr = sub.add_parser("predict", help="classify PNG/JPEG images or .npy arrays with a saved model")
    pr.add_argument("model")
    pr.add_argument("inputs", nargs="+", metavar="IMAGE",
                    help="PNG/JPEG images (grayscale, bright ink on dark) or .npy arrays; for a Keras "
                         "model a .npy holds the model's own units and shape (H, W) or (N, H, W)")
    pr.add_argument("--scale", type=float, default=None, help=KERAS_SCALE_HELP)

    s = sub.add_parser("summary", help="print the layers of a saved model")
    s.add_argument("model")

    tune.add_parser(sub)
    return p


def main(argv=None):
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # --help (0) or a usage error, already printed (2)
            return e.code if isinstance(e.code, int) else 2
        handler = getattr(args, "run", None) or getattr(commands, args.command)
        return handler(args)
    except CommandError as e:
        return _fail(e.prefix, e, e.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", "stopped by Ctrl-C", 130)
    except BrokenPipeError:  # the reader went away (`zerodl summary M | head`): end quietly
        _silence_stdout()
        return 141
    except OSError as e:
        return _fail("error", os_failure(e, "go on"), 1)
    except Exception as e:  # noqa: BLE001 - the last resort: one line, never a traceback
        if os.environ.get("ZERODL_TRACEBACK"):
            raise
        return _fail("error", f"{type(e).__name__}: {e} (a bug in zerodl? ZERODL_TRACEBACK=1 shows where)", 1)


def _fail(prefix, message, code):
    if code == 130 and sys.stderr.isatty():
        print(file=sys.stderr)  # off the progress bar's line
    try:
        print(f"zerodl: {prefix}: {one_line(message)}", file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass
    return code


def _silence_stdout():
    """Point stdout at /dev/null so that Python's final flush does not complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
