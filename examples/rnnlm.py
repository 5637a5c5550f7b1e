"""Recurrent language model on the King James Bible (book 2's BetterRnnlm), word or character level.

Model: Embedding -> Dropout -> LSTM (or GRU, ``--cell gru``) x ``--layers`` -> Dropout ->
Linear to the vocabulary, with the output weight tied to the embedding (``zerodl.text.RNNLM``).
Training: truncated BPTT over ``--bptt`` steps with the per-row offsets of the book
(``zerodl.data.text.StreamBatches``), plain SGD, gradients clipped to total norm ``--clip``;
the learning rate is ``--lr`` and is divided by 4 before each of the last ``--decay-epochs``
epochs (a fixed schedule, so that the PyTorch twin, bench/rnnlm_torch.py, follows the same one).
Perplexity on the validation split after every epoch, once on the test split at the end;
then a few samples of generated text (temperature and top-k).

Data: ``zerodl.data.datasets.kjv_bible`` (shipped with zerodl; fixed train/valid/test splits),
words lower-cased and seen at least ``--min-freq`` times in training (the rest ``<unk>``), a
``<eos>`` after each verse. ``--level char``: characters instead of words. ``--data-dir DIR``
holding ptb.train.txt / ptb.valid.txt / ptb.test.txt trains on the Penn Treebank instead.

Writes ``perplexity.png``, the weights ``rnnlm.safetensors`` and beside them the vocabulary
``rnnlm.vocab.json`` under ``--out``.

    python examples/rnnlm.py [--quick] [--level word|char] [--cell lstm|gru] [--epochs N]
                             [--hidden N] [--layers N] [--batch-size N] [--bptt N] [--lr X]
"""
import sys
import time
from pathlib import Path

import numpy as np

import zerodl as zd
import zerodl.optim as optim
from zerodl.data.corpus import kjv_lm_splits
from zerodl.data.text import StreamBatches, load_ptb, vocab_path_for
from zerodl.text import RNNLM, generate, perplexity, train_epoch

import _common as C

# The full run (what docs/results.md reports); the PyTorch twin imports these.
DEFAULTS = dict(level="word", cell="lstm", hidden=128, layers=2, dropout=0.2, batch_size=32,
                bptt=35, lr=20.0, clip=0.25, epochs=5, decay_epochs=2, min_freq=10)
QUICK = dict(hidden=32, layers=1, batch_size=8, bptt=10, epochs=2, decay_epochs=1)
QUICK_TOKENS = (6000, 1000)  # training and evaluation ids kept with --quick


def lr_at(epoch, args):
    """The fixed schedule: ``lr`` for every epoch but the last ``decay_epochs``, each of which
    divides it by 4 again (epoch counts from 0)."""
    return args.lr / 4.0 ** max(0, epoch - (args.epochs - args.decay_epochs) + 1)


def add_options(parser):
    d = DEFAULTS
    parser.add_argument("--level", choices=("word", "char"), default=d["level"])
    parser.add_argument("--cell", choices=("lstm", "gru"), default=d["cell"])
    for name in ("hidden", "layers", "batch_size", "bptt", "epochs", "decay_epochs", "min_freq"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None,
                            help=f"default {d[name]}")
    for name in ("dropout", "lr", "clip"):
        parser.add_argument("--" + name, type=float, default=d[name], help=f"default {d[name]}")
    parser.add_argument("--samples", type=int, default=3, help="generated samples to print")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=40)


def finish_args(args):
    """Fill the integer options left unset: ``QUICK`` values with --quick, else ``DEFAULTS``."""
    for name, value in DEFAULTS.items():
        if getattr(args, name, None) is None:
            setattr(args, name, QUICK.get(name, value) if args.quick else value)
    return args


