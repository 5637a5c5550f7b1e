"""Variational autoencoder (Kingma & Welling, 2014) on MNIST, with a 2-D latent space.

Model. Prior ``p(z) = N(0, I)`` (z of ``--latent-dim`` numbers, 2 by default so that the latent
space can be drawn); decoder ``p(x|z)``: independent Bernoulli pixels with logits ``f(z)``;
encoder ``q(z|x) = N(mu(x), diag(exp(logvar(x))))``. Networks (ReLU)::

    encoder: 784 -> 512 -> 256 -> (mu: latent, logvar: latent)
    decoder: latent -> 256 -> 512 -> 784 logits

Loss: the negative evidence lower bound, averaged over the batch, for each image x::

    ELBO(x) = E_{q(z|x)}[ log p(x|z) ] - KL( q(z|x) || p(z) )  <=  log p(x)
    log p(x|z) = sum_pixels [ x log s(f(z)) + (1 - x) log(1 - s(f(z))) ]
               = -784 * F.binary_cross_entropy_with_logits(f(z), x)     (mean over the pixels)
    KL = -1/2 * sum_j ( 1 + logvar_j - mu_j**2 - exp(logvar_j) )        (closed form, Gaussians)

Reparameterisation trick: the expectation is estimated with one sample drawn as
``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (``zd.randn``) a constant of the graph, so the
gradient reaches ``mu`` and ``logvar`` through ordinary arithmetic (``d z / d mu = 1``,
``d z / d logvar = z_std * eps / 2``) instead of through a sampling step.

Reported: the test ELBO (one sample per image, nats per image; higher is better) with its two
terms. Figures: ``prior_samples.png`` (decoder images of z ~ N(0, I)), ``latent_space.png``
(test digits' means mu(x) coloured by label, and the images decoded on a grid over the 2-D
latent plane), ``elbo.png`` (train and test ELBO per epoch).

    python examples/vae.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N] [--latent-dim D]
"""
import numpy as np

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim

import _common as C

PIXELS = 784


class VAE(nn.Module):
    """Encoder to (mu, logvar), decoder from z to pixel logits; shapes in the module docstring."""

    def __init__(self, latent_dim=2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(PIXELS, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU())
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                                     nn.Linear(512, PIXELS))

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def forward(self, x, eps):
        """``x`` (N, 784) in [0, 1], ``eps`` (N, latent) standard normal -> (logits, mu, logvar)."""
        mu, logvar = self.encode(x)
        z = mu + F.exp(0.5 * logvar) * eps  # the reparameterisation trick
        return self.decoder(z), mu, logvar


def negative_elbo(model, x, eps):
    """``(loss, reconstruction term, KL term)``: loss = mean over the batch of -ELBO (a Tensor);
    the two terms as floats (nats per image)."""
    logits, mu, logvar = model(zd.tensor(x), zd.tensor(eps))
    recon = PIXELS * F.binary_cross_entropy_with_logits(logits, x)          # -E[log p(x|z)]
    kl = -0.5 * (1 + logvar - mu * mu - F.exp(logvar)).sum() / len(x)    # KL(q || p)
    return recon + kl, float(recon.data), float(kl.data)


def evaluate(model, x, rng, batch_size=1000):
    """Test ELBO (one sample of z per image): ``(elbo, reconstruction log-likelihood, KL)``."""
    total = np.zeros(3)
    with zd.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            loss, recon, kl = negative_elbo(model, xb, rng.standard_normal((len(xb), model.latent_dim)).astype(np.float32))
            total += len(xb) * np.array([-float(loss.data), -recon, kl])
    return tuple(total / len(x))


def decode(model, z):
    with zd.no_grad():
        return F.sigmoid(model.decoder(zd.tensor(z.astype(np.float32)))).data.reshape(-1, 28, 28)


