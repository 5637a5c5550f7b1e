"""A small Transformer on date formats: the step past book 2's attention seq2seq.

Data: ``datasets.dates()`` (the same 45,000 / 5,000 split as ``attention_dates.py``).
Model: ``nn.Seq2seqTransformer``: token embeddings plus sinusoidal positional encodings,
``--layers`` encoder and decoder layers (pre-norm: LayerNorm, ``nn.MultiheadAttention``
with ``--heads`` heads, a ReLU feed-forward block), causal self-attention in the decoder,
the source's trailing spaces masked out of the attention over it (``pad_id``). Adam with a
linear warm-up over the first ``--warmup`` steps, then a cosine decay to 0 at the last step;
batch 128, gradients clipped to norm 1.
Exact match of greedy decoding on the test split after every epoch; beam search at the end.

Figures: ``accuracy.png`` (test exact match per epoch) and ``cross_attention.png`` (the
last decoder layer's attention over the question, averaged over heads, for a few questions).

    python examples/transformer_dates.py [--quick] [--out DIR] [--epochs N] [--d-model N]
"""
import numpy as np

import zerodl as zd
import zerodl.nn as nn
from zerodl.data import datasets
from zerodl.nn.seq2seq import exact_match

import _common as C
import _seq2seq as S


def cross_attention_figure(args, model, task, n=4):
    """Heat maps of the last decoder layer's attention over the question (averaged over heads)."""
    x, t = task.x_test[:n], task.t_test[:n]
    layer = model.decoder[len(model.decoder) - 1]
    seen = {}
    original = layer.cross_attn.forward

    def spy(query, key, value, **kw):  # keep the weights the layer computes
        kw["need_weights"] = True
        out, w = original(query, key, value, **kw)
        seen["w"] = w
        return out, w

    layer.cross_attn.forward = spy
    model.eval()
    with zd.no_grad():
        model(x, t[:, :-1])
    del layer.cross_attn.forward
    return S.attention_figure(args, seen["w"].data, task, x, t, "cross_attention.png",
                              "Transformer: last decoder layer's attention over the question (mean of heads)")


def main(argv=None):
    def extra(p):
        p.add_argument("--d-model", type=int, default=None, help="model width (default 32; --quick 16)")
        p.add_argument("--heads", type=int, default=4)
        p.add_argument("--layers", type=int, default=2, help="encoder and decoder layers (default 2)")
        p.add_argument("--ff", type=int, default=None, help="feed-forward width (default 2 x d_model)")
        p.add_argument("--dropout", type=float, default=0.0)
        p.add_argument("--lr", type=float, default=3e-3)
        p.add_argument("--warmup", type=int, default=200, help="warm-up steps (default 200, at most a fifth of all)")

    args = C.parse_args(__doc__, __file__, argv, extra, epochs="epochs (default 10; --quick 2)")
    epochs = args.epochs or (2 if args.quick else 10)
    d = args.d_model or (16 if args.quick else 32)
    task = datasets.dates(n=1000 if args.quick else 50_000, seed=1984)
    pad = task.vocab.char_to_id[" "]
    print(f"dates: {len(task.x_train)} train / {len(task.x_test)} test, vocabulary {len(task.vocab)}")
    zd.manual_seed(args.seed)
    model = nn.Seq2seqTransformer(len(task.vocab), d_model=d, nhead=args.heads, num_encoder_layers=args.layers,
                                  num_decoder_layers=args.layers, dim_feedforward=args.ff or 2 * d,
                                  dropout=args.dropout, max_len=64, pad_id=pad)
    n_params = sum(p.size for p in model.parameters())
    print(f"Transformer: d_model {d}, {args.heads} heads, {args.layers}+{args.layers} layers, "
          f"{n_params} parameters; Adam lr {args.lr}, warm-up {args.warmup} steps")
    steps = epochs * (len(task.x_train) // 128)
    with C.Timer("training"):
        h = S.train(model, task, epochs, lr=args.lr, max_grad=1.0, seed=args.seed, label="transformer",
                    before_step=S.cosine_schedule(args.lr, steps, min(args.warmup, steps // 5)))
    greedy, pred = exact_match(model, task.x_test, task.t_test)
    beam, _ = exact_match(model, task.x_test, task.t_test, beam_width=3)
    S.show_examples(task, task.x_test, pred, n=8)
    C.result("dates_transformer_exact_match", greedy)
    C.result("dates_transformer_exact_match_beam3", beam)
    C.result("dates_transformer_test_errors", int(round((1 - greedy) * len(task.x_test))))
    C.result("epochs", len(h["accuracy"]))
    C.result("parameters", n_params)
    C.result("seconds_per_epoch", float(np.mean(h["seconds"])), "{:.1f}")
    S.accuracy_figure(args, {f"Transformer (d_model {d})": h}, "accuracy.png",
                      "Dates -> YYYY-MM-DD: Transformer, test exact match", book=0.999,
                      book_label="99.9% (the target)")
    cross_attention_figure(args, model, task)


if __name__ == "__main__":
    main()
