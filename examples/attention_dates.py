"""Seq2seq with attention on date formats (book 2, chapter 8), with its attention maps.

Data: ``datasets.dates()``: 50,000 distinct dates (1970-2029) written in 13 human formats
(``"september 27, 1994"``, ``"9/27/94"``, ``"TUE, 27 SEP 1994"``, ``"27.09.1994"``, ...),
answers ``"_YYYY-MM-DD"``; 45,000 train / 5,000 held-out test. Model: the book's
AttentionSeq2seq (embeddings 16, gradients clipped to norm 5) with the
additions of ``seq2seq_addition.py``'s attention model: 4-head attention
(``nn.MultiheadAttention``), peeky, a tanh layer of 128 before the output; LSTM 128, Adam
lr 5e-3 with a cosine decay to 0, batch 128, ``--epochs`` (default 5). ``--book`` trains the
book's own model instead (dot-product attention, LSTM 256, constant lr 1e-3). The book
reaches 99.9% exact match. The questions are read in their own order (``--reverse``, and
``--book``, reverse them as the book does: with the padding in front that learns far slower).

Figures: ``accuracy.png`` (test exact match per epoch) and ``attention_map.png`` (the
attention weights of a few test questions: output characters down, input characters across,
shown in the question's own order).

    python examples/attention_dates.py [--quick] [--out DIR] [--epochs N] [--hidden N]
"""
import numpy as np

import zerodl as zd
from zerodl.data import datasets
from zerodl.nn.seq2seq import Seq2seq, exact_match

import _common as C
import _seq2seq as S


def attention_maps(args, model, task, n=4, reverse=True):
    """Heat maps of the attention weights (Ty-1, Tx) of the first ``n`` test questions."""
    x = S.inputs(task.x_test[:n], reverse)
    t = task.t_test[:n]
    w = model.attention_weights(x, t[:, :-1]).data
    w = w[:, :, ::-1] if reverse else w  # in the question's own order
    return S.attention_figure(args, w, task, task.x_test[:n], t, "attention_map.png",
                              "attention weights: output (down) over the input (across)")


def main(argv=None):
    def extra(p):
        p.add_argument("--hidden", type=int, default=None, help="LSTM size (default 128, --book 256; --quick 32)")
        p.add_argument("--book", action="store_true", help="the book's model and settings")
        p.add_argument("--reverse", action="store_true",
                       help="feed the questions reversed (the book's trick; slow here, see docs/results.md)")

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs (default 5; --quick 2)")
    epochs = args.epochs or (2 if args.quick else 5)
    hidden = args.hidden or (32 if args.quick else 256 if args.book else 128)
    task = datasets.dates(n=2000 if args.quick else 50_000, seed=1984)
    print(f"dates: {len(task.x_train)} train / {len(task.x_test)} test, questions padded to "
          f"{task.x_train.shape[1]}, vocabulary {len(task.vocab)}; e.g. {task.questions[0]!r} -> {task.answers[0]!r}")
    zd.manual_seed(args.seed)
    reverse = args.reverse or args.book
    extra = {} if args.book else dict(peeky=True, attention_heads=4, out_hidden=128)
    model = Seq2seq(len(task.vocab), wordvec_size=16, hidden_size=hidden, decoder="attention", **extra)
    lr = 1e-3 if args.book else 5e-3
    schedule = None if args.book else S.cosine_schedule(lr, epochs * (len(task.x_train) // 128))
    print(f"model: {model.extra_repr()} {extra}; Adam lr {lr} ({'constant' if args.book else 'cosine'}), batch 128")
    with C.Timer("training"):
        h = S.train(model, task, epochs, lr=lr, reverse=reverse, seed=args.seed, label="attention",
                    before_step=schedule)
    x_test = S.inputs(task.x_test, reverse)
    greedy, pred = exact_match(model, x_test, task.t_test)
    beam, _ = exact_match(model, x_test, task.t_test, beam_width=3)
    S.show_examples(task, x_test, pred, n=8)
    C.result("dates_attention_exact_match", greedy)
    C.result("dates_attention_exact_match_beam3", beam)
    C.result("dates_attention_test_errors", int(round((1 - greedy) * len(x_test))))
    C.result("epochs", len(h["accuracy"]))
    C.result("seconds_per_epoch", float(np.mean(h["seconds"])), "{:.1f}")
    S.accuracy_figure(args, {f"attention (LSTM {hidden})": h}, "accuracy.png",
                      "Dates -> YYYY-MM-DD: test exact match", book=0.999, book_label="book 2: 99.9%")
    attention_maps(args, model, task, reverse=reverse)


if __name__ == "__main__":
    main()
