"""The article's LSTM forecast of the airline passengers series (material 001), in zerodl.

Series: 144 monthly totals 1949-1960 (``zerodl.data.datasets.airline_passengers()``).
Following the article (which follows a tflearn tutorial):

- windows: ``make_windows(series, history=LOOK_BACK)`` is the article's
  ``create_dataset(dataset, steps_of_history, 1)``: sample i is months i..i+LOOK_BACK-1, its
  target month i+LOOK_BACK. The article does not print ``steps_of_history``; the default here
  is 10, the value of the tflearn tutorial the article follows (and of the issue's run of real
  tflearn); ``--look-back N`` changes it and ``--sweep`` also measures 1, 3, 6 and 12.
- split: the article's ``split_data(x, y, test_size=0.1)``: the last 10% of the windows are
  the test set (the last ~13 months).
- scaling (``--scaling``): ``series`` (default), min-max to [0, 1] over the whole series, as
  the tutorial and the issue's real-tflearn measurement (RMSE 0.1037, one layer) do; ``train``
  fits min-max on the months the training windows see only, so the test months exceed 1.
  The article's scaling is not shown; the RMSE is also given in passengers (thousands).
- model: LSTM(6 units) -> Linear(6, 1) (tflearn ``lstm(n_units=6)`` + ``fully_connected(1,
  'linear')``), Adam lr 1e-3, mean squared error, batch 1, 150 epochs, ``validation_split=0.1``.
  The article's second model stacks two LSTM(6) layers with ``activation='relu'`` (the first
  ``return_sequences=True``), as here. The article: RMSE 0.1008 with one layer, 0.1605 with two.
- Each model is trained with ``--seeds`` different seeds (default 10; a series of 144 points
  gives noisy numbers); the mean, std and each RMSE are printed. A persistence forecast
  (next month = this month) is printed as a baseline. ``examples/tflearn_airline.py`` is the
  article's own script on ``zerodl.tflearn``; docs/results.md compares the two.

Figures: ``forecast.png`` (actual series vs one- and two-layer predictions, seed 0; train
part in-sample, test part shaded), ``loss_curves.png``, and with ``--sweep``
``look_back_sweep.png``.

    python examples/airline_lstm.py [--quick] [--out DIR] [--look-back N] [--epochs N]
                                    [--seeds N] [--sweep]
"""
import time

import numpy as np

import zerodl as zd
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.data import datasets, make_windows

import _common as C

START_YEAR = 1949


def split_data(x, y, test_size=0.1):
    """The article's split: the first ``round(0.9 N)`` windows train, the rest test."""
    pos = round(len(x) * (1 - test_size))
    return x[:pos], y[:pos], x[pos:], y[pos:], pos


def prepare(series, look_back, test_size=0.1, scaling="series"):
    """Scaled windows and what is needed to undo the scaling.

    ``scaling="series"``: min-max over the whole series (the tflearn tutorial's, and the issue's
    measurement with real tflearn); ``"train"``: over the months the training windows see
    (no look at the test months; the test values then exceed 1).
    """
    n_windows = len(series) - look_back
    pos = round(n_windows * (1 - test_size))
    seen = series if scaling == "series" else series[:pos + look_back]
    lo, hi = float(seen.min()), float(seen.max())
    scaled = ((series - lo) / (hi - lo)).astype(np.float32)
    X, Y = make_windows(scaled, look_back)     # (N, look_back, 1), (N, 1)
    x_tr, y_tr, x_te, y_te, pos = split_data(X, Y, test_size)
    return dict(scaled=scaled, lo=lo, hi=hi, x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te,
                pos=pos, look_back=look_back)


