"""What each ``zerodl`` sub-command does; the argument parsing is in ``zerodl/cli/__init__.py``."""
import datetime
import json
import math
import os

import numpy as np

from .. import io as zio
from .. import nn, optim
from ..core import manual_seed
from . import presets
from .images import read_inputs

OPTIMIZERS = optim.names.OPTIMIZERS  # the table compile and the Keras facade use too


class CommandError(Exception):
    """A user-facing error: printed as ``zerodl: error: ...`` with a non-zero exit."""


def train(args):
    """Train on a named data set; write model, history CSV and learning curve into ``--out``."""
    from ..callbacks import CSVLogger
    from ..utils.plots import plot_history

    _check_numbers(args)
    manual_seed(args.seed)
    kind = args.model or ("mlp" if args.dataset == "spiral" else "cnn")
    if kind == "cnn" and args.dataset == "spiral":
        raise CommandError("the spiral data set has 2-D points, not images: use --model mlp")
    try:
        x_train, t_train, x_test, t_test, info = presets.load_split(args.dataset, args.data_dir)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise CommandError(str(e)) from None
    x_train = presets.prepare(x_train, kind, info["pixel_max"])
    x_test = presets.prepare(x_test, kind, info["pixel_max"])
    model = presets.build_model(kind, x_train.shape[1:], info["classes"])

    try:  # --lr, or the optimizer's own default (PyTorch's; see zerodl.optim.names)
        opt = optim.names.create(args.optimizer, model.parameters(),
                                 **({} if args.lr is None else {"lr": args.lr}))
    except ValueError as e:
        raise CommandError(str(e)) from None
    model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])

    out = args.out or os.path.join("runs", datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    epochs = args.epochs or presets.DEFAULT_EPOCHS[args.dataset]
    print(f"training a {kind} on {args.dataset}: {len(x_train)} training samples, {epochs} epochs")
    history = model.fit(
        x_train, t_train, epochs=epochs, batch_size=args.batch_size, validation_split=0.1,
        callbacks=[CSVLogger(os.path.join(out, "history.csv"))], verbose=args.verbose,
    )
    result = model.evaluate(x_test, t_test, batch_size=500)
    print(f"test loss: {result['loss']:.4f}  test accuracy: {result['accuracy']:.4f}")

    model_path = os.path.join(out, "model.safetensors")
    meta = {
        "dataset": args.dataset, "model": kind, "input_shape": list(x_train.shape[1:]),
        "pixel_max": info["pixel_max"], "classes": info["classes"],
        "test_accuracy": result["accuracy"], "epochs": len(history.history["loss"]),
    }
    nn.save_model(model, model_path, metadata={"zerodl.cli": json.dumps(meta)})
    plot_path = plot_history(history, os.path.join(out, "learning_curve.png"),
                             title=f"{kind} on {args.dataset}")
    print(f"wrote {model_path}\nwrote {plot_path}")
    return 0


def _check_numbers(args):
    """Refuse bad --epochs / --batch-size / --lr before loading or training anything."""
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise CommandError(f"{option} must be a positive integer, got {value}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise CommandError(f"--lr must be a positive number, got {args.lr}")


def _load(path):
    """Load a model file and the CLI facts stored with it."""
    if not os.path.isfile(path):
        raise CommandError(f"{path}: no such model file")
    try:
        model = nn.load_model(path)
        meta = zio.load_metadata(path)
    except (ValueError, OSError, KeyError) as e:
        raise CommandError(f"{path}: cannot load the model ({e})") from None
    facts = json.loads(meta["zerodl.cli"]) if "zerodl.cli" in meta else {}
    return model, facts


def evaluate(args):
    """Accuracy of a saved model on its data set's test split."""
    model, facts = _load(args.model)
    if "dataset" not in facts:
        raise CommandError(f"{args.model}: the file does not say which data set it was trained on")
    try:
        _, _, x_test, t_test, info = presets.load_split(facts["dataset"], args.data_dir)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise CommandError(str(e)) from None
    x_test = presets.prepare(x_test, facts["model"], info["pixel_max"])
    model.compile(loss="cross_entropy", metrics=["accuracy"])
    result = model.evaluate(x_test, t_test, batch_size=500)
    print(f"{facts['dataset']} test set ({len(x_test)} samples): "
          f"loss {result['loss']:.4f}  accuracy {result['accuracy']:.4f}")
    return 0


def predict(args):
    """Class and probability for each input image or array."""
    from ..functions import softmax

    model, facts = _load(args.model)
    if "input_shape" not in facts:
        raise CommandError(f"{args.model}: the file does not record its input shape")
    shape = tuple(facts["input_shape"])
    image_shape = shape[1:] if facts.get("model") == "cnn" else None
    if image_shape is None:
        side = int(round(np.sqrt(shape[0])))
        image_shape = (side, side) if side * side == shape[0] else shape
    try:
        raw = read_inputs(args.inputs, image_shape, facts["pixel_max"])
    except ValueError as e:
        raise CommandError(str(e)) from None
    x = presets.prepare(raw, facts["model"], facts["pixel_max"])
    logits = model.predict(x, batch_size=500)
    probs = softmax(logits).data
    labels = probs.argmax(axis=1)
    names = list(args.inputs)
    if len(names) != len(labels):  # .npy files may hold several inputs each
        names = [f"input {i}" for i in range(len(labels))]
    for name, k, p in zip(names, labels, probs):
        print(f"{name}: {k} (p={p[k]:.3f})")
    return 0


def summary(args):
    """The layer table of a saved model."""
    model, facts = _load(args.model)
    shape = facts.get("input_shape")
    model.summary(input_shape=tuple(shape) if shape else None)
    return 0
