"""The benchmark workloads, one module per family.  Each module defines ``Workload``
records (see base.py) whose ``build(framework, data, opts)`` returns a runner that
executes n batches; the child process times one unit of ``batches(opts)`` batches after
``warmup`` untimed ones."""
from bench.workloads.base import Options, Workload
from bench.workloads.convnet import W2, W5
from bench.workloads.dcgan import GAN
from bench.workloads.deepconvnet import W3
from bench.workloads.keras_cnn import KCNN, KFIT
from bench.workloads.lstm_lm import W4
from bench.workloads.mlp import W1
from bench.workloads.seq2seq_attention import S2S

WORKLOADS: dict[str, Workload] = {w.key: w for w in (W1, W2, W3, W4, W5, S2S, GAN, KCNN, KFIT)}

__all__ = ["WORKLOADS", "Options", "Workload"]
