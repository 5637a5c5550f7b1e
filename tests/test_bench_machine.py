"""bench.machine's host readings (the pure-Python loop and the chunk pool's hand-off) and the
report rows made from them."""
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zerodl as zd  # noqa: E402
from bench import machine  # noqa: E402


@pytest.fixture
def restore_threads():
    n = zd.get_num_threads()
    yield
    zd.set_num_threads(n)


def test_python_loop_takes_time_in_proportion_to_its_length():
    short, longer = machine.python_loop_seconds(1, 50_000), machine.python_loop_seconds(1, 500_000)
    assert 0 < short < longer and math.isfinite(longer)


def test_handoff_is_none_for_one_thread_and_a_time_for_two(restore_threads):
    pytest.importorskip("threadpoolctl")  # without it map_chunks never leaves the caller
    assert machine.handoff_us(1) is None
    us = machine.handoff_us(2, calls=20)
    assert 0 < us < 1e6


def test_handoff_goes_through_the_pool(monkeypatch, restore_threads):
    from zerodl.core import threads

    seen = []
    monkeypatch.setattr(threads, "map_chunks", lambda fn, items: seen.append(tuple(items)))
    machine.handoff_us(2, calls=5)
    assert seen == [(0, 1)] * 25  # 20 warm-up calls, then the timed ones


def test_host_rows_name_each_reading():
    rows = dict(machine.host_rows({1: {"python_loop_s": 0.25, "handoff_us": None},
                                   2: {"python_loop_s": 0.26, "handoff_us": 118.4}}))
    loop = next(v for k, v in rows.items() if k.startswith("Pure-Python loop"))
    pool = next(v for k, v in rows.items() if k.startswith("zerodl chunk pool"))
    assert loop == "0.250 s, 0.260 s" and pool == "118 µs with 2 threads"
    assert machine.host_rows({1: {"ok": True, "gflops": 90.0}}) == []  # an older child's reading


def test_pool_handoff_bench_times_every_pool_and_job(restore_threads):
    from bench import pool_handoff

    results = pool_handoff.measure(rounds=1, calls=3)
    pools = {p for p, _ in results}
    assert {"executor", "one thread"} <= pools and {j for _, j in results} == {"empty", "exp, 2 x 1 MiB"}
    assert all(len(v) == 1 and v[0] > 0 for v in results.values())
    from zerodl.core import threads

    assert threads._spin_pool.__name__ == "_spin_pool"  # put back afterwards
