"""zerodl.distributed under a real ``mpiexec -n 2`` (MPICH's Hydra), launched from pytest.

Skipped, with the reason, when mpi4py or mpiexec is absent (``pip install "zerodl[mpi]"``
installs both). Every launch has a timeout, so a hang fails the test instead of CI.
"""
import json
import os
import re
import sys
import time

import numpy as np
import pytest

import zerodl.distributed as dist
from _mpi import mpi_run, needs_mpi

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "_distributed_scenarios.py")


def _scenario(name, tmp_path, timeout=60):
    out = tmp_path / f"{name}.json"
    t0 = time.monotonic()
    proc = mpi_run([sys.executable, SCENARIOS, name, str(out)], timeout=timeout)
    elapsed = time.monotonic() - t0
    return proc, elapsed, (json.loads(out.read_text()) if out.exists() else None)


# --------------------------------------------------------------------------- without MPI
def test_import_zerodl_distributed_needs_no_mpi4py():
    import subprocess

    code = ("import sys, zerodl, zerodl.distributed as d; "
            "assert (d.rank(), d.world_size(), d.is_main_process()) == (0, 1, True); "
            "assert 'mpi4py' not in sys.modules; print(d.shard_layout(9, 2, 2))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_", "MPI_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**env, "PYTHONPATH": os.path.dirname(HERE)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[(0, [2, 2]), (4, [2, 1]), (7, [1, 1])]"


def test_shard_layout_covers_every_sample_once_with_equal_steps():
    for n in range(2, 40):
        for world in (1, 2, 3, 4):
            for b in (1, 2, 5):
                if n < world:
                    with pytest.raises(ValueError, match="cannot give each"):
                        dist.shard_layout(n, world, b)
                    continue
                layout = dist.shard_layout(n, world, b)
                assert sum(sum(p) for _, p in layout) == n
                assert all(1 <= s <= max(b, 2 if world > 1 else 1) for _, p in layout for s in p)
                assert all(s <= b for _, p in layout[:-1] for s in p) or b == 1
                starts = [s for s, _ in layout]
                assert starts == sorted(starts) and starts[0] == 0


def test_sampler_in_one_process_matches_one_big_batch():
    """num_replicas/rank given explicitly: the ranks' pieces of step k concatenate into batch k
    of the single-process layout with batch world*B."""
    n, b = 23, 3
    ranks = [dist.DistributedSampler(range(n), seed=1, batch_size=b, num_replicas=2, rank=r) for r in range(2)]
    one = dist.DistributedSampler(range(n), seed=1, batch_size=2 * b, num_replicas=1, rank=0)
    for epoch in (0, 1):
        for s in ranks + [one]:
            s.set_epoch(epoch)
        pieces = [s.batches() for s in ranks]
        joined = [np.concatenate([p0, p1]) for p0, p1 in zip(*pieces)]
        assert [j.tolist() for j in joined] == [o.tolist() for o in one.batches()]
    ranks[0].set_epoch(0)
    e0 = ranks[0].order()
    ranks[0].set_epoch(1)
    assert e0.tolist() != ranks[0].order().tolist()  # a new permutation every epoch


def test_loader_state_resumes_mid_epoch():
    x = np.arange(30)
    a = dist.DistributedLoader(x, batch_size=4, seed=2, num_replicas=2, rank=1)
    first = [xb.tolist() for (xb,) in a]
    it = iter(a)
    second = [next(it)[0].tolist(), next(it)[0].tolist()]
    state = a.state_dict()
    b = dist.DistributedLoader(x, batch_size=4, seed=2, num_replicas=2, rank=1)
    b.load_state_dict(state)
    rest = [xb.tolist() for (xb,) in b]
    c = dist.DistributedLoader(x, batch_size=4, seed=2, num_replicas=2, rank=1)
    list(c)
    assert second + rest == [xb.tolist() for (xb,) in c]
    assert first != second + rest
    with pytest.raises(ValueError, match="saved by 3 ranks, this job has 2; resume it with mpiexec -n 3"):
        b.load_state_dict({**state, "world_size": 3})


def test_world_of_one_is_the_identity():
    import zerodl.nn as nn
    import zerodl.optim as optim

    model = nn.Linear(3, 2)
    before = model.W.data.copy()
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.5))
    model.W.grad = np.ones_like(model.W.data)
    opt.step()
    np.testing.assert_allclose(model.W.data, before - 0.5)
    assert dist.average_metrics({"loss": 2.0}) == {"loss": 2.0}
    opt.lr = 0.25
    assert opt.optimizer.lr == 0.25 and opt.param_groups is opt.optimizer.param_groups
    with pytest.raises(TypeError, match="DistributedOptimizer"):
        dist.DistributedOptimizer(object())


