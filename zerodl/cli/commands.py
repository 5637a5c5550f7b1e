"""What each ``zerodl`` sub-command does; the argument parsing is in ``zerodl/cli/__init__.py``."""
import json
import math
import sys
import warnings

import numpy as np

from .. import nn, optim
from ..callbacks import BackupAndRestore
from ..core import manual_seed, set_num_threads
from ..train import TrainingDiverged
from . import presets
from .errors import CommandError, Interrupted, RunFailure, need_file, need_folder, one_line, os_failure
from .images import read_inputs
from .parallel import Ranks
from .run_folder import HISTORY, MODEL, CheckWeights, HistoryCSV, RunFolder, WeightsNotFinite, first_non_finite

OPTIMIZERS = optim.names.OPTIMIZERS  # the table compile and the Keras facade use too


def train(args):
    """Train on a named data set; write model, history CSV and learning curve into the run
    folder (see ``run_folder``); resume an interrupted run found there. With ``--distributed``
    (or under ``mpiexec -n N``) the ranks train data-parallel and rank 0 writes (``parallel``)."""
    ranks = Ranks(getattr(args, "distributed", False))
    with ranks.abort_on_failure():
        return _train(args, ranks)


def _train(args, ranks):
    from ..utils.plots import plot_history

    _check_numbers(args)
    if getattr(args, "threads", None) is not None:
        _set_threads(args.threads)
    kind = args.model or ("mlp" if args.dataset == "spiral" else "cnn")
    if kind == "cnn" and args.dataset == "spiral":
        raise CommandError("the spiral data set has 2-D points, not images: use --model mlp")
    name = args.optimizer.lower()
    try:  # --lr, or the optimizer's own default (PyTorch's; see zerodl.optim.names)
        optim.names.resolve(name)
    except ValueError as e:
        raise CommandError(str(e)) from None
    lr = args.lr
    epochs = args.epochs or presets.DEFAULT_EPOCHS[args.dataset]
    x_train, t_train, x_test, t_test, info = _load_split(args.dataset, args.data_dir)
    x_train = presets.prepare(x_train, kind, info["pixel_max"])
    x_test = presets.prepare(x_test, kind, info["pixel_max"])

    options = {"dataset": args.dataset, "model": kind, "epochs": epochs, "batch_size": args.batch_size,
               "lr": lr, "optimizer": name, "seed": args.seed}
    run = ranks.folder(lambda: RunFolder(args.out, options, overwrite=args.overwrite))
    manual_seed(args.seed)
    model = presets.build_model(kind, x_train.shape[1:], info["classes"])
    opt = optim.names.create(name, model.parameters(), **({} if lr is None else {"lr": lr}))
    model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
    done = run.checkpoint_epochs() if run.resume and ranks.writer else None
    on = f" on {ranks.world_size} ranks (batch {args.batch_size} each)" if ranks.strategy is not None else ""
    if done is not None:
        print(f"resuming the run in {run.path} after epoch {done} of {epochs}{on}")
    elif ranks.writer:
        print(f"training a {kind} on {args.dataset}: {len(x_train)} training samples, {epochs} epochs{on}")
    callbacks = [CheckWeights(), BackupAndRestore(run.checkpoint_dir, delete_checkpoint=False)]
    if ranks.writer:  # in a distributed run rank 0 writes
        callbacks.insert(1, HistoryCSV(run.file(HISTORY), keep_existing=run.resume))
    try:  # fit stops at the first NaN/Inf loss (TrainingDiverged), before the epoch's checkpoint
        history = model.fit(x_train, t_train, epochs=epochs, batch_size=args.batch_size,
                            validation_split=0.1, callbacks=callbacks, verbose=args.verbose,
                            distributed=ranks.strategy if ranks.strategy is not None else False)
        result = model.evaluate(x_test, t_test, batch_size=500)
    except TrainingDiverged as d:
        raise RunFailure(f"training diverged: the loss became {d.loss} at epoch {d.epoch + 1}, batch "
                         f"{d.batch + 1} (try a smaller --lr); no model was saved; " + _kept(run)) from None
    except WeightsNotFinite as d:
        raise RunFailure(f"training diverged: {d} (try a smaller --lr); no model was saved; "
                         + _kept(run)) from None
    except KeyboardInterrupt:
        raise Interrupted(_kept(run, resume_hint=True)) from None
    if not ranks.writer:
        return 0
    print(f"test loss: {result['loss']:.4f}  test accuracy: {result['accuracy']:.4f}")

    model_path = run.file(MODEL)
    meta = {
        "dataset": args.dataset, "model": kind, "input_shape": list(x_train.shape[1:]),
        "pixel_max": info["pixel_max"], "classes": info["classes"],
        "test_accuracy": result["accuracy"], "epochs": len(history.history["loss"]),
    }
    try:
        nn.save_model(model, model_path, metadata={"zerodl.cli": json.dumps(meta)})
        plot_path = plot_history(history, run.file("learning_curve.png"), title=f"{kind} on {args.dataset}")
    except OSError as e:
        raise os_failure(e, "write the results") from None
    run.drop_checkpoint()
    print(f"wrote {model_path}\nwrote {plot_path}")
    return 0


