"""DCGAN on MNIST: a generator of digits from 100-d noise, trained against a discriminator.

Generator G (noise z ~ N(0, I) of 100 dims -> 1x28x28 image in [-1, 1])::

    Linear(100, 256*7*7) -> BatchNorm1d -> ReLU -> reshape (256, 7, 7)
    -> ConvTranspose2d(256, 128, 3, stride 1, pad 1) -> BatchNorm2d -> ReLU    # 128 x  7 x  7
    -> ConvTranspose2d(128, 64, 4, stride 2, pad 1) -> BatchNorm2d -> ReLU     #  64 x 14 x 14
    -> ConvTranspose2d(64, 1, 4, stride 2, pad 1) -> Tanh                      #   1 x 28 x 28

(``--deep-kernel 0`` drops the stride-1 layer: the classic Linear(100, 128*7*7) generator.)
Discriminator D (image -> one logit, "real")::

    Conv2d(1, 64, 4, stride 2, pad 1) -> LeakyReLU(0.2)                         #  64 x 14 x 14
    -> Conv2d(64, 128, 4, stride 2, pad 1) -> BatchNorm2d -> LeakyReLU(0.2)     # 128 x  7 x  7
    -> Conv2d(128, 256, 3, stride 2, pad 1) -> BatchNorm2d -> LeakyReLU(0.2)    # 256 x  4 x  4
    -> Flatten -> Linear(256*4*4, 1)

(``--d-depth 2`` drops the third convolution: Linear(128*7*7, 1) after the second, the
discriminator of the earlier runs in docs/results.md. ``--no-d-batch-norm``, ``--d-dropout P``
and ``--d-kernel 5`` give the TensorFlow tutorial's discriminator.) ``--g-width`` / ``--d-width`` scale the channels (128 and 64 above).
Weights start as in the DCGAN paper: N(0, 0.02) for convolutions and linear maps, BatchNorm's
gamma N(1, 0.02).

Losses, with ``s(.)`` the sigmoid and BCE with logits (``F.binary_cross_entropy_with_logits``,
the stable ``max(a, 0) - a*t + log(1 + exp(-|a|))``)::

    L_D = BCE(D(x), r) + BCE(D(G(z)), 0)   = -r log s(D(x)) - (1-r) log(1 - s(D(x))) - log(1 - s(D(G(z))))
    L_G = BCE(D(G(z)), 1)                  = -log s(D(G(z)))     (the non-saturating loss)

One step: draw z, update D on a real batch and a fake one (``G(z).detach()``: no gradient into
G), then update G through D with D frozen (``D.requires_grad_(False)``: D's weight gradients are
not computed at all, only the gradient flowing back to the image). Adam(2e-4, betas (0.5,
0.999)) for each, batch 64, as in the paper (``--lr-decay-from E``: both rates then fall
linearly to 0 over epochs E to the last). One-sided label smoothing: D's target for real
images is ``--real-label`` 0.9 (fakes stay 0, G's target stays 1).

Sampling: from an exponential moving average of G's weights (``--ema 0.9995``, updated after
every step; ``--ema 0`` samples from G itself). The average was never run on a batch, so
before sampling its BatchNorm layers get "standing" statistics: the mean of their batch
statistics over 20 fixed noise batches of 64 (``standing_statistics``), then it runs in eval
mode like any network.

Quality is measured, not eyeballed: a CNN trained on the real labels classifies 1,000 generated
digits (the EMA generator; G itself next to it) after every epoch: the share with probability
>= 0.9 ("confident") and the entropy of the predicted-class histogram (2.30 nats when uniform;
low when G collapses to a few digits); 1,000 real test digits give the reference.

Figures (under ``--out``): ``samples.png`` (the 8x8 grid from fixed noise after the last
epoch), ``frames/epoch_NN.png`` (the same grid after every epoch), ``samples.gif`` (those frames
animated; needs Pillow: ``pip install zerodl[images]``), ``losses.png`` (both losses per
iteration and the quality per epoch), ``real_vs_generated.png``; all rewritten after every epoch,
with the generator's weights (``generator.safetensors``), so a run stopped early keeps them.
``--checkpoint FILE`` also writes the whole training state after every epoch and ``--resume
FILE`` goes on from it exactly (``_gan_state.py``).

    python examples/dcgan.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import argparse
import contextlib
import io
import time

import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim

import _common as C
from _gan_figures import image_grid, losses_figure, real_vs_generated, save_frame, save_gif
from _gan_state import load_state, save_state

NOISE_DIM = 100
# The recipe's defaults (the full run in docs/results.md used these).
JUDGE_EPOCHS = 8  # trained to convergence (test accuracy flat from about 6 epochs): the measuring instrument
DEEP_KERNEL, D_BATCH_NORM, D_DROPOUT, D_KERNEL, REAL_LABEL, EMA = 3, True, 0.0, 4, 0.9, 0.9995
D_DEPTH, LR_DECAY_FROM = 3, 0
LR = 2e-4


class ToImage(nn.Module):
    """Reshape (N, C*H*W) -> (N, C, H, W)."""

    def __init__(self, channels, height, width):
        super().__init__()
        self.shape = (channels, height, width)

    def forward(self, x):
        return x.reshape(len(x), *self.shape)


def generator(width=128, noise_dim=NOISE_DIM, deep_kernel=0):
    """G: (N, noise_dim) noise -> (N, 1, 28, 28) images in [-1, 1]. ``deep_kernel`` k > 0 puts
    a stride-1 ConvTranspose2d(2*width, width, k) (BN, ReLU) at 7x7 in front, fed by
    Linear(noise_dim, 2*width*7*7)."""
    half = width // 2
    head = width * 2 if deep_kernel else width
    layers = [nn.Linear(noise_dim, head * 7 * 7), nn.BatchNorm1d(head * 7 * 7), nn.ReLU(), ToImage(head, 7, 7)]
    if deep_kernel:
        layers += [nn.ConvTranspose2d(head, width, deep_kernel, stride=1, padding=deep_kernel // 2),
                   nn.BatchNorm2d(width), nn.ReLU()]
    return nn.Sequential(
        *layers,
        nn.ConvTranspose2d(width, half, 4, stride=2, padding=1), nn.BatchNorm2d(half), nn.ReLU(),
        nn.ConvTranspose2d(half, 1, 4, stride=2, padding=1), nn.Tanh(),
    )


def discriminator(width=64, batch_norm=True, dropout=0.0, kernel=4, depth=2):
    """D: (N, 1, 28, 28) images -> (N, 1) logits of "real". ``batch_norm``: BatchNorm2d before
    the second LeakyReLU; ``dropout`` p > 0: Dropout(p) after each LeakyReLU; ``kernel`` 4 or 5
    (padding 1 or 2: 28 -> 14 -> 7 either way). ``depth`` 3 adds Conv2d(2*width, 4*width, 3,
    stride 2, pad 1) (7 -> 4; BatchNorm2d if ``batch_norm``, LeakyReLU) before the linear map."""
    pad = (kernel - 1) // 2

    def act():
        return [nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])

    def norm(channels):
        return [nn.BatchNorm2d(channels)] if batch_norm else []

    third = [nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), *norm(4 * width), *act()] if depth == 3 else []
    return nn.Sequential(
        nn.Conv2d(1, width, kernel, stride=2, padding=pad), *act(),
        nn.Conv2d(width, 2 * width, kernel, stride=2, padding=pad), *norm(2 * width), *act(),
        *third,
        nn.Flatten(), nn.Linear(4 * width * 4 * 4 if third else 2 * width * 7 * 7, 1),
    )


def dcgan_init(model):
    """The DCGAN paper's initialisation: weights N(0, 0.02), BatchNorm gamma N(1, 0.02), zero biases."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.W, std=0.02)
            if m.b is not None:
                nn.init.zeros_(m.b)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.gamma, std=0.02)
            m.gamma.data += 1
            nn.init.zeros_(m.beta)
    return model