def lstm_model(layers, units=6):
    """One tanh LSTM, or (the article's second model) stacked LSTMs with activation='relu'."""
    if layers == 1:
        return nn.Sequential(nn.LSTM(1, units), nn.Linear(units, 1))
    stack = [nn.LSTM(1, units, return_sequences=True, activation="relu")]
    for _ in range(layers - 2):
        stack.append(nn.LSTM(units, units, return_sequences=True, activation="relu"))
    stack.append(nn.LSTM(units, units, activation="relu"))
    return nn.Sequential(*stack, nn.Linear(units, 1))


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def train_one(d, layers, seed, args):
    zd.manual_seed(seed)
    model = lstm_model(layers, args.units)
    model.compile(optimizer=optim.Adam(model.parameters(), lr=args.lr), loss="mse")
    x_tr, y_tr = d["x_tr"], d["y_tr"]
    if args.validation == "shuffled":  # tflearn's validation_set=0.1: shuffle once, then hold 10% out
        order = np.random.default_rng(seed).permutation(len(x_tr))
        x_tr, y_tr = x_tr[order], y_tr[order]
    hist = model.fit(x_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size,
                     validation_split=0.1, shuffle=True, verbose=0)
    model.eval()
    pred_te = model.predict(d["x_te"], batch_size=256).reshape(-1)
    pred_tr = model.predict(d["x_tr"], batch_size=256).reshape(-1)
    r = rmse(pred_te, d["y_te"].reshape(-1))
    val_rmse = float(np.sqrt(hist.history["val_loss"][-1]))
    return dict(rmse=r, rmse_passengers=r * (d["hi"] - d["lo"]), val_rmse=val_rmse, pred_te=pred_te,
                pred_tr=pred_tr, history=hist.history)


def run_config(series, look_back, layers, args, seeds):
    d = prepare(series, look_back, scaling=args.scaling)
    runs = []
    for s in seeds:
        t0 = time.perf_counter()
        r = train_one(d, layers, s, args)
        r["seconds"] = time.perf_counter() - t0
        runs.append(r)
        print(f"  look_back {look_back:2d}, {layers} LSTM layer(s), seed {s}: validation RMSE "
              f"{r['val_rmse']:.4f}, test RMSE {r['rmse']:.4f} scaled = {r['rmse_passengers']:.1f} "
              f"thousand passengers ({r['seconds']:.1f} s)", flush=True)
    return d, runs


def summarize(name, runs):
    v = np.array([r["rmse"] for r in runs])
    p = np.array([r["rmse_passengers"] for r in runs])
    val = np.array([r["val_rmse"] for r in runs])
    print(f"{name}: validation RMSE {val.mean():.4f} +- {val.std():.4f}; test RMSE {v.mean():.4f} +- {v.std():.4f} scaled (min {v.min():.4f}, "
          f"max {v.max():.4f}), {p.mean():.1f} +- {p.std():.1f} thousand passengers, "
          f"over {len(v)} seed(s)")
    return v, p


