"""The benchmark driver: zerodl vs PyTorch (CPU) vs the plain-NumPy floor.

    python -m bench [--data-dir DIR] [--threads 1,2] [--repeats 3] [--workloads W1,...]
                    [--samples 10000] [--markdown docs/benchmarks.md]

For every workload and thread count, the frameworks run alternately (zerodl, torch,
numpy, zerodl, torch, ...), each run in a fresh subprocess (bench/child.py) that loads
the same data, applies the same BLAS/OpenMP thread limits, warms up, times one unit and
reports its peak resident memory above the baseline after imports and data loading.
The report gives median times, the ratios zerodl/PyTorch and zerodl/NumPy with PASS/FAIL
against the targets (one thread), peak memory, and achieved GFLOP/s against the
machine's SGEMM GFLOP/s measured in the same run.  A framework that does not import is
skipped with a message.

Every child process, whatever its framework, gets the same environment for the things that
must be set before a process starts (recorded in the report):
- ``OPENBLAS_CORETYPE`` (``--blas-coretype``): by default (``auto``) it is removed, so
  OpenBLAS picks its kernels from the CPU it detects; ``inherit`` keeps the driver's
  environment; any other value (``SkylakeX``, ``Haswell``) forces those kernels.
  (PyTorch's own BLAS is MKL, which this does not affect; numpy's OpenBLAS, also loaded in
  the torch child, is.)
- glibc malloc (``--malloc``): ``tuned`` (default) sets ``MALLOC_MMAP_THRESHOLD_`` and
  ``MALLOC_TRIM_THRESHOLD_`` so that freed arrays stay in the heap and are reused instead of
  being returned to the OS and faulted in again page by page -- the same setting zerodl
  applies at import (``zerodl/_platform.py``); ``default`` leaves glibc's defaults and sets
  ``ZERODL_MALLOC_TUNE=0`` so zerodl does not tune either.
- ``OPENBLAS_THREAD_TIMEOUT=4`` (the driver's own value if it has one): numpy's OpenBLAS
  worker threads sleep as soon as they are idle instead of spinning for about 0.1 s, the
  setting zerodl applies at import when it is imported before NumPy (``zerodl/_platform.py``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # when run as ``python bench/run.py``
    sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from bench.child import MARK  # noqa: E402
from bench.data import mnist_source  # noqa: E402
from bench.workloads import WORKLOADS, Options  # noqa: E402

FRAMEWORKS = ("zerodl", "zdkeras", "torch", "tf", "numpy")
LABEL = {"zerodl": "zerodl", "zdkeras": "zerodl.keras", "torch": "PyTorch", "tf": "TensorFlow",
         "numpy": "NumPy"}
MODULES = {"zdkeras": "zerodl.keras", "tf": "tensorflow"}  # what the probe imports, for messages
# The ratios the report can show (mine / peer), in column order; a column appears when some
# workload of the run has both frameworks. Targets name a peer ("torch": zerodl / PyTorch) or
# a pair ("zdkeras/tf").
RATIO_PAIRS = (("zerodl", "torch"), ("zerodl", "numpy"), ("zerodl", "tf"), ("zdkeras", "torch"),
               ("zdkeras", "tf"))
MEMORY_TARGET = 1.2  # zerodl peak memory <= 1.2x PyTorch's
# The same values as zerodl/_platform.py's mallopt calls (glibc's M_MMAP_THRESHOLD,
# M_TRIM_THRESHOLD): arrays up to 1 GiB come from the heap, which is never trimmed.
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(2**31 - 1)}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
BEGIN, END = "<!-- BEGIN bench/run.py output -->", "<!-- END bench/run.py output -->"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- subprocesses -------------------------------------------------------------------------

# set by main() from --blas-coretype and --malloc: {name: value, or None to remove}
CHILD_ENV: dict[str, str | None] = {}
# set by main() from --python: the interpreter of a framework's children (default: this one)
PYTHONS: dict[str, str] = {}


def child_env(coretype: str, malloc: str) -> dict[str, str | None]:
    """The environment every child gets, whatever its framework (see the module docstring)."""
    env: dict[str, str | None] = {"TF_CPP_MIN_LOG_LEVEL": "2"}  # TF's start-up chatter off stderr
    env["OPENBLAS_THREAD_TIMEOUT"] = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "4")
    if coretype == "auto":
        env["OPENBLAS_CORETYPE"] = None
    elif coretype != "inherit":
        env["OPENBLAS_CORETYPE"] = coretype
    if malloc == "tuned":
        env.update(MALLOC_TUNED)
        env["ZERODL_MALLOC_TUNE"] = None
    else:
        env.update({var: None for var in MALLOC_TUNED})
        env["ZERODL_MALLOC_TUNE"] = "0"
    return env


def describe_env(coretype: str, malloc: str) -> list[tuple[str, str]]:
    outer = os.environ.get("OPENBLAS_CORETYPE")
    if coretype == "auto":
        ct = "unset in every child: OpenBLAS detects the CPU (`--blas-coretype auto`)"
        if outer:
            ct += f"; the driver's environment had OPENBLAS_CORETYPE={outer}, not passed on"
    elif coretype == "inherit":
        ct = f"inherited: {outer or 'unset'} in every child (`--blas-coretype inherit`)"
    else:
        ct = f"OPENBLAS_CORETYPE={coretype} in every child"
    if malloc == "tuned":
        m = ("tuned in every child: " + ", ".join(f"{k}={v}" for k, v in MALLOC_TUNED.items())
             + " (`--malloc tuned`; zerodl's own import-time setting is the same)")
    else:
        m = "glibc defaults in every child, ZERODL_MALLOC_TUNE=0 (`--malloc default`)"
    idle = f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', '4')} in every child"
    return [("OpenBLAS core type", ct), ("glibc malloc", m), ("OpenBLAS idle threads", idle)]


def _child(args: list[str], threads: int, timeout: float, python: str | None = None) -> dict:
    env = dict(os.environ)
    env.update({var: str(threads) for var in THREAD_VARS})
    for var, value in CHILD_ENV.items():
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [python or sys.executable, "-m", "bench.child", *args]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            result = json.loads(line[len(MARK):])
            if not result.get("ok"):
                result["stderr_tail"] = proc.stderr[-3000:]
            return result
    return {"ok": False, "error": f"child exited {proc.returncode} without a result",
            "stderr_tail": proc.stderr[-3000:]}


def sgemm(threads: int) -> dict:
    return _child(["--sgemm", str(threads)], threads=threads, timeout=300)


def probe(framework: str) -> dict:
    return _child(["--probe", framework], threads=1, timeout=300, python=PYTHONS.get(framework))


def run_once(workload: str, framework: str, threads: int, opts: Options, timeout: float) -> dict:
    args = ["--workload", workload, "--framework", framework, "--threads", str(threads),
            "--samples", str(opts.samples), "--mlp-samples", str(opts.mlp_samples),
            "--lstm-batches", str(opts.lstm_batches), "--fit-samples", str(opts.fit_samples),
            "--seed", str(opts.seed)]
    if opts.data_dir:
        args += ["--data-dir", opts.data_dir]
    return _child(args, threads, timeout, python=PYTHONS.get(framework))


# --- summary ------------------------------------------------------------------------------

def summarize(runs: list[dict], workloads, threads: list[int], frameworks, opts) -> list[dict]:
    """One row per (workload, threads) with per-framework medians and the verdicts."""
    rows = []
    for w in workloads:
        for k in threads:
            row = {"workload": w, "threads": k, "fw": {}}
            for fw in frameworks:
                if fw not in w.frameworks:
                    continue
                mine = [r for r in runs if r["workload"] == w.key and r["threads"] == k
                        and r["framework"] == fw]
                ok = [r for r in mine if r["ok"]]
                if ok:
                    t = statistics.median(r["seconds"] for r in ok)
                    row["fw"][fw] = {"time": t, "n": len(ok),
                                     "mem": max(r["peak_delta_mib"] for r in ok),
                                     "gflops": w.flops(opts) / t / 1e9}
                elif mine:
                    row["fw"][fw] = {"error": mine[-1].get("error", "failed")}
            cells = row["fw"]
            row["ratios"] = {(a, b): cells[a]["time"] / cells[b]["time"] for a, b in RATIO_PAIRS
                             if "time" in cells.get(a, {}) and "time" in cells.get(b, {})}
            a, b = memory_pair(w)
            row["mem_pair"] = (a, b)
            row["mem_ratio"] = (cells[a]["mem"] / max(cells[b]["mem"], 0.1)
                                if "mem" in cells.get(a, {}) and "mem" in cells.get(b, {}) else None)
            row["time_verdict"] = _time_verdict(w, k, row)
            row["mem_verdict"] = (_verdict(k, row["mem_ratio"], MEMORY_TARGET) if b == "torch"
                                  else "— (no target)")
            rows.append(row)
    return rows


def target_pair(key: str) -> tuple[str, str]:
    """A target's key as (mine, peer): "torch" is zerodl / PyTorch, "zdkeras/tf" a pair."""
    return tuple(key.split("/")) if "/" in key else ("zerodl", key)


