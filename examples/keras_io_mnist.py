"""keras-io's MNIST scripts (the "Simple MNIST convnet" and the functional MLP of the training
guide) on zerodl.keras, or on real Keras with ``--backend keras``: the same lines, only the
import differs, so the accuracies compare directly.

- ``convnet``: keras.Sequential([Input((28, 28, 1)), Conv2D(32, 3, relu), MaxPooling2D(2),
  Conv2D(64, 3, relu), MaxPooling2D(2), Flatten(), Dropout(0.5), Dense(10, softmax)]),
  categorical cross entropy, Adam, batch 128, validation_split 0.1 (keras-io: 15 epochs;
  ``--epochs``, default 3 here, so that it finishes on a small shared machine).
- ``mlp``: inputs = keras.Input((784,)); Dense(64, relu) x 2; Dense(10) (logits);
  RMSprop(), SparseCategoricalCrossentropy(from_logits=True), SparseCategoricalAccuracy,
  batch 64, validation 10,000 of the training images (keras-io: 2 epochs; default 5 here).

MNIST is read from its IDX files (``--data-dir`` or ``$ZERODL_DATA``) by zerodl's reader in
both cases (Keras's ``mnist.load_data()`` downloads). ``--quick`` runs a few batches on a
stand-in (tests).

    python examples/keras_io_mnist.py --model convnet|mlp [--backend zerodl|keras] [--epochs N]
                                      [--data-dir DIR] [--seed S] [--quick]
/work/venv-tf/bin/python examples/keras_io_mnist.py --backend keras ...  (PYTHONPATH = the repo)
"""
import argparse
import os
import time

import numpy as np


def load(args):
    from zerodl.data import datasets

    if args.quick and not args.data_dir:
        x, t = datasets.digits()
        img = np.zeros((len(x), 28, 28), np.float32)
        img[:, 2:26, 2:26] = np.kron(x / 16.0, np.ones((3, 3)))
        return (img[:1500], t[:1500]), (img[1500:], t[1500:])
    (x, t), (xt, tt) = [datasets.mnist(root=args.data_dir, train=s, download=False) for s in (True, False)]
    return (x.astype("float32") / 255, t), (xt.astype("float32") / 255, tt)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("convnet", "mlp"), default="convnet")
    p.add_argument("--backend", choices=("zerodl", "keras"), default="zerodl")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=None, help="folder for learning_curve_<model>.png (default examples/out/keras_io_mnist)")
    args = p.parse_args(argv)
    if args.backend == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        keras.utils.set_random_seed(args.seed)
    else:
        import zerodl as zd
        import zerodl.keras as keras

        zd.manual_seed(args.seed)
    layers = keras.layers

    (x_train, y_train), (x_test, y_test) = load(args)
    if args.quick:
        x_train, y_train = x_train[:512], y_train[:512]
    t0 = time.perf_counter()
    if args.model == "convnet":
        # ------------------------------------------------ keras-io: Simple MNIST convnet
        num_classes, input_shape = 10, (28, 28, 1)
        x_train, x_test = np.expand_dims(x_train, -1), np.expand_dims(x_test, -1)
        y_train_c = keras.utils.to_categorical(y_train, num_classes)
        y_test_c = keras.utils.to_categorical(y_test, num_classes)
        model = keras.Sequential([
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ])
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        history = model.fit(x_train, y_train_c, batch_size=128, epochs=args.epochs or (1 if args.quick else 3),
                            validation_split=0.1, verbose=2)
        score = model.evaluate(x_test, y_test_c, verbose=0)
        accuracy = score[1]
    else:
        # ------------------------------------------------ keras-io: functional MLP (training guide)
        x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
        inputs = keras.Input(shape=(784,), name="digits")
        x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
        x = layers.Dense(64, activation="relu", name="dense_2")(x)
        outputs = layers.Dense(10, name="predictions")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[keras.metrics.SparseCategoricalAccuracy()])
        n_val = 10000 if not args.quick else 100
        x_val, y_val = x_train[-n_val:], y_train[-n_val:]
        history = model.fit(x_train[:-n_val], y_train[:-n_val], batch_size=64,
                            epochs=args.epochs or (1 if args.quick else 5), validation_data=(x_val, y_val), verbose=2)
        accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)[1]
    seconds = time.perf_counter() - t0
    print(f"result: keras_io_{args.model}_{args.backend}_test_accuracy = {accuracy:.4f}")
    print(f"time: {seconds:.1f} s")
    figure(args, history.history, accuracy)
    return accuracy


def figure(args, logs, accuracy):
    """Training and validation loss per epoch (needs matplotlib; skipped where it is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("figure: skipped (no matplotlib)")
        return
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "keras_io_mnist")
    os.makedirs(out, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = range(1, len(logs["loss"]) + 1)
    ax.plot(epochs, logs["loss"], "o-", label="train loss")
    ax.plot(epochs, logs["val_loss"], "s-", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"keras-io {args.model} ({args.backend}): test accuracy {accuracy:.4f}")
    ax.legend()
    path = os.path.join(out, f"learning_curve_{args.model}_{args.backend}.png")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
