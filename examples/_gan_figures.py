"""dcgan.py's figures: the sample grid, its frames and GIF, the losses and the quality per epoch,
real against generated digits (matplotlib through ``_common``; the GIF needs Pillow)."""
import math

import numpy as np

import _common as C


def image_grid(images, nrow=8, pad=2):
    """(N, 1, H, W) images in [-1, 1] -> one uint8 (rows, cols) picture, white on black."""
    n, _, h, w = images.shape
    ncol = math.ceil(n / nrow)
    grid = np.zeros((ncol * (h + pad) + pad, nrow * (w + pad) + pad), np.uint8)
    pixels = np.clip((images[:, 0] + 1) * 127.5, 0, 255).round().astype(np.uint8)
    for k in range(n):
        r, c = divmod(k, nrow)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = pixels[k]
    return grid


def save_frame(args, grid, filename, scale=3):
    plt = C.pyplot()
    path = args.out / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, np.kron(grid, np.ones((scale, scale), np.uint8)), cmap="gray", vmin=0, vmax=255)
    return path


def save_gif(args, frames, filename="samples.gif", scale=3):
    """An animated GIF of the per-epoch grids (Pillow, imported here: the ``images`` extra)."""
    try:
        from PIL import Image
    except ImportError:
        print("figure: samples.gif skipped (Pillow is not installed: pip install zerodl[images])")
        return None
    images = [Image.fromarray(np.kron(f, np.ones((scale, scale), np.uint8))) for f in frames]
    path = args.out / filename
    images[0].save(path, save_all=True, append_images=images[1:] + images[-1:] * 3, duration=400, loop=0)
    print(f"figure: {path}")
    return path


def losses_figure(args, losses_D, losses_G, per_epoch, real_share):
    plt = C.pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
    it = np.arange(len(losses_D))
    ax0.plot(it, losses_D, lw=0.3, alpha=0.3, color="tab:blue")
    ax0.plot(it, losses_G, lw=0.3, alpha=0.3, color="tab:orange")
    window = 101 if len(it) > 400 else 11
    ax0.plot(C.smooth_curve(losses_D, window)[:len(it)], color="tab:blue", label="discriminator L_D")
    ax0.plot(C.smooth_curve(losses_G, window)[:len(it)], color="tab:orange", label="generator L_G")
    C.decorate(ax0, "iteration", "BCE loss", title="DCGAN losses (faint: per batch)")
    ep = np.arange(1, len(per_epoch) + 1)
    ax1.plot(ep, [q[0] for q in per_epoch], marker="o", label="generated: share with p >= 0.9")
    ax1.plot(ep, [q[1] / math.log(10) for q in per_epoch], marker="s", ls="--",
             label="generated: class entropy / ln 10")
    if args.ema:
        ax1.plot(ep, [q[2] for q in per_epoch], marker=".", color="tab:gray", lw=0.8,
                 label="G itself (not averaged): share")
    ax1.axhline(real_share, color="gray", ls=":", label=f"real test digits: share {real_share:.3f}")
    C.decorate(ax1, "epoch", "share / normalised entropy", title="quality of 1,000 generated digits",
               ylim=(0, 1.02), legend={"loc": "lower right"})
    return C.save_figure(fig, args, "losses.png")


def real_vs_generated(args, real, fake):
    plt = C.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.8))
    for ax, imgs, title in ((axes[0], real, "real MNIST test digits"), (axes[1], fake, "generated (fixed noise)")):
        ax.imshow(image_grid(imgs), cmap="gray", vmin=0, vmax=255)
        ax.set_title(title)
        ax.axis("off")
    return C.save_figure(fig, args, "real_vs_generated.png")
