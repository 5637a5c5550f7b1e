"""Short DCGAN diagnostics behind docs/results.md's dcgan.py section (not an example itself).

One training run of ``dcgan.py``'s networks and step for ``--steps`` steps; every ``--every``
steps 1,000 samples from fixed noise are judged (share with p >= 0.9, class entropy) four ways:
G in eval mode (running statistics), G in training mode (batch statistics, batches of 64),
the EMA of G's weights in training mode, and the EMA in eval mode with standing statistics
(what ``dcgan.py`` reports). ``--judge-npz FILE`` instead judges the arrays of an .npz file of
samples in [-1, 1] (e.g. those ``_dcgan_probe_torch.py`` writes from the same networks in PyTorch).

    python examples/_dcgan_probe.py --data-dir DIR [--g-width 64 --d-width 16] [--steps 1800]
    python examples/_dcgan_probe.py --data-dir DIR --judge-npz samples.npz

The judge is the one ``dcgan.py`` trains (same seed, 2 epochs), cached in ``--judge-cache``.
"""
import argparse
import os
import time

import numpy as np

import zerodl as zd
import zerodl.optim as optim

import _common as C
import dcgan


def judge_for(args, x_train, t_train):
    judge = dcgan.digit_classifier()
    if os.path.exists(args.judge_cache):
        judge.load_state_dict(zd.load(args.judge_cache))
        return judge
    judge.compile(optimizer=optim.Adam(judge.parameters(), lr=1e-3), loss="cross_entropy", metrics=["accuracy"])
    judge.fit(x_train, t_train, epochs=2, batch_size=100, verbose=0)
    zd.save(judge.state_dict(), args.judge_cache)
    return judge


def in_training_mode(G, z, batch_size=64):
    G = G.copy().train()  # a copy: batch statistics must not move G's running ones
    with zd.no_grad():
        return np.concatenate([G(zd.tensor(z[i:i + batch_size])).data for i in range(0, len(z), batch_size)])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"))
    p.add_argument("--g-width", type=int, default=64)
    p.add_argument("--d-width", type=int, default=16)
    p.add_argument("--steps", type=int, default=1800)
    p.add_argument("--every", type=int, default=300)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--judge-cache", default="/tmp/dcgan_probe_judge.safetensors")
    p.add_argument("--judge-npz", default=None)
    args = p.parse_args()
    args.quick, args.name = False, "dcgan_probe"
    rng = C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(args)
    judge = judge_for(args, x_train, t_train)
    share, entropy, _ = dcgan.quality(judge, x_test[:1000])
    print(f"judge: test accuracy {C.accuracy(judge, x_test, t_test, batch_size=1000):.4f}; "
          f"1,000 real test digits: share {share:.3f}, entropy {entropy:.3f}")
    if args.judge_npz:
        samples = np.load(args.judge_npz)
        for key in samples.files:
            share, entropy, hist = dcgan.quality(judge, (samples[key].astype(np.float32) + 1) / 2)
            print(f"{key}: share {share:.3f}  entropy {entropy:.3f}  classes {hist.tolist()}")
        return

    G = dcgan.dcgan_init(dcgan.generator(args.g_width))
    D = dcgan.dcgan_init(dcgan.discriminator(args.d_width))
    opt_G, opt_D = dcgan.adam(G), dcgan.adam(D)
    G_ema = G.copy()
    real = x_train * 2 - 1
    eval_z = rng.standard_normal((1000, dcgan.NOISE_DIM)).astype(np.float32)
    # Its own generator: the training draws stay those of the runs in docs/results.md.
    standing_z = np.random.default_rng(args.seed + 1).standard_normal((20 * 64, dcgan.NOISE_DIM)).astype(np.float32)
    order, pos, losses, t0 = rng.permutation(len(real)), 0, [], time.perf_counter()
    for step in range(1, args.steps + 1):
        if pos + 64 > len(order):
            order, pos = rng.permutation(len(real)), 0
        idx = order[pos:pos + 64]
        pos += 64
        z = rng.standard_normal((64, dcgan.NOISE_DIM)).astype(np.float32)
        losses.append(dcgan.gan_step(G, D, opt_G, opt_D, real[idx], z))
        dcgan.ema_update(G_ema, G, args.ema)
        if step % args.every:
            continue
        ways = {"G eval": dcgan.generate(G, eval_z), "G train": in_training_mode(G, eval_z),
                "EMA train": in_training_mode(G_ema, eval_z),
                "EMA standing": dcgan.generate(dcgan.standing_statistics(G_ema, standing_z), eval_z)}
        judged = {k: dcgan.quality(judge, (v + 1) / 2)[:2] for k, v in ways.items()}
        l_d, l_g = np.mean(losses[-args.every:], axis=0)
        print(f"step {step} ({time.perf_counter() - t0:.0f} s) L_D {l_d:.3f} L_G {l_g:.3f}  "
              + "  ".join(f"{k} {s:.3f}/{e:.2f}" for k, (s, e) in judged.items()), flush=True)


if __name__ == "__main__":
    main()