def adam(model):
    return optim.Adam(model.parameters(), lr=LR, betas=(0.5, 0.999))


def gan_step(G, D, opt_G, opt_D, real, z, real_label=1.0):
    """One DCGAN step on a real batch and noise ``z`` (arrays); returns ``(L_D, L_G)`` as floats.
    ``real_label`` < 1: D's target for real images (one-sided label smoothing; G's stays 1)."""
    n = len(real)
    ones = np.ones((n, 1), real.dtype)
    real_targets = np.full((n, 1), real_label, real.dtype)
    zeros = np.zeros((n, 1), real.dtype)
    fake = G(zd.tensor(z))
    loss_D = (F.binary_cross_entropy_with_logits(D(zd.tensor(real)), real_targets)
              + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    D.requires_grad_(False)  # G's step: only the gradient with respect to the image flows through D
    loss_G = F.binary_cross_entropy_with_logits(D(fake), ones)
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    D.requires_grad_(True)
    return float(loss_D.data), float(loss_G.data)


def linear_decay(epoch, step, steps, first_epoch, epochs, lr=LR):
    """The learning rate at ``step`` (0-based) of ``epoch`` (1-based) when it falls linearly
    from ``lr`` at the first step of ``first_epoch`` to 0 after the last step of ``epochs``."""
    done = (epoch - first_epoch) * steps + step
    return lr * (1 - done / ((epochs - first_epoch + 1) * steps))


def set_lr(optimizers, lr):
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = lr


def ema_update(ema, model, decay):
    """In place, parameter by parameter: ``ema <- decay * ema + (1 - decay) * model``."""
    with zd.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.data *= decay
            e.data += (1 - decay) * p.data


def standing_statistics(G, z, batch_size=64):
    """Set the running mean and variance of every BatchNorm in ``G`` to the average of its
    batch statistics over the noise ``z`` (N, noise_dim), drawn in batches of ``batch_size``
    as in training; leaves ``G`` in eval mode. The averaged weights of an EMA generator were
    never run, so they have no running statistics of their own: these stand in for them."""
    norms = [m for m in G.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    momenta = [m.momentum for m in norms]
    G.train()
    with zd.no_grad():
        for k, i in enumerate(range(0, len(z), batch_size)):
            for m in norms:
                m.momentum = 1.0 / (k + 1)  # running = mean of the first k + 1 batch statistics
            G(zd.tensor(z[i:i + batch_size]))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return G.eval()


def generate(G, z, batch_size=500):
    """Images of G (eval mode, no graph) for noise ``z``: an array (N, 1, 28, 28) in [-1, 1]."""
    was_training = G.training
    G.eval()
    with zd.no_grad():
        out = np.concatenate([G(zd.tensor(z[i:i + batch_size])).data for i in range(0, len(z), batch_size)])
    G.train(was_training)
    return out


# ----------------------------------------------------------------------------- the judge
def digit_classifier():
    """A small CNN (conv 16 5x5, pool, conv 32 5x5, pool, linear 10) for images in [0, 1]."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 12 x 12
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 4 x 4
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


def class_probabilities(classifier, images01):
    classifier.eval()
    with zd.no_grad():
        return np.concatenate([F.softmax(classifier(zd.tensor(images01[i:i + 500]))).data
                               for i in range(0, len(images01), 500)])


def quality(classifier, images01, threshold=0.9):
    """``(share with max probability >= threshold, entropy of the predicted-class histogram in
    nats, histogram)`` of ``images01`` (N, 1, 28, 28) in [0, 1] as judged by ``classifier``."""
    p = class_probabilities(classifier, images01)
    hist = np.bincount(p.argmax(axis=1), minlength=10)
    q = hist[hist > 0] / hist.sum()
    return float((p.max(axis=1) >= threshold).mean()), float(0.0 - (q * np.log(q)).sum()), hist


# ----------------------------------------------------------------------------- main
def fit_judge(x_train, t_train, epochs):
    """The judge: :func:`digit_classifier` trained ``epochs`` epochs on real labels (Adam 1e-3, batch 100)."""
    judge = digit_classifier()
    judge.compile(optimizer=optim.Adam(judge.parameters(), lr=1e-3), loss="cross_entropy", metrics=["accuracy"])
    judge.fit(x_train, t_train, epochs=epochs, batch_size=100, verbose=0)
    return judge


def train_judge(args, x_train, t_train, x_test, t_test, epochs):
    with C.Timer("judge classifier"):
        judge = fit_judge(x_train, t_train, epochs)
    acc = C.accuracy(judge, x_test, t_test, batch_size=1000)
    C.result("judge_test_accuracy", acc)
    zd.save(judge.state_dict(), args.out / "judge.safetensors", metadata={"epochs": str(epochs)})
    return judge


def main(argv=None):
    def extra(p):
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--g-width", type=int, default=None, help="generator channels at 7x7 (default 128; --quick 32)")
        p.add_argument("--d-width", type=int, default=None, help="discriminator channels at 14x14 (default 64; --quick 8)")
        p.add_argument("--deep-kernel", type=int, default=DEEP_KERNEL,
                       help=f"G: kernel of a stride-1 ConvTranspose2d at 7x7 (default {DEEP_KERNEL}; 0: none)")
        p.add_argument("--d-batch-norm", action=argparse.BooleanOptionalAction, default=D_BATCH_NORM,
                       help=f"D: BatchNorm2d after its second (and third) convolution (default {D_BATCH_NORM})")
        p.add_argument("--d-dropout", type=float, default=D_DROPOUT,
                       help=f"D: Dropout after each LeakyReLU (default {D_DROPOUT}; 0: none)")
        p.add_argument("--d-kernel", type=int, default=D_KERNEL, choices=(4, 5),
                       help=f"D: kernel of its first two strided convolutions (default {D_KERNEL})")
        p.add_argument("--d-depth", type=int, default=D_DEPTH, choices=(2, 3),
                       help=f"D: strided convolutions (default {D_DEPTH}; 3 adds a 3x3 one to 4x4, 4x the width)")
        p.add_argument("--lr-decay-from", type=int, default=LR_DECAY_FROM,
                       help=f"both learning rates fall linearly to 0 from this epoch on (default {LR_DECAY_FROM}: constant)")
        p.add_argument("--real-label", type=float, default=REAL_LABEL,
                       help=f"D's target for real images (default {REAL_LABEL}; < 1: one-sided label smoothing)")
        p.add_argument("--also-ema", type=float, default=None,
                       help="judge a second weight average of G with this decay too (reported, not sampled)")
        p.add_argument("--save-eval", default=None,
                       help="write the last epoch's 1,000 judged samples in [-1, 1] to this .npz file")
        p.add_argument("--checkpoint", default=None,
                       help="write the whole training state to this file after every epoch (for --resume; "
                            "a {epoch} in the name, e.g. state_{epoch:02d}.safetensors, keeps one file per epoch)")
        p.add_argument("--resume", default=None, help="go on from a --checkpoint file (same networks; later options may differ)")
        p.add_argument("--ema", type=float, default=EMA,
                       help=f"decay of the generator's weight average used for sampling (default {EMA}; 0: none)")

    args = C.parse_args(__doc__, __file__, argv, extra,
                        epochs="GAN epochs (default 20; --quick 2)",
                        steps="GAN steps per epoch (default: one pass over the data; --quick 15)",
                        judge_epochs=f"epochs of the judge classifier (default {JUDGE_EPOCHS}; --quick 1)")
    rng = C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(
        args, n_train=1500 if args.quick else None, n_test=300 if args.quick else None)
    epochs = args.epochs or (2 if args.quick else 20)
    args.g_width = args.g_width or (32 if args.quick else 128)
    args.d_width = args.d_width or (8 if args.quick else 64)
    n_eval = 200 if args.quick else 1000

    judge = train_judge(args, x_train, t_train, x_test, t_test, args.judge_epochs or (1 if args.quick else JUDGE_EPOCHS))
    real_share, real_entropy, real_hist = quality(judge, x_test[:n_eval])
    C.result("real_share_p_ge_0.9", real_share)
    C.result("real_class_entropy_nats", real_entropy)
    print(f"  real test digits, histogram of predicted classes: {real_hist.tolist()}")

    G = dcgan_init(generator(args.g_width, deep_kernel=args.deep_kernel))
    D = dcgan_init(discriminator(args.d_width, batch_norm=args.d_batch_norm, dropout=args.d_dropout,
                                 kernel=args.d_kernel, depth=args.d_depth))
    opt_G, opt_D = adam(G), adam(D)
    if not 0.0 <= args.ema < 1.0 or args.lr_decay_from < 0:
        raise SystemExit(f"dcgan.py: --ema must be in [0, 1) and --lr-decay-from >= 0, got {args.ema}, {args.lr_decay_from}")
    G_ema = G.copy() if args.ema else None
    G_also = G.copy() if args.also_ema else None
    real_all = x_train * 2 - 1  # the generator's range: [-1, 1]
    steps = args.steps or (15 if args.quick else len(real_all) // args.batch_size)
    fixed_z = rng.standard_normal((64, NOISE_DIM)).astype(np.float32)
    eval_z = rng.standard_normal((n_eval, NOISE_DIM)).astype(np.float32)
    standing_z = rng.standard_normal((20 * args.batch_size, NOISE_DIM)).astype(np.float32)
    print(f"\nDCGAN: G width {args.g_width} (stride-1 kernel {args.deep_kernel or 'none'}), D width {args.d_width} "
          f"(depth {args.d_depth}, BatchNorm {args.d_batch_norm}, dropout {args.d_dropout}, kernel {args.d_kernel}), real label "
          f"{args.real_label}, Adam(2e-4, betas (0.5, 0.999))"
          + (f" falling linearly to 0 over epochs {args.lr_decay_from}-{epochs}" if args.lr_decay_from else "")
          + f", batch {args.batch_size}, {steps} steps x {epochs} epochs on {len(real_all)} images; "
          + (f"samples from the EMA of G (decay {args.ema})" if G_ema else "samples from G"))

    nets = {"G": G, "D": D, "G_ema": G_ema, "G_also": G_also}
    optimizers = {"G": opt_G, "D": opt_D}
    record = {"losses_D": [], "losses_G": [], "per_epoch": [], "frames": [], "first_ok": None}
    done = 0
    if args.resume:
        done, record = load_state(args.resume, nets, optimizers, rng)
        print(f"resumed from {args.resume} after epoch {done}")
    losses_D, losses_G, per_epoch, frames = (record[k] for k in ("losses_D", "losses_G", "per_epoch", "frames"))
    with C.Timer("GAN training") as timer:
        for epoch in range(done + 1, epochs + 1):
            order = rng.permutation(len(real_all))
            for s in range(steps):
                if args.lr_decay_from and epoch >= args.lr_decay_from:
                    set_lr((opt_G, opt_D), linear_decay(epoch, s, steps, args.lr_decay_from, epochs))
                idx = order[(s * args.batch_size) % len(order):][:args.batch_size]
                z = rng.standard_normal((len(idx), NOISE_DIM)).astype(np.float32)
                l_d, l_g = gan_step(G, D, opt_G, opt_D, real_all[idx], z, real_label=args.real_label)
                losses_D.append(l_d)
                losses_G.append(l_g)
                if G_ema is not None:
                    ema_update(G_ema, G, args.ema)
                if G_also is not None:
                    ema_update(G_also, G, args.also_ema)
            raw_share, raw_entropy, _ = quality(judge, (generate(G, eval_z) + 1) / 2)
            sampler = standing_statistics(G_ema, standing_z, args.batch_size) if G_ema is not None else G
            samples = generate(sampler, eval_z)
            share, entropy, hist = quality(judge, (samples + 1) / 2)
            if G_also is not None:
                also = quality(judge, (generate(standing_statistics(G_also, standing_z, args.batch_size), eval_z) + 1) / 2)
                print(f"  the weight average with decay {args.also_ema}: share {also[0]:.3f}, entropy {also[1]:.3f}")
            if args.save_eval:
                np.savez(args.save_eval, samples=samples)
            per_epoch.append((share, entropy, raw_share, raw_entropy))
            if record["first_ok"] is None and share >= 0.8 and entropy >= 2.1:
                record["first_ok"] = epoch
            frames.append(image_grid(generate(sampler, fixed_z)))
            save_frame(args, frames[-1], f"frames/epoch_{epoch:02d}.png")
            print(f"epoch {epoch:2d}: L_D {np.mean(losses_D[-steps:]):.3f}  L_G {np.mean(losses_G[-steps:]):.3f}  "
                  f"share p>=0.9 {share:.3f}  entropy {entropy:.3f}  classes {hist.tolist()}  "
                  + (f"(G itself: {raw_share:.3f}, {raw_entropy:.3f})  " if G_ema is not None else "")
                  + f"({time.perf_counter() - timer.t0:.0f} s)", flush=True)
            # Every epoch, so that a run stopped early still leaves its figures and weights.
            write_outputs(args, sampler, frames, losses_D, losses_G, per_epoch, real_share, x_test, fixed_z,
                          final=epoch == epochs)
            if args.checkpoint:
                save_state(args.checkpoint.format(epoch=epoch), epoch, nets, optimizers, rng, record)

    C.result("epochs", epochs)
    C.result("seconds_per_epoch", timer.seconds / max(1, epochs - done), "{:.1f}")
    C.result("generated_share_p_ge_0.9", per_epoch[-1][0])
    C.result("generated_class_entropy_nats", per_epoch[-1][1])
    C.result("generator_itself_share_p_ge_0.9", per_epoch[-1][2])
    C.result("generator_itself_class_entropy_nats", per_epoch[-1][3])
    C.result("first_epoch_meeting_target", record["first_ok"] or "not reached")


def write_outputs(args, G, frames, losses_D, losses_G, per_epoch, real_share, x_test, fixed_z, final):
    """samples.png, samples.gif, losses.png, real_vs_generated.png and generator.safetensors."""
    with contextlib.nullcontext() if final else contextlib.redirect_stdout(io.StringIO()):
        print(f"figure: {save_frame(args, frames[-1], 'samples.png')}")
        save_gif(args, frames)
        losses_figure(args, losses_D, losses_G, per_epoch, real_share)
        real_vs_generated(args, x_test[:64] * 2 - 1, generate(G, fixed_z))
    zd.save(G.state_dict(), args.out / "generator.safetensors",
            metadata={"epochs": str(len(per_epoch)), "g_width": str(args.g_width), "ema": str(args.ema)})

if __name__ == "__main__":
    main()
