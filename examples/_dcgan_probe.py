"""Short DCGAN diagnostics behind docs/results.md's dcgan.py section (not an example itself).

One training run of ``dcgan.py``'s networks and step for ``--steps`` steps, with the recipe's
options (``--deep-kernel``, ``--d-no-bn``, ``--d-dropout``, ``--d-kernel``, ``--real-label``,
``--ema``); every ``--every`` steps 1,000 samples from fixed noise are judged (share with
p >= 0.9, class entropy) two ways: G in eval mode (running statistics) and the EMA of G's
weights in eval mode with standing statistics (what ``dcgan.py`` reports), with
``--train-modes`` also both in training mode (batch statistics), and the step time is printed; ``--save-npz FILE`` keeps those samples. ``--judge-npz FILE`` instead judges the
arrays of an .npz file of samples in [-1, 1] (e.g. those ``_dcgan_probe_torch.py`` writes
from the same networks in PyTorch, or a ``--save-npz`` file under another judge).

    python examples/_dcgan_probe.py --data-dir DIR [--g-width 128 --d-width 64] [--steps 1500]
    python examples/_dcgan_probe.py --data-dir DIR --judge-npz samples.npz

The judge is the one ``dcgan.py`` trains (``dcgan.fit_judge``, same seed, ``--judge-epochs``),
cached in ``--judge-cache`` (or dcgan.py's ``judge.safetensors``).
"""
import argparse
import os
import time

import numpy as np

import zerodl as zd

import _common as C
import dcgan


def judge_for(args, x_train, t_train):
    if os.path.exists(args.judge_cache):
        judge = dcgan.digit_classifier()
        judge.load_state_dict(zd.load(args.judge_cache))
        return judge
    judge = dcgan.fit_judge(x_train, t_train, args.judge_epochs)
    zd.save(judge.state_dict(), args.judge_cache)
    return judge


def unsure_pairs(p, threshold=0.9, top=6):
    """The most frequent (best, second-best) class pairs among the rows of ``p`` (N, 10) whose
    largest probability is below ``threshold``, as "a/b: count" strings."""
    unsure = p[p.max(axis=1) < threshold]
    best2 = np.argsort(unsure, axis=1)[:, ::-1][:, :2]
    pairs, counts = np.unique(best2, axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:top]
    return ", ".join(f"{a}/{b}: {c}" for (a, b), c in zip(pairs[order], counts[order]))


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
    p.add_argument("--judge-epochs", type=int, default=dcgan.JUDGE_EPOCHS)
    p.add_argument("--judge-cache", default=None,
                   help="judge weights: loaded if the file exists, else trained and saved there "
                        "(default /tmp/dcgan_probe_judge_<epochs>.safetensors; dcgan.py writes its judge.safetensors)")
    p.add_argument("--judge-npz", default=None)
    p.add_argument("--deep-kernel", type=int, default=0, help="G: stride-1 ConvTranspose2d of this kernel at 7x7 (0: none)")
    p.add_argument("--d-no-bn", action="store_true", help="D without BatchNorm")
    p.add_argument("--d-dropout", type=float, default=0.0)
    p.add_argument("--d-kernel", type=int, default=4)
    p.add_argument("--real-label", type=float, default=1.0, help="D's target for real images")
    p.add_argument("--train-modes", action="store_true",
                   help="also judge G and its EMA in training mode (batch statistics, batches of 64)")
    p.add_argument("--save-npz", default=None, help="write the judged samples (EMA standing, G eval) here")
    args = p.parse_args()
    args.quick, args.name = False, "dcgan_probe"
    args.judge_cache = args.judge_cache or f"/tmp/dcgan_probe_judge_{args.judge_epochs}.safetensors"
    rng = C.seed_everything(args.seed)
    (x_train, t_train), (x_test, t_test) = C.load_mnist_images(args)
    judge = judge_for(args, x_train, t_train)
    share, entropy, _ = dcgan.quality(judge, x_test[:1000])
    print(f"judge: test accuracy {C.accuracy(judge, x_test, t_test, batch_size=1000):.4f}; "
          f"1,000 real test digits: share {share:.3f}, entropy {entropy:.3f}")
    if args.judge_npz:
        samples = np.load(args.judge_npz)
        for key in samples.files:
            images01 = (samples[key].astype(np.float32) + 1) / 2
            share, entropy, hist = dcgan.quality(judge, images01)
            print(f"{key}: share {share:.3f}  entropy {entropy:.3f}  classes {hist.tolist()}  "
                  f"unsure: {unsure_pairs(dcgan.class_probabilities(judge, images01))}")
        return

    G = dcgan.dcgan_init(dcgan.generator(args.g_width, deep_kernel=args.deep_kernel))
    D = dcgan.dcgan_init(dcgan.discriminator(args.d_width, batch_norm=not args.d_no_bn, dropout=args.d_dropout,
                                             kernel=args.d_kernel))
    opt_G, opt_D = dcgan.adam(G), dcgan.adam(D)
    G_ema = G.copy()
    real = x_train * 2 - 1
    eval_z = rng.standard_normal((1000, dcgan.NOISE_DIM)).astype(np.float32)
    # Its own generator: the training draws stay those of the runs in docs/results.md.
    standing_z = np.random.default_rng(args.seed + 1).standard_normal((20 * 64, dcgan.NOISE_DIM)).astype(np.float32)
    order, pos, losses, t0, saved = rng.permutation(len(real)), 0, [], time.perf_counter(), {}
    t_last = t0
    for step in range(1, args.steps + 1):
        if pos + 64 > len(order):
            order, pos = rng.permutation(len(real)), 0
        idx = order[pos:pos + 64]
        pos += 64
        z = rng.standard_normal((64, dcgan.NOISE_DIM)).astype(np.float32)
        losses.append(dcgan.gan_step(G, D, opt_G, opt_D, real[idx], z, real_label=args.real_label))
        dcgan.ema_update(G_ema, G, args.ema)
        if step % args.every:
            continue
        step_time = time.perf_counter() - t_last
        ways = {"G eval": dcgan.generate(G, eval_z),
                "EMA standing": dcgan.generate(dcgan.standing_statistics(G_ema, standing_z), eval_z)}
        if args.train_modes:
            ways.update({"G train": in_training_mode(G, eval_z), "EMA train": in_training_mode(G_ema, eval_z)})
        judged = {k: dcgan.quality(judge, (v + 1) / 2)[:2] for k, v in ways.items()}
        if args.save_npz:
            saved.update({f"step_{step}_ema": ways["EMA standing"], f"step_{step}_G": ways["G eval"]})
            np.savez(args.save_npz, **saved)
        t_last = time.perf_counter()
        l_d, l_g = np.mean(losses[-args.every:], axis=0)
        print(f"step {step} ({time.perf_counter() - t0:.0f} s; {step_time / args.every * 1e3:.0f} ms/step) L_D {l_d:.3f} L_G {l_g:.3f}  "
              + "  ".join(f"{k} {s:.3f}/{e:.2f}" for k, (s, e) in judged.items()), flush=True)


if __name__ == "__main__":
    main()