def memory_pair(w) -> tuple[str, str]:
    """Peak memory is compared for the workload's first target pair."""
    return target_pair(next(iter(w.targets))) if w.targets else ("zerodl", "torch")


def pair_label(pair) -> str:
    return f"{LABEL[pair[0]]}/{LABEL[pair[1]]}"


def _verdict(threads: int, ratio: float | None, target: float) -> str:
    if threads != 1:
        return "— (targets are for 1 thread)"
    if ratio is None:
        return "n/a"
    return "PASS" if ratio <= target else "FAIL"


def _time_verdict(w, threads: int, row: dict) -> str:
    verdicts = []
    for key, target in w.targets.items():
        pair = target_pair(key)
        v = _verdict(threads, row["ratios"].get(pair), target)
        if v.startswith("—"):
            return v
        verdicts.append(v if len(w.targets) == 1 else f"{v} ({pair_label(pair)})")
    return ", ".join(verdicts)


# --- markdown -----------------------------------------------------------------------------

def _fmt_time(cell: dict | None) -> str:
    if cell is None:
        return "—"
    if "error" in cell:
        return "error"
    t = cell["time"]
    return f"{t:.3f} s" if t < 10 else f"{t:.2f} s"


def _fmt(x, spec=".2f", suffix="") -> str:
    return "—" if x is None else f"{x:{spec}}{suffix}"


