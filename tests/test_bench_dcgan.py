"""The GAN benchmark (bench/workloads/dcgan.py) times examples/dcgan.py's default networks and
step: its mirrored constants must still be the example's defaults, and its PyTorch nets the
same layers, parameter for parameter."""
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import dcgan  # noqa: E402

from bench.workloads import dcgan as bench_gan  # noqa: E402


def _default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_bench_mirrors_the_examples_defaults():
    assert (bench_gan.DEEP_KERNEL, bench_gan.D_BATCH_NORM, bench_gan.D_DROPOUT, bench_gan.D_KERNEL,
            bench_gan.REAL_LABEL, bench_gan.D_DEPTH) == (dcgan.DEEP_KERNEL, dcgan.D_BATCH_NORM, dcgan.D_DROPOUT,
                                                         dcgan.D_KERNEL, dcgan.REAL_LABEL, dcgan.D_DEPTH)
    assert bench_gan.G_WIDTH == _default(dcgan.generator, "width")
    assert bench_gan.D_WIDTH == _default(dcgan.discriminator, "width")


@pytest.mark.parametrize("depth", [None, 2, 3], ids=["default", "depth2", "depth3"])
def test_torch_nets_have_the_examples_parameters(monkeypatch, depth):
    pytest.importorskip("torch")
    if depth is not None:
        monkeypatch.setattr(bench_gan, "D_DEPTH", depth)
    G, D = bench_gan._torch_models()
    ours_G = dcgan.generator(deep_kernel=dcgan.DEEP_KERNEL)
    ours_D = dcgan.discriminator(batch_norm=dcgan.D_BATCH_NORM, dropout=dcgan.D_DROPOUT, kernel=dcgan.D_KERNEL,
                                 depth=bench_gan.D_DEPTH)
    for theirs, ours in ((G, ours_G), (D, ours_D)):  # sizes in order (zerodl's Linear weight is (in, out))
        assert [p.numel() for p in theirs.parameters()] == [p.data.size for p in ours.parameters()]
        assert [type(m).__name__ for m in theirs if type(m).__name__ != "Unflatten"] == \
            [type(m).__name__ for m in ours if type(m).__name__ != "ToImage"]
