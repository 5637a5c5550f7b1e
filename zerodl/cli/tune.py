"""``zerodl tune``: hyper-parameter search with Optuna over a database that several workers share.

    zerodl tune                                   # embedded digits, 20 trials, runs/tune/study.db
    zerodl tune --workers 2 --trials 30           # two processes on one study
    zerodl tune --storage sqlite:///study.db      # start the same command elsewhere to add a worker
    zerodl tune --storage postgresql://user:pw@db-host/zerodl   # workers on several machines

Every worker loads (or creates) the study ``--study-name`` in ``--storage`` and takes trials
until the study holds ``--trials`` finished ones (complete or pruned), so N workers together
run ``--trials`` trials, each a different one (Optuna hands each trial number to one worker).
A trial trains the ``--model`` on the training split with the last 20 % held out for
validation, reports the validation accuracy after every epoch, and is pruned when that is
below the median of earlier trials at the same epoch (``--pruner median``). Each finished
trial's model is written to ``OUT/trials/trial-NNNN.safetensors``; at the end the best trial's
model is copied to ``OUT/best.safetensors`` (``zerodl evaluate`` and ``predict`` take it) and its
test accuracy is printed. The test split is never used while searching.

Searched: the optimizer (adam, sgd with momentum), its learning rate (log scale), weight
decay (log scale) and the batch size.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

from .. import io as zio
from .. import nn, optim
from ..callbacks import Callback
from ..core import manual_seed
from . import presets
from .errors import CommandError

__all__ = ["add_parser", "run"]

DEFAULT_TRIALS = {"digits": 20, "mnist": 10, "fashion-mnist": 10, "spiral": 20}
DEFAULT_EPOCHS = {"digits": 10, "mnist": 3, "fashion-mnist": 3, "spiral": 100}


def add_parser(sub):
    """Register ``zerodl tune`` on the ``zerodl`` sub-command parser ``sub``."""
    t = sub.add_parser("tune", help="hyper-parameter search with Optuna (trials shared through a database)")
    t.add_argument("--dataset", default="digits", choices=presets.DATASETS)
    t.add_argument("--model", choices=("mlp", "cnn"), default=None, help="default: mlp")
    t.add_argument("--trials", type=int, default=None, help="finished trials the study should hold (all workers)")
    t.add_argument("--epochs", type=int, default=None, help="epochs per trial")
    t.add_argument("--storage", default=None,
                   help="Optuna RDB URL (default sqlite:///OUT/study.db); postgresql://... or mysql://... for "
                        "workers on several machines")
    t.add_argument("--study-name", default="zerodl")
    t.add_argument("--workers", type=int, default=1, help="worker processes started on this machine")
    t.add_argument("--pruner", choices=("median", "none"), default="median")
    t.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (or set ZERODL_DATA)")
    t.add_argument("--out", default=os.path.join("runs", "tune"), help="output folder (default runs/tune)")
    t.add_argument("--seed", type=int, default=None, help="sampler seed (worker k uses seed + k)")
    t.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    t.set_defaults(run=run)
    return t


def _optuna():
    try:
        import optuna
    except ImportError:
        raise CommandError('zerodl tune needs Optuna: pip install "zerodl[search]"') from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class _Report(Callback):
    """Report the validation accuracy to the trial after every epoch; stop when pruned."""

    def __init__(self, trial):
        super().__init__()
        self.trial = trial
        self.pruned_at = None
        self.last = None

    def on_epoch_end(self, epoch, logs=None):
        self.last = float(logs["val_accuracy"])
        self.trial.report(self.last, epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            self.model.stop_training = True


def _suggest(trial):
    name = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    low, high = (1e-4, 1e-2) if name == "adam" else (1e-3, 0.3)
    return {
        "optimizer": name,
        "lr": trial.suggest_float("lr", low, high, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64, 128]),
    }


def _make_optimizer(hp, params):
    if hp["optimizer"] == "adam":
        return optim.Adam(params, lr=hp["lr"], weight_decay=hp["weight_decay"])
    return optim.SGD(params, lr=hp["lr"], momentum=0.9, weight_decay=hp["weight_decay"])


def _facts(args, kind, x, info, extra):
    return {"dataset": args.dataset, "model": kind, "input_shape": list(x.shape[1:]),
            "pixel_max": info["pixel_max"], "classes": info["classes"], **extra}


def _objective(optuna, args, kind, data, epochs, out):
    x_train, t_train, info = data

    def objective(trial):
        hp = _suggest(trial)
        manual_seed(trial.number)
        model = presets.build_model(kind, x_train.shape[1:], info["classes"])
        model.compile(optimizer=_make_optimizer(hp, model.parameters()), loss="cross_entropy",
                      metrics=["accuracy"])
        report = _Report(trial)
        model.fit(x_train, t_train, epochs=epochs, batch_size=hp["batch_size"], validation_split=0.2,
                  callbacks=[report], verbose=0, distributed=False)  # a trial is one process's
        path = os.path.join(out, "trials", f"trial-{trial.number:04d}.safetensors")
        meta = _facts(args, kind, x_train, info, {"trial": trial.number, "params": hp,
                                                  "val_accuracy": report.last})
        nn.save_model(model, path, metadata={"zerodl.cli": json.dumps(meta)})
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("model_path", os.path.abspath(path))
        state = f"pruned after epoch {report.pruned_at + 1}" if report.pruned_at is not None else "complete"
        print(f"[worker {args.worker_index}] trial {trial.number}: {_fmt(hp)} -> val accuracy "
              f"{report.last:.4f} ({state})", flush=True)
        if report.pruned_at is not None:
            raise optuna.TrialPruned()
        return report.last

    return objective


def _fmt(hp):
    return (f"{hp['optimizer']} lr={hp['lr']:.2e} weight_decay={hp['weight_decay']:.1e} "
            f"batch={hp['batch_size']}")


def _check(args):
    for option, value in (("--trials", args.trials), ("--epochs", args.epochs), ("--workers", args.workers)):
        if value is not None and value < 1:
            raise CommandError(f"{option} must be a positive integer, got {value}")
    if args.model == "cnn" and args.dataset == "spiral":
        raise CommandError("the spiral data set has 2-D points, not images: use --model mlp")


def _spawn(args, storage, n):
    """Start ``n`` more workers of this search (the same command, one worker each)."""
    procs = []
    for k in range(1, n + 1):
        cmd = [sys.executable, "-m", "zerodl", "tune", "--dataset", args.dataset, "--model", args.model or "mlp",
               "--trials", str(args.trials), "--epochs", str(args.epochs), "--storage", storage,
               "--study-name", args.study_name, "--pruner", args.pruner, "--out", args.out,
               "--worker-index", str(args.worker_index + k)]
        if args.seed is not None:
            cmd += ["--seed", str(args.seed)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        procs.append(subprocess.Popen(cmd))
    return procs


# What workers starting at the same moment may hit while one of them creates the tables.
_RACES = ("IntegrityError", "OperationalError", "DuplicatedStudyError")


def _open_study(optuna, args, storage, seed, pruner):
    for attempt in range(8):
        try:
            return optuna.create_study(storage=storage, study_name=args.study_name, direction="maximize",
                                       sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner,
                                       load_if_exists=True)
        except Exception as e:  # noqa: BLE001 - Optuna/SQLAlchemy raise many kinds for a bad URL or server
            if type(e).__name__ in _RACES and attempt < 7:
                time.sleep(0.1 * (attempt + 1))
                continue
            raise CommandError(f"cannot open the study {args.study_name!r} in {storage}: "
                               f"{type(e).__name__}: {e}") from None


def _end(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def run(args):
    """Search, then save the best trial's model and print its test accuracy."""
    _check(args)
    optuna = _optuna()
    kind = args.model or "mlp"
    args.model = kind
    args.trials = args.trials or DEFAULT_TRIALS[args.dataset]
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.dataset]
    os.makedirs(os.path.join(args.out, "trials"), exist_ok=True)
    storage = args.storage or "sqlite:///" + os.path.abspath(os.path.join(args.out, "study.db"))
    try:
        x_train, t_train, x_test, t_test, info = presets.load_split(args.dataset, args.data_dir)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise CommandError(str(e)) from None
    x_train = presets.prepare(x_train, kind, info["pixel_max"])
    x_test = presets.prepare(x_test, kind, info["pixel_max"])

    seed = None if args.seed is None else args.seed + args.worker_index
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1) if args.pruner == "median"
              else optuna.pruners.NopPruner())
    study = _open_study(optuna, args, storage, seed, pruner)
    if args.worker_index == 0:
        print(f"study {args.study_name!r} in {storage}: {args.trials} trials of a {kind} on {args.dataset} "
              f"({len(x_train)} training samples, 20 % for validation), {args.workers} worker(s) here", flush=True)
    others = _spawn(args, storage, args.workers - 1) if args.workers > 1 else []
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    stop = optuna.study.MaxTrialsCallback(args.trials, states=finished)
    t0 = time.perf_counter()
    try:
        study.optimize(_objective(optuna, args, kind, (x_train, t_train, info), args.epochs, args.out),
                       callbacks=[stop], catch=())
    except KeyboardInterrupt:
        _end(others)
        raise CommandError("interrupted; the finished trials are kept in the study") from None
    except CommandError:
        _end(others)
        raise
    except Exception as e:  # noqa: BLE001 - a failed trial (or the database) ends the search with a message
        _end(others)
        raise CommandError(f"the search stopped: {type(e).__name__}: {e}") from None
    failed = [p.wait() for p in others]
    if any(failed):
        raise CommandError(f"{sum(1 for c in failed if c)} of the other workers failed (see their messages above)")
    if args.worker_index != 0:
        return 0
    return _finish(study, optuna, args, kind, x_test, t_test, time.perf_counter() - t0)


def _finish(study, optuna, args, kind, x_test, t_test, seconds):
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = sum(1 for t in trials if t.state == optuna.trial.TrialState.PRUNED)
    if not done:
        raise CommandError("no trial completed (all were pruned or failed); try more --epochs or --pruner none")
    best = study.best_trial
    src = best.user_attrs.get("model_path", "")
    summary = (f"{len(done)} complete and {pruned} pruned trials in {seconds:.1f} s; best: trial {best.number}, "
               f"val accuracy {best.value:.4f}, {_fmt(best.params)}")
    if not os.path.exists(src):
        print(summary)
        print(f"the best trial ran on {best.user_attrs.get('host', 'another machine')}: its model is {src} there")
        return 0
    model = nn.load_model(src)
    result = model.evaluate(x_test, t_test, batch_size=500)
    meta = json.loads(zio.load_metadata(src)["zerodl.cli"])
    meta["test_accuracy"] = result["accuracy"]
    dst = os.path.join(args.out, "best.safetensors")
    nn.save_model(model, dst, metadata={"zerodl.cli": json.dumps(meta)})
    print(summary)
    print(f"test accuracy of the best model: {result['accuracy']:.4f}\nwrote {dst}")
    return 0