def _targets_text(w) -> str:
    return ", ".join(f"{pair_label(target_pair(key))} ≤ {t:g}" if "/" in key else f"≤ {t:g}× {LABEL[key]}"
                     for key, t in w.targets.items())


def ratio_columns(rows) -> list[tuple[str, str]]:
    """zerodl/PyTorch and zerodl/NumPy always (the report's long-standing columns), the other
    pairs when some row has them."""
    have = {pair for row in rows for pair in row["ratios"]}
    return [p for p in RATIO_PAIRS if p in RATIO_PAIRS[:2] or p in have]


def render(rows, runs, args, opts, machine_rows, sgemm, skipped, command, started,
           load_before, load_after) -> str:
    shown = {fw for w in {row["workload"].key: row["workload"] for row in rows}.values()
             for fw in w.frameworks}
    frameworks = [fw for fw in FRAMEWORKS if fw in args.frameworks and fw in shown]
    pairs = ratio_columns(rows)
    out = [f"Generated {started:%Y-%m-%d %H:%M} by `{command}`.", ""]
    out += ["### Machine", "", "| | |", "|---|---|"]
    out += [f"| {label} | {value} |" for label, value in machine_rows]
    out += ["| SGEMM, numpy float32 1024×1024 (best of 10, in a child with the runs' environment) | "
            + "; ".join(f"{g:.1f} GFLOP/s with {k} thread{'s' * (k > 1)}"
                        for k, g in sgemm.items()) + " |",
            f"| Load average (1, 5, 15 min) | before: {load_before}; after: {load_after} |",
            f"| Data | {_data_source(runs)} |", ""]
    for fw, msg in skipped.items():
        out.append(f"**{LABEL[fw]} skipped**: {msg}  ")
    if skipped:
        out.append("")

    out += ["### Time", "",
            f"Median seconds per unit over {args.repeats} alternating runs (each in a fresh "
            "process, after warm-up); ratios below 1 mean zerodl is faster. Targets apply "
            "to one BLAS thread.", ""]
    head = (["Workload", "Unit", "Threads"] + [LABEL[fw] for fw in frameworks]
            + [pair_label(p) for p in pairs] + ["Target", "Result"])
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        w = row["workload"]
        cells = [f"{w.key} {w.title}", w.unit(opts), str(row["threads"])]
        cells += ["skipped" if fw in skipped and fw in w.frameworks
                  else _fmt_time(row["fw"].get(fw)) if fw in w.frameworks else "—"
                  for fw in frameworks]
        cells += [_fmt(row["ratios"].get(p), ".2f", "×") for p in pairs]
        cells += [_targets_text(w), row["time_verdict"]]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")

    out += ["### Throughput and memory", "",
            "GFLOP/s counts the GEMM/convolution FLOPs of forward + backward per unit "
            "analytically (2·M·K·N per GEMM; backward = dW + dX, no dX for the first layer; "
            "inference = forward only; elementwise work not counted), divided by the median "
            "time; in brackets, the share of the SGEMM rate at the same thread count. "
            "Peak memory is the largest, over the runs, peak resident set size above the "
            "baseline taken after imports and data loading "
            f"({_memory_method(runs)}).", ""]
    head = (["Workload", "Threads", "GFLOP/unit"]
            + [f"{LABEL[fw]} GFLOP/s" for fw in frameworks]
            + [f"{LABEL[fw]} peak MiB" for fw in frameworks]
            + ["Memory ratio", "Target", "Result"])
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        w, k = row["workload"], row["threads"]
        cells = [w.key, str(k), f"{w.flops(opts) / 1e9:.1f}"]
        for fw in frameworks:
            g = row["fw"].get(fw, {}).get("gflops")
            cells.append("—" if g is None else f"{g:.1f} ({100 * g / sgemm[k]:.0f}%)")
        for fw in frameworks:
            cells.append(_fmt(row["fw"].get(fw, {}).get("mem"), ".1f"))
        mem = row["mem_ratio"]
        cells += ["—" if mem is None else f"{mem:.2f}× ({pair_label(row['mem_pair'])})",
                  f"≤ {MEMORY_TARGET:g}× PyTorch" if row["mem_pair"][1] == "torch" else "—",
                  row["mem_verdict"]]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")

    errors = [r for r in runs if not r["ok"]]
    if errors:
        out += ["### Errors", ""]
        seen = set()
        for r in errors:
            key = (r["workload"], r["framework"], r.get("error"))
            if key not in seen:
                seen.add(key)
                out.append(f"- {r['workload']} {LABEL[r['framework']]} "
                           f"({r['threads']} thread(s)): `{r.get('error')}`")
        out.append("")

    out += ["<details><summary>All runs, in the order they ran</summary>", "",
            "| Workload | Threads | Run | Framework | Seconds | CPU/wall | Peak MiB | "
            "Last loss (or output) | Threads seen |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if r["ok"]:
            seen_threads = ", ".join(f"{k}={v}" for k, v in r.get("threads_seen", {}).items())
            out.append(f"| {r['workload']} | {r['threads']} | {r['repeat']} | "
                       f"{LABEL[r['framework']]} | {r['seconds']:.3f} | "
                       f"{r['cpu_seconds'] / r['seconds']:.2f} | {r['peak_delta_mib']:.1f} | "
                       f"{_fmt(r.get('last_value'), '.4g')} | {seen_threads} |")
        else:
            out.append(f"| {r['workload']} | {r['threads']} | {r['repeat']} | "
                       f"{LABEL[r['framework']]} | error | | | | |")
    out += ["", "</details>", ""]
    return "\n".join(out)


def _data_source(runs) -> str:
    sources = sorted({r["data_source"] for r in runs if r.get("ok") and "data_source" in r})
    return "; ".join(sources) or "—"


def _memory_method(runs) -> str:
    methods = sorted({r["memory_method"] for r in runs if r.get("ok")})
    return "; ".join(methods) or "—"


DOC_INTRO = """# Benchmarks

zerodl against PyTorch (CPU) and a hand-written plain-NumPy floor, measured side by side
by `bench/` (see `python -m bench --help`).  Workloads: W1 MLP 784-100-100-100-10 (Adam,
one MNIST epoch), W2 the book's SimpleConvNet (training), W3 the book's DeepConvNet
(training), W4 an LSTM language model (truncated BPTT), W5 SimpleConvNet inference.
Each framework runs each workload in its own fresh process, alternating with its peers,
on the same data, with the same BLAS/OpenMP thread count, OpenBLAS core type and glibc
malloc settings (see the Machine table).  The per-step overhead of zerodl
against the NumPy floor is measured separately by `python -m bench.overhead`.

The section below is rewritten by `python -m bench --markdown docs/benchmarks.md`;
text outside the markers is kept.
"""


def write_markdown(path: Path, body: str) -> None:
    block = f"{BEGIN}\n\n{body}\n{END}\n"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + r"\n?",
                      lambda _: block, old, count=1, flags=re.S)
    else:
        text = DOC_INTRO + "\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --- main ---------------------------------------------------------------------------------

