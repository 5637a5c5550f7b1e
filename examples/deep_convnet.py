"""Chapter 8: the book's DeepConvNet on MNIST (the book reaches 99.35% test accuracy).

    conv3x3-16 (pad 1) ReLU, conv3x3-16 (pad 1) ReLU, 2x2 max pool          -> 16 x 14 x 14
    conv3x3-32 (pad 1) ReLU, conv3x3-32 (pad 2) ReLU, 2x2 max pool          -> 32 x  8 x  8
    conv3x3-64 (pad 1) ReLU, conv3x3-64 (pad 1) ReLU, 2x2 max pool          -> 64 x  4 x  4
    Linear(1024, 50) ReLU Dropout(0.5), Linear(50, 10) Dropout(0.5), softmax with cross entropy

He initialisation (normal, std sqrt(2 / fan_in), fan_in = C_in*3*3 for the convolutions and
the input size for the Linear layers, as the book's ``pre_node_nums``), biases zero; Adam
lr 1e-3, mini-batches of 100 (the book's ``train_deepnet.py``).

This is the expensive one on a small CPU: the script prints the time per epoch. The whole
training state (weights, Adam's moments, the epoch, RNG and shuffle state, the history) is
written at the end of every epoch by ``zerodl.callbacks.BackupAndRestore`` to
``OUT/backup/backup.safetensors``; ``--resume`` continues from it (also to go on for more
epochs: ``--resume --epochs 12`` after a 8-epoch run trains epochs 9..12). Without
``--resume`` an old backup is removed and training starts afresh. The trained model is saved
to ``OUT/deep_convnet.safetensors`` (``zd.load_model``; ``zerodl evaluate`` reads it).

Figures: ``misclassified.png`` (the misclassified test digits, "true -> predicted"),
``learning_curve.png``.

    python examples/deep_convnet.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N] [--resume]
"""
import os
import time

import numpy as np

import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.callbacks import BackupAndRestore, Callback

import _common as C


def deep_convnet():
    """The book's DeepConvNet as an ``nn.Sequential`` (input 1x28x28, 10 classes)."""
    def conv(c_in, c_out, pad):
        return [nn.Conv2d(c_in, c_out, 3, stride=1, padding=pad), nn.ReLU()]

    model = nn.Sequential(
        *conv(1, 16, 1), *conv(16, 16, 1), nn.MaxPool2d(2, stride=2),
        *conv(16, 32, 1), *conv(32, 32, 2), nn.MaxPool2d(2, stride=2),
        *conv(32, 64, 1), *conv(64, 64, 1), nn.MaxPool2d(2, stride=2),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(50, 10), nn.Dropout(0.5),
    )
    # He initialisation as the book: std sqrt(2 / fan_in) for every weight, zero biases.
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            W = layer.W
            fan_in = int(np.prod(W.shape[1:])) if W.ndim == 4 else W.shape[0]
            nn.init.normal_(W, std=float(np.sqrt(2.0 / fan_in)))
            nn.init.zeros_(layer.b)
    return model


class EpochTimer(Callback):
    """Records the wall time of every epoch (test evaluation included) in the logs as ``epoch_seconds``."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t0
        self.times.append(dt)
        if logs is not None:
            logs["epoch_seconds"] = dt


def misclassified_figure(args, x, t, pred, max_show=100):
    wrong = np.flatnonzero(pred != t)
    shown = wrong[:max_show]
    cols = 10
    rows = max(1, int(np.ceil(len(shown) / cols)))
    plt = C.pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3 + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        ax.imshow(x[i].reshape(28, 28), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{t[i]} -> {pred[i]}", fontsize=9, color="crimson")
    fig.suptitle(f"DeepConvNet: {len(wrong)} of {len(t)} test digits misclassified "
                 f"(true -> predicted{'; first ' + str(max_show) if len(wrong) > max_show else ''})")
    return C.save_figure(fig, args, "misclassified.png")


def main(argv=None):
    def extra(p):
        p.add_argument("--batch-size", type=int, default=100)
        p.add_argument("--lr", type=float, default=1e-3)
        p.add_argument("--resume", action="store_true",
                       help="continue from OUT/backup/backup.safetensors if it exists")

    args = C.parse_args(__doc__, __file__, argv, extra,
                        epochs="total training epochs (default 20 as the book; --quick 1)")
    C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(
        args, n_train=500 if args.quick else None, n_test=200 if args.quick else None)
    epochs = args.epochs or (1 if args.quick else 20)

    model = deep_convnet()
    model.compile(optimizer=optim.Adam(model.parameters(), lr=args.lr),
                  loss="cross_entropy", metrics=["accuracy"])
    model.summary(input_shape=(1, 28, 28))

    backup = BackupAndRestore(args.out / "backup", delete_checkpoint=False)
    if os.path.exists(backup.checkpoint_path) and not args.resume:
        print(f"(removing the old backup {backup.checkpoint_path}; pass --resume to continue it)")
        os.remove(backup.checkpoint_path)
    timer = EpochTimer()
    print(f"\nDeepConvNet: Adam lr {args.lr}, batch {args.batch_size}, up to epoch {epochs} "
          f"on {len(x_train)} images (test accuracy shown as val_accuracy)")
    t0 = time.perf_counter()
    history = model.fit(x_train, t_train, epochs=epochs, batch_size=args.batch_size,
                        validation_data=(x_test, t_test), callbacks=[timer, backup], verbose=2)
    elapsed = time.perf_counter() - t0
    if backup.restored_epoch is not None:
        print(f"(resumed after epoch {backup.restored_epoch + 1} from {backup.checkpoint_path})")
    logs = history.history
    model_path = model.save(args.out / "deep_convnet.safetensors")
    print(f"model: {model_path}")

    model.eval()
    scores = model.predict(x_test, batch_size=500)
    pred = scores.argmax(axis=1)
    test_acc = float((pred == t_test).mean())
    n_epochs = len(logs["loss"])
    reached = next((i + 1 for i, a in enumerate(logs["val_accuracy"]) if a >= 0.993), None)
    C.result("epochs", n_epochs)
    if timer.times:
        C.result("seconds_per_epoch_this_run", float(np.mean(timer.times)), "{:.1f}")
        C.result("epochs_this_run", len(timer.times))
    C.result("training_seconds_this_run", elapsed, "{:.1f}")
    if "epoch_seconds" in logs:
        C.result("seconds_per_epoch_all_epochs", float(np.mean(logs["epoch_seconds"])), "{:.1f}")
        C.result("seconds_per_epoch_median", float(np.median(logs["epoch_seconds"])), "{:.1f}")
    C.result("train_accuracy_first_10000_dropout_off", C.accuracy(model, x_train[:10000], t_train[:10000], 500))
    C.result("test_accuracy", test_acc)
    C.result("misclassified", int((pred != t_test).sum()))
    C.result("first_epoch_reaching_99.3pct", reached if reached else "not reached")

    misclassified_figure(args, x_test, t_test, pred)
    C.epoch_learning_curve(args, logs, f"DeepConvNet: test acc {test_acc:.4f} after {n_epochs} epochs",
                           0.9935, "book: 99.35%", train_loss_label="train loss (dropout on)",
                           loss_title=f"train accuracy (dropout on, last epoch): {logs['accuracy'][-1]:.3f}",
                           ylim_margin=0.005)


if __name__ == "__main__":
    main()
