"""Autoencoders on MNIST: a dense one, a convolutional one and a denoising one.

An autoencoder ``x -> code -> x'`` is trained to give back its input through a narrow code,
with ``model.fit(x, x)``: inputs in [0, 1], a Sigmoid on the output, the pixel-wise binary cross
entropy as the training loss (fused with the Sigmoid; it keeps the gradients alive where MSE
on a saturated Sigmoid lets the mostly-black digits pull every output to 0), and the mean
squared error ``mean((x' - x)**2)`` over the test pixels as the reported figure.

- dense:  784 -> 256 -> 32 -> 256 -> 784 (ReLU; the code has 32 numbers, 24x fewer than pixels)
- conv:   Conv2d(1, 16, 3, s2, p1) -> ReLU -> Conv2d(16, 8, 3, s2, p1)   (a linear code 8 x 7 x 7:
          392 numbers, half the pixels) -> ConvTranspose2d(8, 16, 4, s2, p1) -> ReLU
          -> ConvTranspose2d(16, 1, 4, s2, p1) -> Sigmoid
- denoising: the conv architecture trained on ``clip(x + 0.5 * N(0, 1), 0, 1)`` with the clean
  ``x`` as target (fresh noise every epoch); judged on noisy test digits against the clean ones.

Reported (``result:`` lines): test MSE of each, and for the denoiser the MSE of the noisy input
itself (what doing nothing scores). Figure ``reconstructions.png``: test digits, their
dense and conv reconstructions, the noisy versions and the denoised ones, row by row;
``losses.png``: test MSE per epoch.

    python examples/autoencoder.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import numpy as np

import zerodl as zd
import zerodl.nn as nn
import zerodl.optim as optim

import _common as C

NOISE_STD = 0.5


def dense_autoencoder(code=32):
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, code), nn.ReLU(),     # encoder
        nn.Linear(code, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid(),  # decoder
    )


def conv_autoencoder():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),                 # 16 x 14 x 14
        nn.Conv2d(16, 8, 3, stride=2, padding=1),                            # 8 x 7 x 7: the code
        nn.ConvTranspose2d(8, 16, 4, stride=2, padding=1), nn.ReLU(),        # 16 x 14 x 14
        nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid(),     # 1 x 28 x 28
    )


def add_noise(x, rng, std=NOISE_STD):
    return np.clip(x + std * rng.standard_normal(x.shape).astype(np.float32), 0.0, 1.0)


def mse(model, x, target):
    y = model.predict(x, batch_size=1000)
    return float(np.mean((y.reshape(target.shape) - target) ** 2))


def train(model, x_in, x_target, x_test_in, x_test_target, epochs, batch_size, noisy_input=None):
    """``epochs`` of ``model.fit`` (Adam 1e-3, BCE); ``noisy_input()`` gives fresh inputs
    each epoch for the denoiser. Returns the test MSE after each epoch."""
    model.compile(optimizer=optim.Adam(model.parameters(), lr=1e-3), loss="bce")
    curve = []
    for epoch in range(epochs):
        inputs = noisy_input() if noisy_input else x_in
        model.fit(inputs, x_target, epochs=1, batch_size=batch_size, verbose=0)
        curve.append(mse(model, x_test_in, x_test_target))
        print(f"  epoch {epoch + 1}: test MSE {curve[-1]:.5f}", flush=True)
    return curve


def figure(args, rows, labels):
    """One row per entry of ``rows`` (arrays (n, 28, 28)), labelled on the left."""
    plt = C.pyplot()
    n = rows[0].shape[0]
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.9, len(rows) * 1.0 + 0.3))
    for r, (imgs, label) in enumerate(zip(rows, labels)):
        for k in range(n):
            ax = axes[r, k]
            ax.imshow(imgs[k], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("MNIST test digits and their reconstructions")
    return C.save_figure(fig, args, "reconstructions.png")


def main(argv=None):
    def extra(p):
        p.add_argument("--batch-size", type=int, default=128)

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs per model (default 3; --quick 1)")
    rng = C.seed_everything(args.seed)
    (x_train, _), (x_test, _) = C.load_mnist_images(
        args, n_train=600 if args.quick else None, n_test=200 if args.quick else None)
    epochs = args.epochs or (1 if args.quick else 3)
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    noisy_test = add_noise(x_test, np.random.default_rng(args.seed + 1))

    curves = {}
    with C.Timer("dense autoencoder"):
        print("dense autoencoder 784-256-32-256-784")
        dense = dense_autoencoder()
        curves["dense"] = train(dense, flat_train, flat_train, flat_test, flat_test, epochs, args.batch_size)
    with C.Timer("conv autoencoder"):
        print("convolutional autoencoder (code 8 x 7 x 7)")
        conv = conv_autoencoder()
        curves["conv"] = train(conv, x_train, x_train, x_test, x_test, epochs, args.batch_size)
    with C.Timer("denoising autoencoder"):
        print(f"denoising convolutional autoencoder (Gaussian noise std {NOISE_STD}, clipped to [0, 1])")
        denoiser = conv_autoencoder()
        curves["denoising"] = train(denoiser, None, x_train, noisy_test, x_test, epochs, args.batch_size,
                                    noisy_input=lambda: add_noise(x_train, rng))

    C.result("epochs", epochs)
    C.result("dense_test_mse", curves["dense"][-1], "{:.5f}")
    C.result("conv_test_mse", curves["conv"][-1], "{:.5f}")
    C.result("denoising_test_mse_vs_clean", curves["denoising"][-1], "{:.5f}")
    C.result("noisy_input_mse_vs_clean", float(np.mean((noisy_test - x_test) ** 2)), "{:.5f}")

    show = slice(0, 10)
    with zd.no_grad():
        rows = [x_test[show, 0],
                dense.predict(flat_test[show]).reshape(-1, 28, 28),
                conv.predict(x_test[show])[:, 0],
                noisy_test[show, 0],
                denoiser.predict(noisy_test[show])[:, 0]]
    figure(args, rows, ["original", "dense AE", "conv AE", "noisy", "denoised"])

    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, marker in zip(curves, "osD"):
        ax.plot(np.arange(1, epochs + 1), curves[name], marker=marker, label=name)
    ax.set_yscale("log")
    C.decorate(ax, "epoch", "test MSE", title="autoencoders: test reconstruction error")
    C.save_figure(fig, args, "losses.png")


if __name__ == "__main__":
    main()