def tile(images, nrow):
    """(n, 28, 28) -> one (rows*28, nrow*28) picture."""
    n = len(images)
    rows = -(-n // nrow)
    out = np.ones((rows * 28, nrow * 28), np.float32)
    for k in range(n):
        r, c = divmod(k, nrow)
        out[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = images[k]
    return out


def figures(args, model, x_test, t_test, curves, rng):
    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(tile(decode(model, rng.standard_normal((64, model.latent_dim))), 8), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"VAE: decoded samples z ~ N(0, I), latent dim {model.latent_dim}")
    ax.axis("off")
    C.save_figure(fig, args, "prior_samples.png")

    if model.latent_dim == 2:
        with zd.no_grad():
            mu = np.concatenate([model.encode(zd.tensor(x_test[i:i + 1000]))[0].data for i in range(0, len(x_test), 1000)])
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, 6.2))
        pts = ax0.scatter(mu[:, 0], mu[:, 1], c=t_test, cmap="tab10", s=3, alpha=0.7)
        fig.colorbar(pts, ax=ax0, ticks=range(10), label="digit")
        C.decorate(ax0, "z[0]", "z[1]", title="test digits: encoder means mu(x)", legend=False)
        n, lim = 15, 2.5
        grid = np.linspace(-lim, lim, n)
        zs = np.array([[a, b] for b in grid[::-1] for a in grid])
        ax1.imshow(tile(decode(model, zs), n), cmap="gray", vmin=0, vmax=1, extent=(-lim, lim, -lim, lim))
        ax1.set_title(f"decoder images over the latent plane [-{lim}, {lim}]^2")
        ax1.set_xlabel("z[0]")
        ax1.set_ylabel("z[1]")
        C.save_figure(fig, args, "latent_space.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ep = np.arange(1, len(curves["train"]) + 1)
    ax.plot(ep, curves["train"], marker="o", label="train (mean over the epoch)")
    ax.plot(ep, curves["test"], marker="s", ls="--", label="test")
    C.decorate(ax, "epoch", "ELBO (nats per image)", title="VAE evidence lower bound")
    C.save_figure(fig, args, "elbo.png")


def main(argv=None):
    def extra(p):
        p.add_argument("--batch-size", type=int, default=128)
        p.add_argument("--latent-dim", type=int, default=2)
        p.add_argument("--lr", type=float, default=1e-3)

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs (default 6; --quick 2)")
    rng = C.seed_everything(args.seed)
    (x_train, _), (x_test, t_test) = C.load_mnist(
        args, n_train=600 if args.quick else None, n_test=200 if args.quick else None)
    epochs = args.epochs or (2 if args.quick else 6)
    model = VAE(args.latent_dim)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    curves = {"train": [], "test": []}
    print(f"VAE: latent dim {args.latent_dim}, Adam lr {args.lr}, batch {args.batch_size}, {epochs} epochs")
    with C.Timer("training") as timer:
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            total = 0.0
            for i in range(0, len(order), args.batch_size):
                xb = x_train[order[i:i + args.batch_size]]
                eps = zd.randn(len(xb), args.latent_dim)  # zerodl's seeded generator
                loss, _, _ = negative_elbo(model, xb, eps)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.data) * len(xb)
            curves["train"].append(-total / len(x_train))
            elbo, rec, kl = evaluate(model, x_test, np.random.default_rng(args.seed + 1))
            curves["test"].append(elbo)
            print(f"epoch {epoch + 1:2d}: train ELBO {curves['train'][-1]:8.2f}  test ELBO {elbo:8.2f} "
                  f"(log p(x|z) {rec:8.2f}, KL {kl:5.2f})", flush=True)
    C.result("epochs", epochs)
    C.result("seconds_per_epoch", timer.seconds / epochs, "{:.1f}")
    C.result("test_elbo_nats", elbo, "{:.2f}")
    C.result("test_reconstruction_loglik_nats", rec, "{:.2f}")
    C.result("test_kl_nats", kl, "{:.2f}")
    figures(args, model, x_test, t_test, curves, np.random.default_rng(args.seed + 2))


if __name__ == "__main__":
    main()