def _kept(run, resume_hint=False):
    """What an unfinished run leaves in its folder, in words."""
    epochs = run.checkpoint_epochs()
    if epochs is None:
        return f"no epoch had finished, so no checkpoint was kept in {run.path}"
    text = (f"{run.file(HISTORY)} has the {epochs} finished epoch{'s' * (epochs != 1)} and "
            f"{run.checkpoint_file} the last finite checkpoint (after epoch {epochs})")
    if resume_hint:
        text += f"; run the same command with --out {run.path} to resume"
    return text


def _load_split(dataset, data_dir):
    if data_dir is not None:
        need_folder(data_dir, "--data-dir folder")
    try:
        return presets.load_split(dataset, data_dir)
    except (FileNotFoundError, ValueError) as e:
        raise CommandError(one_line(e)) from None
    except OSError as e:
        raise os_failure(e, f"read the {dataset} data") from None


def _set_threads(n):
    """``zd.set_num_threads(n)``, its warning (no threadpoolctl) as one ``zerodl: warning:`` line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        set_num_threads(n)
    for w in caught:
        print(f"zerodl: warning: {one_line(w.message)}", file=sys.stderr, flush=True)


def _check_numbers(args):
    """Refuse bad --epochs / --batch-size / --lr before loading or training anything."""
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                          ("--threads", getattr(args, "threads", None))):
        if value is not None and value < 1:
            raise CommandError(f"{option} must be a positive integer, got {value}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise CommandError(f"--lr must be a positive number, got {args.lr}")


def _load(path, finite=False):
    """Load a model file and the CLI facts stored with it; with ``finite``, refuse a model
    whose weights hold NaN or Inf (one saved from a diverged run). A file saved by
    ``zerodl.keras`` gets the facts its model knows: kind ``KERAS`` and its input shape."""
    need_file(path, "model file")
    try:
        model, meta = nn.load_model(path, with_metadata=True)
        facts = json.loads(meta["zerodl.cli"]) if "zerodl.cli" in meta else {}
        if meta.get("facade") == "zerodl.keras" and not facts:
            facts = _keras_facts(model, meta)
    except PermissionError as e:
        raise os_failure(e, "read the model file") from None
    except (ValueError, OSError, KeyError, TypeError) as e:
        raise CommandError(f"{path}: cannot load the model ({one_line(e)})") from None
    bad = first_non_finite(model) if finite else None
    if bad:
        raise CommandError(f"{path}: the weights of {bad} are not finite (NaN or Inf): the model "
                           "comes from a diverged training run and cannot predict")
    return model, facts


def _keras_facts(model, meta):
    """A Keras model's per-sample input shape, from its ``keras.Input`` (else the file's record)."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) == 1:
        shape = list(inputs[0].shape)
    elif "input_shape" in meta:
        shape = json.loads(meta["input_shape"])
    else:
        return {"model": presets.KERAS}
    return {"model": presets.KERAS, "input_shape": [int(d) for d in shape[1:]]}


