"""One measurement in a fresh process: one workload, one framework, one thread count.

    python -m bench.child --workload W1 --framework torch --threads 1 [...]
    python -m bench.child --probe torch          (import check and version info)
    python -m bench.child --sgemm 1              (numpy's SGEMM GFLOP/s and BLAS, as loaded here)

Prints one line ``@@BENCH <json>`` on stdout.  The driver (bench/run.py) sets the BLAS /
OpenMP thread variables in this process's environment; here the limits are applied again
with threadpoolctl (and torch.set_num_threads) once the framework's libraries are loaded.
The driver also sets the same OpenBLAS core type and glibc malloc settings for every
framework (see ``bench/run.py``); they must be in the environment before Python starts.

Peak memory: after imports and data loading the kernel's high-water mark is reset
(``/proc/self/clear_refs``, which also resets getrusage's ru_maxrss); the reported figure
is the peak resident set size during model building, warm-up and the timed unit, minus
the resident size at that baseline.  Before the baseline, freed heap memory is handed back
to the OS (glibc ``malloc_trim(0)``), so that memory freed during imports and data loading
and kept by the allocator does not hide later growth.  Where the reset is not allowed, it falls back to the
ru_maxrss delta over the baseline.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import traceback

MARK = "@@BENCH "


def emit(obj) -> None:
    sys.stdout.write(MARK + json.dumps(obj) + "\n")
    sys.stdout.flush()


# --- framework import, thread limits, versions --------------------------------------------

def _load_zerodl_kernels():
    """zerodl loads its compiled kernels (Numba, when installed) at the first op that uses them;
    here one tiny float32 training step through every op that has kernels loads them with the
    other imports, so that the memory baseline holds them as it holds PyTorch's and
    TensorFlow's libraries (and a cold Numba cache compiles before the timing, not in it)."""
    import numpy as np
    import zerodl as zd
    import zerodl.nn as nn

    net = nn.Sequential(
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # Winograd, channels-last pool
        nn.Conv2d(8, 8, 4, stride=2, padding=1), nn.BatchNorm2d(8),  # phased im2col, batch norm
        nn.LeakyReLU(0.2), nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 2 * 2, 2))      # NCHW pool
    lstm = nn.LSTM(3, 4, return_sequences=True)                    # the LSTM's element-wise kernels
    strided = nn.Sequential(nn.Conv2d(16, 16, 4, stride=2, padding=1),  # Winograd F(4x4, 2x2) on phases
                            nn.ConvTranspose2d(16, 16, 4, stride=2, padding=1))
    opt = zd.optim.Adam(list(net.parameters()) + list(lstm.parameters()) + list(strided.parameters()))
    x = np.random.default_rng(0).random((2, 8, 8, 8), dtype=np.float32)
    x16 = zd.Tensor(np.concatenate([x, x], axis=1))
    (net(zd.Tensor(x)).sum() + lstm(zd.Tensor(x[:, 0, :, :3])).sum() + strided(x16).sum()).backward()
    opt.step()


def import_framework(framework: str):
    if framework == "zerodl":
        import zerodl
        import zerodl.functions  # noqa: F401
        import zerodl.nn  # noqa: F401
        import zerodl.optim  # noqa: F401
        _load_zerodl_kernels()
        return zerodl
    if framework == "torch":
        import torch
        return torch
    if framework == "numpy":
        import numpy
        return numpy
    if framework == "zdkeras":
        import zerodl
        import zerodl.keras  # noqa: F401
        _load_zerodl_kernels()
        return zerodl
    if framework == "tf":
        import keras  # noqa: F401  (Keras 3, on TensorFlow)
        import tensorflow
        return tensorflow
    raise ValueError(f"unknown framework {framework!r}")


def limit_threads(framework: str, threads: int):
    """Apply the thread count to every loaded BLAS/OpenMP pool; returns the limiter (keep
    it alive). TensorFlow's own pools are set here too, before it runs any op (the driver
    has also put TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS in the environment)."""
    if framework == "tf":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    if framework in ("zerodl", "zdkeras"):
        import zerodl
        zerodl.set_num_threads(threads)  # BLAS through threadpoolctl, numba, zerodl's own pools
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # e.g. a peer's own interpreter without it: the env vars still apply
        return None
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only allowed before any inter-op work has started
            pass
    return threadpool_limits(limits=threads)