# --------------------------------------------------------------------------- under mpiexec -n 2
@needs_mpi
def test_two_ranks_match_one_process_with_twice_the_batch(tmp_path):
    proc, _, res = _scenario("equivalence", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert res["world"] == 2
    for key, r in res["results"].items():
        assert r["ranks_agree"], key
        assert r["moved"] > 1e-2, key  # training really changed the weights
        assert r["max_diff"] < 1e-10, (key, r)
        assert r["groups"] == (2 if key.startswith("adam") else 1)


@needs_mpi
def test_sharding_covers_every_sample_exactly_once_per_epoch(tmp_path):
    proc, _, res = _scenario("sharding", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for case in res["cases"]:
        n = case["n"]
        orders = []
        for per_rank in case["epochs"]:
            assert len(per_rank) == 2 and len(per_rank[0]) == len(per_rank[1])  # the same number of steps
            flat = sorted(i for batches in per_rank for b in batches for i in b)
            assert flat == list(range(n)), case
            orders.append([i for b in per_rank[0] for i in b])
        if case["shuffle"] and n > 4:
            assert orders[0] != orders[1], case
        assert case["len"][0] == case["len"][1]
        for epoch in (0, 1):
            values = sorted(v for rank_seen in case["loader"] for v in rank_seen[epoch])
            assert values == [10 * i for i in range(n)]
    # (1 * 1 + 2 * 2) / 3 for the loss, 0.5 for the accuracy
    assert res["metrics"] == pytest.approx({"loss": 5 / 3, "acc": 0.5})
    # rank 0's batch has means (1, 2), rank 1's (11, 12); momentum 0.1 from zeros: 0.1 * mean
    assert res["bn_local"] == pytest.approx([0.1, 0.2])
    assert res["bn_mean"] == pytest.approx([0.6, 0.7]) and res["bn_every"][0] == res["bn_every"][1]


@needs_mpi
def test_a_killed_rank_ends_the_job_within_seconds(tmp_path):
    proc, elapsed, _ = _scenario("kill", tmp_path, timeout=60)
    assert proc.returncode != 0
    assert elapsed < 20, f"the job took {elapsed:.1f}s to end after rank 1 was killed"
    assert "signal 9" in (proc.stdout + proc.stderr) or "Killed" in (proc.stdout + proc.stderr)


@needs_mpi
def test_a_raising_rank_ends_the_job_with_its_message(tmp_path):
    proc, elapsed, _ = _scenario("raise", tmp_path, timeout=60)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert elapsed < 20, f"the job took {elapsed:.1f}s to end after rank 1 raised"
    assert "[rank 1/2] RuntimeError: rank one fails on purpose" in text, text
    assert "aborting the job because rank 1 failed" in text


# --------------------------------------------------------------------------- fit and the CLI
def _world_of_one(name, tmp_path):
    """The scenario run by plain python (no launcher): a world of one."""
    import subprocess

    from _mpi import mpi_env

    out = tmp_path / f"{name}-1.json"
    proc = subprocess.run([sys.executable, SCENARIOS, name, str(out)], capture_output=True, text=True, timeout=60,
                          env=mpi_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


@needs_mpi
def test_fit_distributed_matches_one_process_with_twice_the_batch(tmp_path):
    proc, _, two = _scenario("fit", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    one_proc, one = _world_of_one("fit", tmp_path)
    assert two["world"] == 2 and one["world"] == 1 and two["ranks_agree"]
    np.testing.assert_allclose(two["weights"], one["weights"], rtol=0, atol=1e-10)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-10, atol=1e-12)
    assert two["history"]["loss"][-1] < two["history"]["loss"][0]
    # rank 0 alone prints and writes its CSV log
    assert proc.stdout.count("Epoch 3/3") == 1, proc.stdout
    assert (tmp_path / "log-2-rank0.csv").exists() and not (tmp_path / "log-2-rank1.csv").exists()


@needs_mpi
def test_a_nan_loss_on_one_rank_stops_every_rank_at_the_same_step(tmp_path):
    proc, elapsed, res = _scenario("diverge", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert res["ranks"] == [{"caught": {"epoch": 0, "batch": 0, "finite": True}, "unchanged": True}] * 2


@needs_mpi
def test_backup_and_restore_resumes_a_distributed_run(tmp_path):
    whole, _, ref = _scenario("resume", tmp_path)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    out = tmp_path / "resumed.json"
    env = {"BACKUP": "crashed", "CRASH_AT": "1"}
    crashed = mpi_run([sys.executable, SCENARIOS, "resume", str(out)], env=env)
    assert crashed.returncode != 0 and "crash after epoch 1" in crashed.stderr
    assert (tmp_path / "crashed").exists() and not out.exists()
    again = mpi_run([sys.executable, SCENARIOS, "resume", str(out)], env={"BACKUP": "crashed"})
    assert again.returncode == 0, again.stdout + again.stderr
    res = json.loads(out.read_text())
    assert res["epochs"] == [0, 1, 2, 3]
    np.testing.assert_array_equal(res["weights"], ref["weights"])
    np.testing.assert_allclose(res["loss"], ref["loss"], rtol=1e-12)


@needs_mpi
def test_cli_train_distributed_writes_once_and_the_model_evaluates(tmp_path):
    from zerodl.cli import main

    proc = mpi_run([sys.executable, "-m", "zerodl", "train", "--distributed", "--model", "mlp", "--epochs", "3",
                    "--verbose", "2", "--out", str(tmp_path / "run")], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("test accuracy") == 1, proc.stdout
    assert "2 ranks" in proc.stdout
    assert main(["evaluate", str(tmp_path / "run" / "model.safetensors")]) == 0


@needs_mpi
def test_cli_train_distributed_failure_is_one_line_and_ends_the_job(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    t0 = time.monotonic()
    proc = mpi_run([sys.executable, "-m", "zerodl", "train", "--distributed", "--out", str(tmp_path / "afile")])
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 30
    # every rank finds the bad --out; whichever aborts first ends the job, so either may be the one named
    assert re.search(r"zerodl: error: rank [01] of 2: .*is a file, not a folder", proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- the scaling benchmark
@needs_mpi
def test_bench_distributed_reports_the_ceiling_and_where_a_step_goes(tmp_path):
    """bench.distributed on synthetic data, a few W2 steps: the rows for one rank, two independent
    ranks (no gradient exchange: the ceiling) and two data-parallel ranks, counting the same samples."""
    import subprocess

    from _mpi import launch_settings, mpi_env

    out = tmp_path / "runs.json"
    cmd = [sys.executable, "-m", "bench.distributed", "--workloads", "W2", "--repeats", "1", "--samples", "400",
           "--warmup", "1", "--scaling", "alone,weak", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=os.path.dirname(HERE),
                          env=mpi_env(launch_settings()))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {tuple(e["key"]): e["runs"][0] for e in json.loads(out.read_text())}
    one, alone, weak = runs[("W2", 1, "-")], runs[("W2", 2, "alone")], runs[("W2", 2, "weak")]
    assert one["samples"] == alone["samples"] == weak["samples"] == 400  # the same samples in every row
    assert alone["phases_ms"] == {} and one["phases_ms"] == {"pack": 0.0, "allreduce": 0.0, "unpack": 0.0}
    ph = weak["phases_ms"]
    assert set(ph) == {"pack", "allreduce", "unpack"} and min(ph.values()) > 0
    assert weak["comm_share"] == pytest.approx(sum(ph.values()) / weak["step_ms"], rel=1e-6)
    assert weak["buckets"] == 1 and weak["mbytes"] == pytest.approx(1.66, abs=0.01) and weak["allreduce_ms"] > 0
    assert len(weak["by_rank"]) == 2 and 0 <= weak["foreign"] <= 1
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("| W2 |")]
    assert [ln.split("|")[3].strip() for ln in rows] == ["-", "independent", "weak"]


# --------------------------------------------------------------------------- ranks share the cores
@needs_mpi
def test_ranks_on_one_machine_split_its_cores_unless_told(tmp_path):
    """Without a thread count in the environment, 2 ranks on this machine each compute with half
    of its cores (BLAS too, through threadpoolctl); with OMP_NUM_THREADS set they keep it."""
    import subprocess

    from _mpi import find_mpiexec, launch_settings, mpi_env

    code = ("import json, zerodl as zd, zerodl.distributed as d; from zerodl.core.threads import thread_info; "
            "d.init(); every = d.allgather_object([d.rank(), zd.get_num_threads(), thread_info()]); "
            "print('@@' + json.dumps(every)) if d.rank() == 0 else None")
    base = {k: v for k, v in mpi_env(launch_settings()).items()
            if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ZERODL_NUM_THREADS")}

    def ranks(extra):
        p = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=60, env={**base, **extra})
        assert p.returncode == 0, p.stdout + p.stderr
        return [json.loads(ln[2:]) for ln in p.stdout.splitlines() if ln.startswith("@@")][0]  # rank 0's line

    mine = len(os.sched_getaffinity(0))
    share = max(1, mine // 2)
    got = ranks({})
    assert [r[:2] for r in got] == [[0, share], [1, share]]
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        pass
    else:
        assert all(v == share for r in got for k, v in r[2].items() if k.endswith("(blas)")), got
    assert [r[1] for r in ranks({"OMP_NUM_THREADS": str(mine)})] == [mine, mine]
