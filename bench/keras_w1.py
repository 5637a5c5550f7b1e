"""W1 through ``zerodl.keras`` against W1 through zerodl's own ``fit`` (target: <= 1.1x).

W1: MLP 784-100-100-100-10, ReLU, Adam(1e-3), batch 100, one epoch of ``--samples`` MNIST
training images, shuffled each epoch, verbose 0. Both sides are the user-facing ``fit``:
``nn.Sequential(...).compile("adam", "cross_entropy"); fit(...)`` and ``keras.Sequential([
keras.Input((784,)), Dense(100, "relu"), ..., Dense(10)]).compile(Adam(1e-3),
SparseCategoricalCrossentropy(from_logits=True)); fit(...)``. Runs alternate (zerodl, keras,
zerodl, ...) in one process after a warm-up epoch each; the report is the median epoch time
of each and their ratio.

    python -m bench.keras_w1 [--data-dir DIR] [--samples 20000] [--repeats 5]
"""
import argparse
import statistics
import time

import numpy as np

from bench.data import load_mnist

SIZES = (784, 100, 100, 100, 10)


def zerodl_model():
    import zerodl.nn as nn

    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    model.compile(optimizer="adam", loss="cross_entropy")
    return model


def keras_model():
    import zerodl.keras as keras

    model = keras.Sequential([keras.Input(shape=(784,))] + [keras.layers.Dense(n, activation="relu")
                                                            for n in SIZES[1:-1]] + [keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def epoch_seconds(model, x, t):
    t0 = time.perf_counter()
    model.fit(x, t, epochs=1, batch_size=100, verbose=0)
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    import zerodl as zd

    data = load_mnist(args.data_dir)
    x = data.x_train[:args.samples].reshape(-1, 784)
    t = data.t_train[:args.samples]
    zd.manual_seed(0)
    models = {"zerodl fit": zerodl_model(), "zerodl.keras fit": keras_model()}
    times = {k: [] for k in models}
    for name, model in models.items():  # warm-up (and the lazy builds)
        epoch_seconds(model, x, t)
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name].append(epoch_seconds(model, x, t))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"data: {data.source}; {len(x)} samples, batch 100, {args.repeats} epochs each after a warm-up")
    for k, v in times.items():
        print(f"{k:18s} median {med[k]:.3f} s/epoch  runs {', '.join(f'{s:.3f}' for s in v)}")
    ratio = med["zerodl.keras fit"] / med["zerodl fit"]
    print(f"result: keras_w1_ratio = {ratio:.3f}  (target <= 1.1)")
    return ratio


if __name__ == "__main__":
    main()