def thread_report(framework: str) -> dict:
    report = {}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        report["threadpoolctl"] = "not installed"
    else:
        for p in threadpool_info():
            arch = f" ({p['architecture']})" if p.get("architecture") else ""
            report[p["internal_api"]] = f"{p['num_threads']}{arch}"
    if framework in ("zerodl", "zdkeras"):
        import zerodl
        report["zerodl"] = zerodl.get_num_threads()
    if framework == "tf":
        import tensorflow as tf
        report["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        report["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    if framework == "torch":
        import torch
        report["torch"] = torch.get_num_threads()
        report["torch_interop"] = torch.get_num_interop_threads()
    return report


def probe(framework: str) -> dict:
    """Import check plus versions: {"ok": bool, "version": str, "detail": str | None}."""
    try:
        module = import_framework(framework)
    except Exception as exc:  # any import failure means: skip this framework
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    info = {"ok": True, "version": getattr(module, "__version__", "unknown"), "detail": None}
    if framework == "torch":
        import re
        config = module.__config__.show()
        parts = []
        for pattern in (r"Math Kernel Library Version [\d.]+", r"MKL-DNN v[\d.]+",
                        r"oneDNN v[\d.]+", r"OpenBLAS [\d.]+", r"BLAS_INFO=\w+"):
            m = re.search(pattern, config)
            if m:
                parts.append(m.group(0).replace("Math Kernel Library", "MKL"))
        info["detail"] = ", ".join(parts) or None
    if framework == "tf":
        import keras
        info["detail"] = f"Keras {keras.__version__}, Python {sys.version.split()[0]} ({sys.executable})"
    return info


# --- memory -------------------------------------------------------------------------------

def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _maxrss_kib() -> int:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r  # bytes on macOS, KiB on Linux


def malloc_trim() -> None:
    """Give freed heap memory back to the OS (glibc only; a no-op elsewhere)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak RSS above a baseline taken at construction."""

    def __init__(self):
        gc.collect()
        malloc_trim()
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset the high-water mark (VmHWM and ru_maxrss)
            self.method = "VmHWM after clear_refs reset, minus VmRSS at baseline"
            self.base_kib = _status_kib("VmRSS")
        except OSError:
            self.method = "ru_maxrss delta over baseline"
            self.base_kib = _maxrss_kib()

    def delta_mib(self) -> float:
        peak = _status_kib("VmHWM") if self.method.startswith("VmHWM") else None
        peak = peak if peak is not None else _maxrss_kib()
        return max(0, peak - self.base_kib) / 1024

    def peak_mib(self) -> float:
        return (_status_kib("VmHWM") or _maxrss_kib()) / 1024


# --- one measurement ----------------------------------------------------------------------

def measure(args) -> dict:
    from bench.workloads import WORKLOADS, Options

    workload = WORKLOADS[args.workload]
    opts = Options(data_dir=args.data_dir, samples=args.samples, mlp_samples=args.mlp_samples,
                   lstm_batches=args.lstm_batches, fit_samples=args.fit_samples, seed=args.seed)
    t_import = time.perf_counter()
    import_framework(args.framework)
    t_import = time.perf_counter() - t_import
    limiter = limit_threads(args.framework, args.threads)  # noqa: F841 (kept alive)

    data = workload.load(opts)
    memory = PeakMemory()
    runner = workload.build(args.framework, data, opts)
    runner(workload.warmup)
    n = workload.batches(opts)
    gc.collect()
    cpu0, t0 = time.process_time(), time.perf_counter()
    loss = runner(n)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {
        "ok": True, "seconds": seconds, "cpu_seconds": cpu, "batches": n,
        "peak_delta_mib": memory.delta_mib(), "peak_rss_mib": memory.peak_mib(),
        "baseline_rss_mib": memory.base_kib / 1024, "memory_method": memory.method,
        "import_seconds": t_import, "last_value": loss,
        "threads_seen": thread_report(args.framework),
        "data_source": getattr(data, "source", "synthetic corpus (seeded random token ids)"),
    }


def sgemm(threads: int) -> dict:
    """numpy's SGEMM rate with this process's BLAS (core type and malloc as for the runs), the
    host's pure-Python speed and the chunk pool's hand-off at ``threads`` (bench.machine)."""
    from bench import machine
    return {"ok": True, "gflops": machine.sgemm_gflops(threads), "blas": machine.numpy_blas(),
            "python_loop_s": machine.python_loop_seconds(), "handoff_us": machine.handoff_us(threads)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.child", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--probe", metavar="FRAMEWORK")
    p.add_argument("--sgemm", type=int, metavar="THREADS")
    p.add_argument("--workload")
    p.add_argument("--framework")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir")
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--mlp-samples", type=int, default=60_000)
    p.add_argument("--lstm-batches", type=int, default=200)
    p.add_argument("--fit-samples", type=int, default=60_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.probe:
        emit(probe(args.probe))
        return 0
    if args.sgemm:
        emit(sgemm(args.sgemm))
        return 0
    try:
        result = measure(args)
    except Exception as exc:
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    emit(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