def main(argv=None):
    def extra(p):
        p.add_argument("--look-back", type=int, default=10,
                       help="window length (default 10, the tflearn tutorial's steps_of_history)")
        p.add_argument("--validation", choices=("shuffled", "last"), default="shuffled",
                       help="hold out a random 10%% of the training windows (tflearn's validation_set=0.1, "
                            "default) or the last 10%% (Keras's validation_split)")
        p.add_argument("--scaling", choices=("series", "train"), default="series",
                       help="min-max over the whole series (default) or over the training months only")
        p.add_argument("--batch-size", type=int, default=1, help="batch size (default 1, as the article)")
        p.add_argument("--lr", type=float, default=1e-3)
        p.add_argument("--units", type=int, default=6)
        p.add_argument("--sweep", action="store_true",
                       help="also compare look_back 1, 3, 6, 12 (one-layer model)")

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs (default 150; --quick 3)",
                        seeds="seeds per model (default 10; --quick 1)")
    args.epochs = args.epochs or (3 if args.quick else 150)
    n_seeds = args.seeds or (1 if args.quick else 10)
    seeds = [args.seed + i for i in range(n_seeds)]
    series = datasets.airline_passengers().astype(np.float64)
    print(f"airline passengers: {len(series)} months, {series.min():.0f}..{series.max():.0f} thousand; "
          f"look_back {args.look_back}, scaling over the {args.scaling}, validation {args.validation}, LSTM({args.units}) units, Adam lr {args.lr}, batch "
          f"{args.batch_size}, {args.epochs} epochs, seeds {seeds}")

    d = prepare(series, args.look_back, scaling=args.scaling)
    n_test = len(d["x_te"])
    first_test_month = d["pos"] + args.look_back
    yr, mo = divmod(first_test_month, 12)
    print(f"windows: {len(d['x_tr'])} train (of which the last 10% validate), {n_test} test "
          f"(targets {START_YEAR + yr}-{mo + 1:02d}..1960-12); scaling min {d['lo']:.0f}, max {d['hi']:.0f}")
    persistence = rmse(d["x_te"][:, -1, 0], d["y_te"][:, 0])
    print(f"baseline (persistence, next month = this month): test RMSE {persistence:.4f} scaled = "
          f"{persistence * (d['hi'] - d['lo']):.1f} thousand passengers")
    C.result("persistence_rmse_scaled", persistence)

    results = {}
    with C.Timer("all LSTM trainings"):
        for layers in (1, 2):
            _, runs = run_config(series, args.look_back, layers, args, seeds)
            results[layers] = runs
    for layers, label, article in ((1, "one_layer", 0.1008), (2, "two_layers", 0.1605)):
        v, p = summarize(f"{layers} LSTM layer(s)", results[layers])
        C.result(f"{label}_rmse_scaled_mean", float(v.mean()))
        C.result(f"{label}_rmse_scaled_std", float(v.std()))
        C.result(f"{label}_rmse_passengers_mean", float(p.mean()), "{:.1f}")
        C.result(f"{label}_article_rmse", article)
        C.result(f"{label}_seconds_per_training", float(np.mean([r["seconds"] for r in results[layers]])),
                 "{:.1f}")

    plt = C.pyplot()
    months = np.arange(len(series))
    years = START_YEAR + months / 12.0
    lb, pos = args.look_back, d["pos"]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(years, series, color="black", lw=1.5, label="actual")
    unscale = d["hi"] - d["lo"]
    for layers, color in ((1, "tab:blue"), (2, "tab:orange")):
        r = results[layers][0]
        tr_months = months[lb:lb + pos]
        te_months = months[lb + pos:]
        ax.plot(START_YEAR + tr_months / 12.0, r["pred_tr"] * unscale + d["lo"], color=color, lw=1,
                alpha=0.6)
        ax.plot(START_YEAR + te_months / 12.0, r["pred_te"] * unscale + d["lo"], color=color, lw=2,
                marker="o", ms=3,
                label=f"{layers} LSTM layer{'s' if layers > 1 else ''} (seed {seeds[0]}): test RMSE "
                      f"{r['rmse']:.3f} scaled, {r['rmse_passengers']:.0f}k")
    ax.axvspan(START_YEAR + (lb + pos) / 12.0, years[-1] + 1 / 12, color="gray", alpha=0.15,
               label="test (last 10% of windows)")
    C.decorate(ax, "year", "passengers (thousands)",
               title=f"Airline passengers: LSTM forecast from the previous {lb} months "
                     f"(article: RMSE 0.1008 one layer, 0.1605 two)",
               legend={"loc": "upper left", "fontsize": 9})
    C.save_figure(fig, args, "forecast.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    for layers, color in ((1, "tab:blue"), (2, "tab:orange")):
        h = results[layers][0]["history"]
        ep = np.arange(1, len(h["loss"]) + 1)
        ax.plot(ep, h["loss"], color=color, label=f"{layers} layer(s): train MSE")
        if "val_loss" in h:
            ax.plot(ep, h["val_loss"], color=color, ls="--", label=f"{layers} layer(s): validation MSE")
    ax.set_yscale("log")
    C.decorate(ax, "epoch", "MSE (scaled units)")
    C.save_figure(fig, args, "loss_curves.png")

    if args.sweep:
        print("\nlook_back sweep (one LSTM layer):")
        rows = []
        for lb_s in (1, 3, 6, 12):
            if lb_s == args.look_back:
                runs = results[1]  # already trained above
            else:
                _, runs = run_config(series, lb_s, 1, args, seeds)
            v, p = summarize(f"look_back {lb_s}", runs)
            rows.append((lb_s, v.mean(), v.std(), p.mean()))
            C.result(f"look_back_{lb_s}_rmse_scaled_mean", float(v.mean()))
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.errorbar([r[0] for r in rows], [r[1] for r in rows], yerr=[r[2] for r in rows],
                    marker="o", capsize=4, label="1 LSTM layer (mean +- std over seeds)")
        ax.axhline(0.1008, color="gray", ls=":", label="article, one layer: 0.1008")
        C.decorate(ax, "look_back (months)", "test RMSE (scaled)")
        C.save_figure(fig, args, "look_back_sweep.png")


if __name__ == "__main__":
    main()
