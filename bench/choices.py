"""The hot-path choices that code comments give a one-line reason for, measured against the
alternative they replaced (NumPy only, one process, best of several repeats).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python -m bench.choices

Prints a markdown table: time of the chosen form, of the alternative, and alternative/chosen
(above 1: the choice is faster). docs/benchmarks.md ("Hot-path choices") holds a run.
"""
import platform
import timeit

import numpy as np

rng = np.random.default_rng(0)


def best(fn, number=None, repeat=7):
    """Seconds per call, best of ``repeat`` (``number`` calls each, chosen for ~20 ms)."""
    if number is None:
        t = timeit.timeit(fn, number=1)
        number = max(1, int(0.02 / max(t, 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def relu_zero_row():
    x = rng.standard_normal((100, 30, 12, 12)).astype(np.float32)
    zero = np.zeros(x.shape[1:], np.float32)
    return ("ReLU forward: `maximum(x, zero sample)` vs `maximum(x, 0)` (functions/activations.py)",
            lambda: np.maximum(x, zero), lambda: np.maximum(x, 0))


def leaky_relu_mask_free():
    x = rng.standard_normal((100, 30, 12, 12)).astype(np.float32)
    return ("LeakyReLU forward: `maximum(x, 0.01 x)` vs `where(x > 0, x, 0.01 x)`",
            lambda: np.maximum(x, 0.01 * x), lambda: np.where(x > 0, x, 0.01 * x))


def select_by_arithmetic():
    x = rng.standard_normal(432_000).astype(np.float32)
    r = rng.random(432_000).astype(np.float32) * 0.5

    def arithmetic():
        phi = np.multiply(r, -2)
        phi += 1
        phi *= x > 0
        phi += r
        return phi

    def masked():
        phi = r.copy()
        pos = x > 0
        phi[pos] = 1 - r[pos]
        return phi

    return ("GELU's Phi / max-pool argmax: 0/1-mask arithmetic vs masked assignment (random signs)",
            arithmetic, masked)


def contiguous_recurrent_weight():
    # LSTM backward, one step: dA (N, 4H) @ Wh.T with Wh (H, 4H), H = 100, N = 20 (W4's sizes);
    # the contiguous copy is made once per backward, before the loop over the 35 steps
    dA = rng.standard_normal((20, 400)).astype(np.float32)
    Wh = rng.standard_normal((100, 400)).astype(np.float32)
    WhT = np.ascontiguousarray(Wh.T)
    return ("LSTM backward step (20, 400) @ Wh.T (400, 100): contiguous copy vs the transposed view "
            "(functions/recurrent.py)", lambda: dA @ WhT, lambda: dA @ Wh.T)


def _conv_gemms(n, C_out, K, L):
    W2 = rng.standard_normal((C_out, K)).astype(np.float32)
    cols_sample = rng.standard_normal((n, K, L)).astype(np.float32)
    cols_chunk = np.ascontiguousarray(cols_sample.transpose(1, 0, 2).reshape(K, n * L))
    out_s = np.empty((n, C_out, L), np.float32)
    out_c = np.empty((C_out, n * L), np.float32)
    return lambda: np.matmul(W2, cols_chunk, out=out_c), lambda: np.matmul(W2, cols_sample, out=out_s)


def one_gemm_simpleconvnet():
    # W2's conv: 5x5, 1 -> 30 channels on 28x28, wide rows of 28 (OH 24): a batch of 100 makes chunks of 50 samples
    return ("conv2d forward, wide rows, SimpleConvNet's conv: one GEMM (30, 25) @ (25, 50*672) vs 50 "
            "per-sample GEMMs (functions/conv.py)", *_conv_gemms(50, 30, 25, 24 * 28))


def one_gemm_deepconvnet():
    # DeepConvNet's 3x3, 16 -> 16 conv on 28x28, padding 1 (wide rows of 30): chunks of 9 samples of a batch of 100
    return ("conv2d forward, wide rows, DeepConvNet's 16->16 conv: one GEMM (16, 144) @ (144, 9*840) vs 9 "
            "per-sample GEMMs", *_conv_gemms(9, 16, 144, 28 * 30))


def embedding_scatter():
    V, D, N = 10_000, 100, 700
    ids = rng.integers(0, V, N)
    gy = rng.standard_normal((N, D)).astype(np.float32)

    def reduceat():
        out = np.zeros((V, D), np.float32)
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
        out[s[starts]] = np.add.reduceat(gy[order], starts, axis=0)
        return out

    def add_at():
        out = np.zeros((V, D), np.float32)
        np.add.at(out, ids, gy)
        return out

    return ("Embedding backward, vocab 10k x 100, 700 ids: sort + `add.reduceat` vs `np.add.at` "
            "(functions/embedding.py)", reduceat, add_at)


CASES = (relu_zero_row, leaky_relu_mask_free, select_by_arithmetic, contiguous_recurrent_weight,
         one_gemm_simpleconvnet, one_gemm_deepconvnet, embedding_scatter)


def main():
    print(f"NumPy {np.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print()
    print("| Choice | chosen | alternative | alternative / chosen |")
    print("|---|---|---|---|")
    for case in CASES:
        what, chosen, other = case()
        a, b = best(chosen), best(other)
        print(f"| {what} | {a * 1e6:.0f} µs | {b * 1e6:.0f} µs | {b / a:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