def _scale(args, facts):
    """``--scale`` checked: None for the default (a ``zerodl train`` file's own pixel_max; for a
    Keras model 1/pixel_max of the data set, 1/255 for images: [0, 1] inputs, as Keras scripts)."""
    if args.scale is None:
        return None
    if facts.get("model") != presets.KERAS:
        raise CommandError("--scale is for Keras model files; a file from zerodl train "
                           "records its own pixel scale")
    if not (math.isfinite(args.scale) and args.scale > 0):
        raise CommandError(f"--scale must be a positive number, got {args.scale}")
    return args.scale


def _need_input_shape(path, facts):
    if "input_shape" not in facts:
        hint = (": give its first layer keras.Input(shape=...) before saving"
                if facts.get("model") == presets.KERAS else "")
        raise CommandError(f"{path}: the file does not record its input shape{hint}")
    return tuple(facts["input_shape"])


def evaluate(args):
    """Accuracy of a saved model on its data set's test split (``--dataset`` for Keras files)."""
    model, facts = _load(args.model, finite=True)
    dataset = args.dataset or facts.get("dataset")
    if dataset is None:
        raise CommandError(f"{args.model}: the file does not say which data set it was trained on; "
                           f"pass --dataset ({', '.join(presets.DATASETS)})")
    keras = facts.get("model") == presets.KERAS
    shape = _need_input_shape(args.model, facts) if keras else None
    scale = _scale(args, facts)
    _, _, x_test, t_test, info = _load_split(dataset, args.data_dir)
    try:
        divisor = info["pixel_max"] if scale is None else 1.0 / scale
        x_test = presets.prepare(x_test, facts["model"], divisor, shape)
    except ValueError as e:
        raise CommandError(f"{args.model}: the {dataset} test set does not fit the model ({one_line(e)})") from None
    if keras:
        loss = _keras_loss(model, x_test, t_test)
        right = int((model.predict(x_test, batch_size=500, verbose=0).argmax(axis=1) == t_test).sum())
        result = {"loss": loss, "accuracy": right / len(x_test)}
    else:
        model.compile(loss="cross_entropy", metrics=["accuracy"])
        result = model.evaluate(x_test, t_test, batch_size=500)
        right = int(round(result["accuracy"] * len(x_test)))
    loss = "n/a (not compiled)" if result["loss"] is None else f"{result['loss']:.4f}"
    print(f"{dataset} test set ({len(x_test)} samples): "
          f"loss {loss}  accuracy {result['accuracy']:.4f} ({right}/{len(x_test)})")
    return 0


def _keras_loss(model, x, t):
    """The loss the Keras model was compiled with, or None (a file stores plain loss names only)."""
    if not any(lo is not None for lo in model.__dict__.get("compiled_loss") or []):
        return None
    logs = model.evaluate(x, t, batch_size=500, verbose=0, return_dict=True)
    return logs["loss"]


def predict(args):
    """Class and probability for each input image or array."""
    from ..functions import softmax

    model, facts = _load(args.model, finite=True)
    shape = _need_input_shape(args.model, facts)
    keras = facts.get("model") == presets.KERAS
    if keras:
        image_shape = shape[:2] if len(shape) == 3 and shape[2] == 1 else shape
    else:
        image_shape = shape[1:] if facts.get("model") == "cnn" else None
    if len(image_shape or shape) == 1:
        side = int(round(np.sqrt(shape[0])))
        image_shape = (side, side) if side * side == shape[0] else shape
    scale = _scale(args, facts)
    # a Keras model takes images times --scale and .npy arrays in its own units, so divide by 1
    pixel_max = (255.0 * (scale or 1 / 255.0)) if keras else facts["pixel_max"]
    try:
        raw = read_inputs(args.inputs, image_shape, pixel_max)
        x = presets.prepare(raw, facts["model"], 1.0 if keras else pixel_max, shape)
    except ValueError as e:
        raise CommandError(one_line(e)) from None
    out = model.predict(x, batch_size=500)
    if keras:
        probs = np.asarray(out, dtype=np.float64)
        if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4) or (probs < 0).any():
            probs = softmax(out).data  # the model ends in logits, not a softmax
    else:
        probs = softmax(out).data
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
