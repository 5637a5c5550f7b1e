"""Seq2seq on the addition task (book 2, chapter 7 and 8): plain, reversed, peeky, attention.

Data: ``datasets.addition()``: 50,000 distinct questions ``"a+b"`` (a, b in 0..999), 45,000
train / 5,000 held-out test, questions padded to 7 characters, answers ``"_"`` + sum padded
to 5 (the book's ``addition.txt`` layout). Models (``zerodl.nn.seq2seq.Seq2seq``, the book's
sizes: embeddings 16, LSTM 128, Adam, gradients clipped to norm 5):

- ``baseline``: the plain encoder-decoder (book: about 10% after 25 epochs);
- ``reversed``: the same with the question reversed (book: about 50%);
- ``peeky``: reversed + the peeky decoder (book: 98.1% after 25 epochs);
- ``attention``: reversed + the attention decoder of chapter 8, here with 4-head attention
  (``nn.MultiheadAttention``), peeking, and a tanh layer of 128 before the output, 5 epochs.

Training: Adam, batch and rate by ``--recipe``: ``book`` is the book's (lr 1e-3 constant,
batch 128, 25 epochs); ``fast`` (default) is lr 3e-3 falling along a cosine to 0, batch 64,
10 epochs. The attention model always trains 5 epochs, lr 5e-3 (cosine), batch 64. The
score is the exact-match accuracy of greedy decoding on the test split, after every epoch;
at the end each model is also decoded with beam search (``--beam``).
Figure: ``accuracy.png`` (accuracy per epoch, each model; redrawn as each model finishes).

    python examples/seq2seq_addition.py [--quick] [--out DIR] [--epochs N] [--models a,b]
"""
import numpy as np

import zerodl as zd
from zerodl.data import datasets
from zerodl.nn.seq2seq import Seq2seq, exact_match

import _common as C
import _seq2seq as S

MODELS = {  # name -> Seq2seq arguments, reversed input
    "baseline": (dict(decoder="plain"), False),
    "reversed": (dict(decoder="plain"), True),
    "peeky": (dict(decoder="peeky"), True),
    "attention": (dict(decoder="attention", peeky=True, attention_heads=4, out_hidden=128), True),
}
RECIPES = {  # --recipe -> training settings (the attention model always has 5 epochs)
    "book": dict(epochs=25, lr=1e-3, batch=128, schedule="constant"),
    "fast": dict(epochs=10, lr=3e-3, batch=64, schedule="cosine"),
}
ATTENTION = dict(epochs=5, lr=5e-3, batch=64, schedule="cosine")


def main(argv=None):
    def extra(p):
        p.add_argument("--models", default=",".join(MODELS), help="comma-separated, of " + ", ".join(MODELS))
        p.add_argument("--beam", type=int, default=5, help="beam width for the final decoding (default 5)")
        p.add_argument("--hidden", type=int, default=None, help="LSTM size (default 128; --quick 32)")
        p.add_argument("--recipe", choices=sorted(RECIPES), default="fast",
                       help="training settings of the book's models (default fast)")

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs for every model (default: 25, "
                        "attention 5; --quick 2)")
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise SystemExit(f"seq2seq_addition: unknown model(s) {unknown}; choose from {list(MODELS)}")
    hidden = args.hidden or (32 if args.quick else 128)
    task = datasets.addition(n=2000 if args.quick else 50_000, seed=1984)
    print(f"addition: {len(task.x_train)} train / {len(task.x_test)} test questions, vocabulary "
          f"{len(task.vocab)}: {''.join(task.vocab.chars)!r}; e.g. {task.questions[0]!r} -> {task.answers[0]!r}")

    histories = {}
    for name in names:
        kwargs, reverse = MODELS[name]
        how = ATTENTION if name == "attention" else RECIPES[args.recipe]
        epochs, lr, batch = args.epochs or (2 if args.quick else how["epochs"]), how["lr"], how["batch"]
        zd.manual_seed(args.seed)
        model = Seq2seq(len(task.vocab), wordvec_size=16, hidden_size=hidden, **kwargs)
        print(f"{name}: {model.extra_repr()}, {kwargs}, reversed input {reverse}, {epochs} epochs, "
              f"Adam lr {lr} ({how['schedule']}), batch {batch}")
        steps = epochs * (len(task.x_train) // batch)
        schedule = S.cosine_schedule(lr, steps) if how["schedule"] == "cosine" else None
        with C.Timer(f"{name} training"):
            h = S.train(model, task, epochs, batch_size=batch, lr=lr, reverse=reverse, seed=args.seed,
                        label=name, before_step=schedule)
        histories[name] = h
        x_test = S.inputs(task.x_test, reverse)
        greedy, pred = exact_match(model, x_test, task.t_test)
        beam, _ = exact_match(model, x_test, task.t_test, beam_width=args.beam)
        S.show_examples(task, x_test, pred)
        C.result(f"{name}_exact_match_last_epoch", greedy)
        C.result(f"{name}_exact_match_best", max(h["accuracy"]))
        C.result(f"{name}_exact_match_beam{args.beam}", beam)
        C.result(f"{name}_epochs", len(h["accuracy"]))
        C.result(f"{name}_seconds_per_epoch", float(np.mean(h["seconds"])), "{:.1f}")
        # drawn after every model, so a long run that is stopped still leaves its figure
        S.accuracy_figure(args, histories, "accuracy.png",
                          f"Addition: test exact match (LSTM {hidden}, Adam, recipe {args.recipe!r})",
                          book=0.981, book_label="book 2, reversed + peeky: 98.1%")


if __name__ == "__main__":
    main()
