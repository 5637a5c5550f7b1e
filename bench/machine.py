"""The machine description for the report, and the single-thread SGEMM reference."""
from __future__ import annotations

import os
import platform
import time

import numpy as np


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cores() -> str:
    logical = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = logical
    try:
        import psutil
        physical = psutil.cpu_count(logical=False)
    except Exception:
        physical = None
    return f"{logical} logical ({physical or '?'} physical), {usable} usable by this process"


def numpy_blas() -> str:
    """numpy's BLAS as built (numpy.show_config) and as loaded (threadpoolctl)."""
    parts = []
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        blas = deps.get("blas", {})
        parts.append(f"built with {blas.get('name', '?')} {blas.get('version', '')}".strip())
    except Exception:
        pass
    try:
        from threadpoolctl import threadpool_info
        for p in threadpool_info():
            if p["user_api"] == "blas":
                parts.append(f"loaded {p['internal_api']} {p.get('version')} "
                             f"({p.get('architecture')}, {p.get('threading_layer')} threads)")
    except Exception:
        pass
    return "; ".join(parts) or "unknown"


def sgemm_gflops(threads: int, n: int = 1024, repeats: int = 10) -> float:
    """Best-of-``repeats`` GFLOP/s of a float32 n x n matmul in numpy with ``threads``
    BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=c)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def python_loop_seconds(repeats: int = 3, n: int = 3_000_000) -> float:
    """Best-of-``repeats`` seconds of a pure-Python loop of ``n`` additions: how fast this host
    runs the interpreter right now (the per-op Python cost every framework's loop pays), so
    matrices from different hosts or hours can be told apart."""
    best = float("inf")
    for _ in range(repeats):
        t0, s = time.perf_counter(), 0
        for i in range(n):
            s += i
        best = min(best, time.perf_counter() - t0)
    return best


def handoff_us(threads: int, calls: int = 300) -> float | None:
    """Median microseconds of an empty two-item ``zerodl`` ``map_chunks`` at ``threads``
    threads: what handing an op's pieces to the chunk pool's worker and back costs on this host
    (the floor under every op that zerodl shares out over threads). None for one thread, where
    nothing is handed off."""
    if threads < 2:
        return None
    import zerodl as zd
    from zerodl.core.threads import map_chunks

    zd.set_num_threads(threads)
    times = []
    for _ in range(calls + 20):
        t0 = time.perf_counter()
        map_chunks(lambda item: None, (0, 1))
        times.append(time.perf_counter() - t0)
    return float(np.median(times[20:]) * 1e6)


def host_rows(probes: dict) -> list[tuple[str, str]]:
    """Report rows from the SGEMM children's readings (thread count -> ``child.sgemm`` result)."""
    loops = [r["python_loop_s"] for r in probes.values() if r.get("python_loop_s")]
    handoffs = {k: r["handoff_us"] for k, r in probes.items() if r.get("handoff_us") is not None}
    rows = []
    if loops:
        rows.append(("Pure-Python loop, 3,000,000 additions (best of 3, in each SGEMM child)",
                     ", ".join(f"{t:.3f} s" for t in loops)))
    if handoffs:
        rows.append(("zerodl chunk pool, an empty two-item map_chunks (median of 300)",
                     "; ".join(f"{us:.0f} µs with {k} threads" for k, us in handoffs.items())))
    return rows


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def describe(frameworks: dict, blas: str | None = None) -> list[tuple[str, str]]:
    """(label, value) rows; ``frameworks`` maps name -> probe result (see bench.child);
    ``blas``: numpy's BLAS as a child process loaded it (else as loaded here)."""
    rows = [
        ("CPU", cpu_model()),
        ("Cores", cores()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("NumPy", f"{np.__version__} ({blas or numpy_blas()})"),
    ]
    for name, label in (("torch", "PyTorch"), ("tf", "TensorFlow"), ("zerodl", "zerodl")):
        info = frameworks.get(name)
        if info is None:
            continue
        if info.get("ok"):
            detail = f" ({info['detail']})" if info.get("detail") else ""
            rows.append((label, f"{info['version']}{detail}"))
        else:
            rows.append((label, f"not importable: {info.get('error')}"))
    return rows
