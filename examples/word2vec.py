"""word2vec on the King James Bible: skip-gram or CBOW with negative sampling (book 2, ch. 4).

Data: ``zerodl.data.datasets.kjv_bible("train")``, words lower-cased, those seen at least
``--min-freq`` times (the rest are dropped). Each epoch subsamples frequent words (``--t``),
takes ``--window`` words on each side as contexts, and draws ``--negatives`` negatives per
example from the unigram distribution ** 0.75 (``zerodl.text.word2vec``). Model: two (V, D)
tables with row-sparse gradients; plain SGD on the loss summed over the batch, the learning
rate decaying linearly from ``--lr`` to 0 (word2vec's schedule).

Prints the nearest neighbours (cosine) of ten frequent words and the accuracy on an analogy
set written for this corpus (``zerodl.text.analogies``), saves the vectors with their
vocabulary (``vectors.safetensors`` + ``vectors.vocab.json``) and draws ``projection.png``
(2-D principal components of chosen words) under ``--out``.

    python examples/word2vec.py [--quick] [--model skipgram|cbow] [--epochs N] [--dim N]
                                [--window N] [--negatives N] [--batch-size N] [--lr X]
"""
import time
from pathlib import Path

import numpy as np

import zerodl.optim as optim
from zerodl.data import datasets
from zerodl.data.text import Vocab, encode_lines, tokenize_words
from zerodl.text.analogies import kjv_analogy_questions
from zerodl.text.vectors import most_similar, project_2d, save_vectors, score_analogies
from zerodl.text.word2vec import CBOW, SkipGram, Word2VecBatches, negative_sampling_loss

import _common as C

QUERY_WORDS = ("lord", "god", "king", "son", "israel", "people", "house", "day", "land", "father")
FIGURE_WORDS = ("king", "queen", "prince", "man", "woman", "father", "mother", "son", "daughter",
                "brother", "sister", "gold", "silver", "brass", "iron", "bread", "wine", "oil",
                "ox", "sheep", "goats", "camels", "one", "two", "three", "seven", "ten")


def add_options(parser):
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--lr", type=float, default=0.05, help="initial SGD learning rate per example "
                        "(default 0.05)")
    parser.add_argument("--t", type=float, default=1e-4, help="subsampling threshold (0: off)")


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv, extra=add_options, epochs="passes over the data (default 5)",
                        dim="vector size (default 100)", window="context words on each side (default 3)",
                        negatives="negative samples per example (default 5)",
                        batch_size="examples per step (default 1024)", min_freq="default 20")
    defaults = dict(epochs=1 if args.quick else 5, dim=16 if args.quick else 100, window=3, negatives=5,
                    batch_size=256 if args.quick else 1024, min_freq=5 if args.quick else 20)
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    lr0 = args.lr
    C.seed_everything(args.seed)

    verses = datasets.kjv_bible("train")
    if args.quick:
        verses = verses[:2000]
    vocab = Vocab.build((tokenize_words(v) for v in verses), min_freq=args.min_freq)
    ids = encode_lines(verses, vocab, add_eos=False)
    print(f"data: King James Bible (train split), {len(ids)} words, vocabulary {len(vocab)}")
    batches = Word2VecBatches(ids, vocab.counts, model=args.model, window=args.window,
                              negatives=args.negatives, batch_size=args.batch_size, t=args.t,
                              drop=(vocab.unk_id,), seed=args.seed)
    Model = SkipGram if args.model == "skipgram" else CBOW
    model = Model(len(vocab), args.dim, sparse=True)
    opt = optim.SGD(model.parameters(), lr=lr0)
    n_steps = args.epochs * int(np.ceil(len(batches.examples()[1]) / args.batch_size))  # approximate
    step, losses, t0 = 0, [], time.time()
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        for x, targets in batches:
            opt.lr = lr0 * max(1e-4, 1.0 - step / n_steps)
            loss = negative_sampling_loss(model(x, targets), reduction="sum")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.data)
            count += len(targets)
            step += 1
        losses.append(total / count)
        print(f"epoch {epoch + 1}: loss per example {losses[-1]:.4f}  ({time.time() - t0:.0f} s)", flush=True)
    C.result("final_loss", losses[-1])
    C.result("train_seconds", time.time() - t0, "{:.0f}")

    W = model.vectors
    print("nearest neighbours (cosine similarity):")
    for w in QUERY_WORDS:
        if w in vocab:
            near = ", ".join(f"{n} {s:.2f}" for n, s in most_similar(w, vocab, W, top=6))
            print(f"  {w:8s} -> {near}")
    questions = kjv_analogy_questions()
    total_right = total_asked = 0
    for rel, qs in questions.items():
        acc, asked, answers = score_analogies(qs, vocab, W)
        total_right += round(acc * asked)
        total_asked += asked
        example = next((f"{a}:{b} :: {c}:{g}" for (a, b, c, d), g in answers if g == d), "none right")
        print(f"  analogy {rel:15s} {acc * 100:5.1f}% of {asked}  (e.g. {example})")
    C.result("analogy_accuracy", total_right / max(total_asked, 1))
    C.result("analogy_questions", total_asked)

    path = save_vectors(Path(args.out) / "vectors.safetensors", W, vocab)
    print(f"saved: {path} (+ vocabulary beside it)")

    words = [w for w in FIGURE_WORDS if w in vocab]
    xy = project_2d(W[[vocab.stoi[w] for w in words]])
    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(xy[:, 0], xy[:, 1], s=12)
    for (x, y), w in zip(xy, words):
        ax.annotate(w, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    C.decorate(ax, "principal component 1", "principal component 2",
               f"{args.model} vectors (D={args.dim}), King James Bible", legend=False)
    C.save_figure(fig, args, "projection.png")
    return total_right / max(total_asked, 1)


if __name__ == "__main__":
    main()