def _csv(kind):
    def parse(text):
        return [kind(x.strip()) for x in text.split(",") if x.strip()]
    return parse


def all_cores_default() -> list[int]:
    """One thread, and all the cores this process may use (when more than one)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return [1, n] if n > 1 else [1]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("ZERODL_DATA"),
                   help="folder with the four MNIST IDX files (gz or not); synthetic data "
                        "of the same shapes when absent (default: $ZERODL_DATA)")
    p.add_argument("--threads", type=_csv(int), default=all_cores_default(),
                   help="BLAS/OpenMP thread counts, comma-separated (default: 1 and every "
                        f"usable core: {','.join(map(str, all_cores_default()))} here)")
    p.add_argument("--repeats", type=int, default=3,
                   help="alternating runs per framework (default: 3)")
    p.add_argument("--workloads", type=_csv(str.upper), default=list(WORKLOADS),
                   help="comma-separated subset of " + ",".join(WORKLOADS))
    p.add_argument("--frameworks", type=_csv(str.lower), default=list(FRAMEWORKS),
                   help="comma-separated subset of " + ",".join(FRAMEWORKS) + " (zdkeras: "
                        "zerodl.keras; tf: TensorFlow's Keras 3, skipped with a message when it "
                        "does not import)")
    p.add_argument("--python", action="append", default=[], metavar="FRAMEWORK=PYTHON",
                   help="run FRAMEWORK's children with this interpreter (repeatable), e.g. "
                        "tf=/path/to/venv-tf/bin/python; it needs numpy and zerodl's bench/ "
                        "(put on PYTHONPATH by the driver); default: this interpreter")
    p.add_argument("--samples", type=int, default=10_000,
                   help="samples per timed unit for W2, W3 and W5 (default: 10000)")
    p.add_argument("--mlp-samples", type=int, default=60_000,
                   help="samples per timed unit for W1 (default: 60000, one epoch)")
    p.add_argument("--lstm-batches", type=int, default=200,
                   help="batches per timed unit for W4 (default: 200)")
    p.add_argument("--fit-samples", type=int, default=60_000,
                   help="samples in KFIT's one epoch of fit (default: 60000, all of MNIST's "
                        "training set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--blas-coretype", default="auto",
                   help="OPENBLAS_CORETYPE for every child: auto (unset: OpenBLAS detects the "
                        "CPU), inherit (as in this environment), or a core name such as "
                        "SkylakeX or Haswell (default: auto)")
    p.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                   help="glibc malloc settings for every child (default: tuned; see above)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    p.add_argument("--markdown", type=Path, help="also write the report into this file")
    p.add_argument("--json", type=Path, help="also write every run's raw result as JSON")
    args = p.parse_args(argv)
    args.pythons = {}
    for item in args.python:
        fw, sep, path = item.partition("=")
        if not sep or fw not in FRAMEWORKS or not path:
            p.error(f"--python expects FRAMEWORK=PYTHON with FRAMEWORK one of "
                    f"{','.join(FRAMEWORKS)}, got {item!r}")
        args.pythons[fw] = path
    for name, allowed in (("workloads", WORKLOADS), ("frameworks", FRAMEWORKS)):
        bad = [x for x in getattr(args, name) if x not in allowed]
        if bad:
            p.error(f"unknown {name}: {', '.join(bad)}")
    return args


def main(argv=None, prog="python bench/run.py") -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = " ".join([prog, *map(shlex.quote, argv)])
    started = datetime.datetime.now()
    opts = Options(data_dir=args.data_dir, samples=args.samples, mlp_samples=args.mlp_samples,
                   lstm_batches=args.lstm_batches, fit_samples=args.fit_samples, seed=args.seed)
    workloads = [WORKLOADS[k] for k in args.workloads]

    CHILD_ENV.clear()
    CHILD_ENV.update(child_env(args.blas_coretype, args.malloc))
    PYTHONS.clear()
    PYTHONS.update(args.pythons)
    infos, skipped = {}, {}
    needed = {fw for w in workloads for fw in w.frameworks}
    for fw in [fw for fw in args.frameworks if fw in needed]:  # no workload of the run: not probed
        infos[fw] = probe(fw)
        if not infos[fw].get("ok"):
            hint = " (another interpreter has it? --python tf=PATH)" if fw == "tf" else ""
            skipped[fw] = f"`import {MODULES.get(fw, fw)}` failed ({infos[fw].get('error')}){hint}"
            log(f"skipping {LABEL[fw]}: import failed: {infos[fw].get('error')}")
    active = [fw for fw in FRAMEWORKS if fw in args.frameworks and fw not in skipped]
    if opts.data_dir is None or mnist_source(opts.data_dir) is None:
        log(f"note: no MNIST files in --data-dir {opts.data_dir!r}: using synthetic data")

    load_before = machine.load_average()
    sgemm_runs = {k: sgemm(k) for k in args.threads}
    bad = {k: r for k, r in sgemm_runs.items() if not r.get("ok")}
    if bad:
        log(f"SGEMM measurement failed: {bad}")
        return 1
    sgemm_rate = {k: r["gflops"] for k, r in sgemm_runs.items()}
    blas = sgemm_runs[args.threads[0]]["blas"]
    log("SGEMM: " + ", ".join(f"{g:.1f} GFLOP/s @ {k} thread(s)" for k, g in sgemm_rate.items())
        + f"; {blas}")

    runs, failed = [], set()
    for w in workloads:
        fws = [fw for fw in active if fw in w.frameworks]
        for k in args.threads:
            for rep in range(1, args.repeats + 1):
                for fw in fws:
                    if (w.key, fw) in failed:
                        continue
                    r = run_once(w.key, fw, k, opts, args.timeout)
                    r.update(workload=w.key, framework=fw, threads=k, repeat=rep)
                    runs.append(r)
                    if r["ok"]:
                        log(f"[{w.key} threads={k} run {rep}/{args.repeats}] {LABEL[fw]:>7}: "
                            f"{r['seconds']:.3f} s, peak +{r['peak_delta_mib']:.1f} MiB, "
                            f"cpu/wall {r['cpu_seconds'] / r['seconds']:.2f}, "
                            f"last {_fmt(r.get('last_value'), '.4g')}")
                    else:
                        failed.add((w.key, fw))
                        log(f"[{w.key} threads={k} run {rep}] {LABEL[fw]} FAILED: {r['error']}"
                            + (f"\n{r['stderr_tail']}" if r.get("stderr_tail") else ""))
    load_after = machine.load_average()

    rows = summarize(runs, workloads, args.threads, active + list(skipped), opts)
    machine_rows = machine.describe(infos, blas=blas)
    machine_rows += describe_env(args.blas_coretype, args.malloc)
    machine_rows += machine.host_rows(sgemm_runs)
    body = render(rows, runs, args, opts, machine_rows, sgemm_rate, skipped, command,
                  started, load_before, load_after)
    print(body)
    if args.markdown:
        write_markdown(args.markdown, body)
        log(f"wrote {args.markdown}")
    if args.json:
        args.json.write_text(json.dumps({"command": command, "sgemm_gflops": sgemm_rate,
                                         "host": {k: {f: r.get(f) for f in ("python_loop_s", "handoff_us")}
                                                  for k, r in sgemm_runs.items()},
                                         "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