def load_data(args, argv):
    """``(vocab, splits, source)``: PTB when ``--data-dir`` holds it, else the shipped corpus."""
    folder = Path(args.data_dir) if args.data_dir else None
    if folder is not None and (folder / "ptb.train.txt").exists():
        vocab, splits = load_ptb(folder)
        source = f"Penn Treebank ({folder})"
    elif folder is not None and "--data-dir" in (argv or sys.argv[1:]):
        raise SystemExit(f"rnnlm.py: no ptb.train.txt in {folder} (--data-dir names the PTB folder)")
    else:
        vocab, splits = kjv_lm_splits(args.level, min_freq=args.min_freq)
        source = f"King James Bible, {args.level} level"
    if args.quick:
        n_train, n_eval = QUICK_TOKENS
        splits = {s: ids[: n_train if s == "train" else n_eval] for s, ids in splits.items()}
    return vocab, splits, source


def main(argv=None):
    args = finish_args(C.parse_args(__doc__, __file__, argv, extra=add_options))
    C.seed_everything(args.seed)
    vocab, splits, source = load_data(args, argv)
    print(f"data: {source}; vocabulary {len(vocab)}; tokens train {len(splits['train'])}, "
          f"valid {len(splits['valid'])}, test {len(splits['test'])}")
    H = args.hidden
    model = RNNLM(len(vocab), embed_dim=H, hidden_size=H, num_layers=args.layers,
                  dropout=args.dropout, cell=args.cell, tie_weights=True)
    opt = optim.SGD(model.parameters(), lr=args.lr)
    train = StreamBatches(splits["train"], args.batch_size, args.bptt)
    valid = StreamBatches(splits["valid"], 10, args.bptt)
    test = StreamBatches(splits["test"], 10, args.bptt)
    print(f"model: {args.cell.upper()} {args.layers}x{H}, tied, dropout {args.dropout}; "
          f"batch {args.batch_size} x {args.bptt} steps, {len(train)} batches/epoch")
    curve = {"train": [], "valid": []}
    t0 = time.time()
    for epoch in range(args.epochs):
        opt.lr = lr_at(epoch, args)
        curve["train"].append(train_epoch(model, train, opt, clip=args.clip))
        curve["valid"].append(perplexity(model, valid))
        print(f"epoch {epoch + 1}: lr {opt.lr:g}  train ppl {curve['train'][-1]:.2f}  "
              f"valid ppl {curve['valid'][-1]:.2f}  ({time.time() - t0:.0f} s)", flush=True)
    test_ppl = perplexity(model, test)
    C.result("valid_perplexity", curve["valid"][-1], "{:.2f}")
    C.result("test_perplexity", test_ppl, "{:.2f}")
    C.result("train_seconds", time.time() - t0, "{:.0f}")

    weights = Path(args.out) / "rnnlm.safetensors"
    zd.save(model.state_dict(), weights, metadata={"vocab": vocab_path_for(weights).name})
    vocab.save(vocab_path_for(weights))
    print(f"saved: {weights} and {vocab_path_for(weights)}")

    rng = np.random.default_rng(args.seed)
    joiner = "" if args.level == "char" else " "
    start = "And" if args.level == "char" else "and"
    prefix = vocab.encode(list(start) if args.level == "char" else [start])
    for i in range(args.samples):
        ids = generate(model, prefix, 200 if args.level == "char" else 40, temperature=args.temperature,
                       top_k=min(args.top_k, len(vocab)), rng=rng)
        words = [("\n" if t == "<eos>" else t) for t in vocab.decode(ids)]
        print(f"sample {i + 1} (T={args.temperature}, top-k {args.top_k}): {start}{joiner}{joiner.join(words)}")

    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, args.epochs + 1)
    ax.plot(epochs, curve["train"], "o-", label="train (dropout on)")
    ax.plot(epochs, curve["valid"], "s-", label="validation")
    ax.axhline(test_ppl, color="gray", ls="--", label=f"test {test_ppl:.1f}")
    C.decorate(ax, "epoch", "perplexity", f"{args.cell.upper()} LM, {source}")
    C.save_figure(fig, args, "perplexity.png")
    return test_ppl


if __name__ == "__main__":
    main()
