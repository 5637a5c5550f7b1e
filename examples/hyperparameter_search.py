"""Chapter 6.5: hyper-parameter search on a validation split (the book's hyperparameter_optimization.py).

500 MNIST training images, of which 20% (100) are held out for validation (the test set is
never looked at while searching). Each trial trains the book's 7-layer net (six hidden
layers of 100 ReLU units, L2 weight decay in the loss) with SGD, batch 100, for 50 epochs,
and scores the validation accuracy. Searched: learning rate 10^U(-6, -2) and weight decay
10^U(-8, -4), as in the book:

1. random search (Optuna's RandomSampler, the book's method; 100 trials in the book), then
2. Optuna's TPE sampler (Bayesian optimisation) with the same budget.

The best learning rate and weight decay of each are printed, with the best configuration's
test accuracy, and a scatter figure of the trials is written. Optuna is an optional extra
(``pip install "zerodl[search]"``); without it the script says so and runs a plain random
search written with NumPy instead (no TPE).

    python examples/hyperparameter_search.py [--data-dir DIR] [--quick] [--out DIR] [--trials N]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.optim as optim

import _common as C


def make_objective(data, epochs, seed):
    (x_train, t_train), (x_val, t_val) = data

    def train_and_score(lr, weight_decay):
        zd.manual_seed(seed)
        net = C.mlp([784] + [100] * 6 + [10], "relu", "he")
        opt = optim.SGD(net.parameters(), lr=lr)
        rng = np.random.default_rng(seed)
        iter_per_epoch = max(len(x_train) // 100, 1)
        for _ in range(epochs * iter_per_epoch):
            mask = rng.choice(len(x_train), 100)
            opt.zero_grad()
            loss = F.softmax_cross_entropy(net(zd.tensor(x_train[mask])), t_train[mask])
            loss = loss + C.weight_decay_penalty(net, weight_decay)
            loss.backward()
            opt.step()
        return C.accuracy(net, x_val, t_val), net

    return train_and_score


def search_with_optuna(optuna, sampler, objective_fn, n_trials):
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-6, 1e-2, log=True)              # 10 ** U(-6, -2)
        weight_decay = trial.suggest_float("weight_decay", 1e-8, 1e-4, log=True)  # 10 ** U(-8, -4)
        return objective_fn(lr, weight_decay)[0]

    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    return [(t.params["lr"], t.params["weight_decay"], t.value) for t in study.trials]


def search_with_numpy(objective_fn, n_trials, seed):
    """The book's random search, written out: sample, train, score."""
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_trials):
        weight_decay = 10 ** rng.uniform(-8, -4)
        lr = 10 ** rng.uniform(-6, -2)
        trials.append((lr, weight_decay, objective_fn(lr, weight_decay)[0]))
    return trials


def main(argv=None):
    def extra(p):
        p.add_argument("--trials", type=int, default=None,
                       help="trials per sampler (default 50; the book: 100; --quick 3)")
        p.add_argument("--epochs", type=int, default=None,
                       help="epochs per trial (default 50 as the book; --quick 5)")
        p.add_argument("--no-optuna", action="store_true",
                       help="use the plain NumPy random search even when Optuna is installed")

    args = C.parse_args(__doc__.splitlines()[0], __file__, argv, extra)
    C.seed_everything(args.seed)
    n_trials = args.trials or (3 if args.quick else 50)
    epochs = args.epochs or (5 if args.quick else 50)

    (x_all, t_all), (x_test, t_test) = C.load_mnist(args, n_train=500, n_test=500 if args.quick else None)
    perm = np.random.default_rng(args.seed).permutation(len(x_all))   # the book's shuffle_dataset
    x_all, t_all = x_all[perm], t_all[perm]
    validation_num = int(len(x_all) * 0.20)
    x_val, t_val = x_all[:validation_num], t_all[:validation_num]
    x_train, t_train = x_all[validation_num:], t_all[validation_num:]
    print(f"{len(x_train)} training / {len(x_val)} validation images; {n_trials} trials per sampler, "
          f"{epochs} epochs per trial")
    objective_fn = make_objective(((x_train, t_train), (x_val, t_val)), epochs, args.seed)

    try:
        import optuna
    except ImportError:
        optuna = None
    if args.no_optuna:
        optuna = None
    results = {}
    if optuna is None:
        why = "--no-optuna given" if args.no_optuna else \
            "Optuna is not installed (pip install optuna, or the 'search' extra)"
        print(f"{why}: falling back to a plain random search written with NumPy; no TPE.")
        with C.Timer("random search (NumPy)"):
            results["random (NumPy)"] = search_with_numpy(objective_fn, n_trials, args.seed)
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with C.Timer("random search (Optuna RandomSampler)"):
            results["random (Optuna)"] = search_with_optuna(
                optuna, optuna.samplers.RandomSampler(seed=args.seed), objective_fn, n_trials)
        with C.Timer("TPE (Optuna TPESampler)"):
            results["TPE (Optuna)"] = search_with_optuna(
                optuna, optuna.samplers.TPESampler(seed=args.seed + 1), objective_fn, n_trials)

    for name, trials in results.items():
        ranked = sorted(trials, key=lambda r: -r[2])
        print(f"\n{name}: top 5 of {len(trials)} trials (validation accuracy)")
        for lr, wd, acc in ranked[:5]:
            print(f"  val acc {acc:.3f} | lr {lr:.3e}, weight decay {wd:.3e}")
        lr, wd, acc = ranked[0]
        _, net = objective_fn(lr, wd)
        test_acc = C.accuracy(net, x_test, t_test)
        tag = name.split(" ")[0].lower()
        C.result(f"{tag}_best_lr", lr, "{:.3e}")
        C.result(f"{tag}_best_weight_decay", wd, "{:.3e}")
        C.result(f"{tag}_best_val_accuracy", acc)
        C.result(f"{tag}_best_test_accuracy", test_acc)

    plt = C.pyplot()
    fig, axes = plt.subplots(1, len(results) + 1, figsize=(5.2 * (len(results) + 1), 4.2))
    for ax, (name, trials) in zip(axes, results.items()):
        arr = np.array(trials)
        sc = ax.scatter(arr[:, 0], arr[:, 1], c=arr[:, 2], cmap="viridis", vmin=0, vmax=1,
                        s=30, edgecolors="k", linewidths=0.3)
        best = arr[np.argmax(arr[:, 2])]
        ax.scatter(best[0], best[1], marker="*", s=250, c="red", label=f"best: val acc {best[2]:.2f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-6, 1e-2)
        ax.set_ylim(1e-8, 1e-4)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("weight decay")
        ax.set_title(name)
        ax.legend(loc="lower left", fontsize=8)
        fig.colorbar(sc, ax=ax, label="validation accuracy")
    ax = axes[-1]
    for name, trials in results.items():
        accs = np.array([r[2] for r in trials])
        ax.plot(np.arange(1, len(accs) + 1), np.maximum.accumulate(accs), label=name)
        ax.plot(np.arange(1, len(accs) + 1), accs, ".", alpha=0.4, color=ax.lines[-1].get_color())
    ax.set_xlabel("trial")
    ax.set_ylabel("validation accuracy (line: best so far)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    C.save_figure(fig, args, "hyperparameter_search.png")


if __name__ == "__main__":
    main()
