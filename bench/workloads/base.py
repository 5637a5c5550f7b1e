"""What every workload declares, plus small helpers shared by the workload modules."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

# A runner executes n batches (training steps, or forward passes for inference) and
# returns the last loss (or None); ``build`` returns one after all setup is done.
Runner = Callable[[int], "float | None"]


@dataclass
class Options:
    """Run-wide knobs, identical for every framework in a run."""

    data_dir: str | None = None
    samples: int = 10_000  # W2, W3, W5: samples per timed unit
    mlp_samples: int = 60_000  # W1: samples per timed unit (60,000 = one MNIST epoch)
    lstm_batches: int = 200  # W4: batches per timed unit
    fit_samples: int = 60_000  # KFIT: samples in its one epoch of fit
    seed: int = 0


@dataclass(frozen=True)
class Workload:
    key: str  # "W1"
    title: str
    frameworks: tuple[str, ...]  # in the order they alternate
    targets: dict[str, float]  # peer framework -> largest allowed zerodl/peer time ratio
    load: Callable[[Options], Any]  # data, built before the memory baseline
    build: Callable[[str, Any, Options], Runner]
    batches: Callable[[Options], int]  # batches in one timed unit
    unit: Callable[[Options], str]  # what one timed unit is, in words
    flops_per_batch: float  # GEMM/conv FLOPs of one batch (forward + backward when training)
    warmup: int = 5  # untimed batches before the timed unit
    notes: list[str] = field(default_factory=list)
    # FLOPs of one unit when it is not batches(opts) * flops_per_batch (an epoch of fit)
    flops_per_unit: Callable[[Options], float] | None = None

    def flops(self, opts: Options) -> float:
        if self.flops_per_unit is not None:
            return self.flops_per_unit(opts)
        return self.flops_per_batch * self.batches(opts)


def batch_slices(n: int, batch: int) -> Iterator[slice]:
    """Consecutive ``batch``-sized slices of range(n), forever, wrapping at the end."""
    start = 0
    while True:
        if start + batch > n:
            start = 0
        yield slice(start, start + batch)
        start += batch


# --- FLOP counting ------------------------------------------------------------------------
# A GEMM (M, K) x (K, N) costs 2*M*K*N FLOPs.  Training a layer costs its forward GEMM plus
# two more of the same size in backward (dW and dX), except that the first layer needs no
# dX (its input is data); inference costs the forward GEMM only.  Elementwise work (ReLU,
# pooling, softmax, the optimizer) is not counted.

def linear_flops(batch: int, fan_in: int, fan_out: int) -> float:
    return 2.0 * batch * fan_in * fan_out


def conv_flops(batch: int, c_in: int, c_out: int, k: int, out_h: int, out_w: int) -> float:
    return 2.0 * batch * c_out * out_h * out_w * c_in * k * k


def training_flops(forward_per_layer: list[float], first_layer_dx: bool = False) -> float:
    """forward + dW + dX for every layer, without the first layer's dX unless asked."""
    total = 3.0 * sum(forward_per_layer)
    return total if first_layer_dx else total - forward_per_layer[0]


def conv_out(size: int, k: int, stride: int = 1, pad: int = 0) -> int:
    return (size + 2 * pad - k) // stride + 1
