"""zerodl.io: safetensors files, atomic writes, refusing bad files, model files, checkpoints."""
import json
import os
import random
import struct

import numpy as np
import pytest

import zerodl as zd
import zerodl.optim as optim
from zerodl.io import atomic_write, load_checkpoint, load_metadata, save_checkpoint

nn = pytest.importorskip("zerodl.nn")


def _state():
    rng = np.random.default_rng(0)
    return {
        "f32": rng.normal(size=(3, 4)).astype(np.float32),
        "f64": rng.normal(size=(2, 5)),
        "f16": rng.normal(size=(4,)).astype(np.float16),
        "i64": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
        "i32": np.array([1, -2], np.int32),
        "u8": np.arange(7, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
        "nan": np.array([np.nan, np.inf, -np.inf, -0.0], np.float32),
    }


# ----- save / load ---------------------------------------------------------------------------
def test_round_trip_bitwise_with_metadata(tmp_path):
    state = _state()
    path = tmp_path / "s.safetensors"
    zd.save(state, path, metadata={"name": "run 1", "epochs": 3, "cfg": {"a": [1, 2]}})
    got, meta = zd.load(path, with_metadata=True)
    assert set(got) == set(state)
    for k, v in state.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape, k
        assert got[k].tobytes() == v.tobytes(), k
        assert got[k].flags.writeable
    assert meta == {"name": "run 1", "epochs": "3", "cfg": '{"a": [1, 2]}'}
    assert load_metadata(path) == meta
    assert isinstance(zd.load(path), dict)


def test_save_accepts_tensors_views_and_strings(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    t = zd.tensor(np.ones((2, 2)), requires_grad=True)
    be = np.arange(4, dtype=">f4")
    state = {"view": base[::2, ::3].T, "tensor": t, "big_endian": be, "note": "hello", "n": 7}
    path = tmp_path / "v.safetensors"
    zd.save(state, path)
    got = zd.load(path)
    np.testing.assert_array_equal(got["view"], base[::2, ::3].T)
    np.testing.assert_array_equal(got["tensor"], np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(got["big_endian"], be.astype("<f4"))
    assert got["note"] == "hello" and got["n"] == 7
    assert "zerodl.str:note" not in load_metadata(path)


def test_save_refuses_unstorable_values(tmp_path):
    with pytest.raises(TypeError, match="obj"):
        zd.save({"obj": np.array([object()], dtype=object)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError):
        zd.save({1: np.zeros(2)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError):
        zd.save({"a": np.zeros(2)}, tmp_path / "x.safetensors", metadata={"k": object()})
    assert not os.listdir(tmp_path)


def test_readable_by_torch(tmp_path):
    pytest.importorskip("torch")
    from safetensors.torch import load_file

    state = _state()
    del state["u8"]  # every dtype torch has; uint8 is fine too but keep the check simple
    path = tmp_path / "t.safetensors"
    zd.save(state, path, metadata={"x": 1})
    got = load_file(str(path))
    for k, v in state.items():
        np.testing.assert_array_equal(got[k].numpy(), v)
        assert got[k].numpy().dtype == v.dtype


# ----- atomic writes ---------------------------------------------------------------------------
def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    path = tmp_path / "model.safetensors"
    atomic_write(path, b"old contents")

    def half_then_crash(f):
        f.write(b"new half-written contents")
        f.flush()
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(path, half_then_crash)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind


def test_atomic_write_forms(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write(p, "héllo\n")
    assert p.read_text(encoding="utf-8") == "héllo\n"
    atomic_write(p, lambda f: f.write("x,y\n"), text=True)
    assert p.read_text() == "x,y\n"
    os.chmod(p, 0o640)
    atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    if os.name == "posix":
        assert os.stat(p).st_mode & 0o777 == 0o640  # permissions of the replaced file kept
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "nope" / "a.txt", b"")
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    zd.save({"a": np.ones(3)}, path)
    from zerodl.io import safetensors_io

    def boom(*a, **k):
        raise OSError("no space left on device")

    monkeypatch.setattr(safetensors_io, "atomic_write", lambda p, data: atomic_write(p, lambda f: boom()))
    with pytest.raises(OSError):
        zd.save({"a": np.zeros(3)}, path)
    np.testing.assert_array_equal(zd.load(path)["a"], np.ones(3))
    assert os.listdir(tmp_path) == ["w.safetensors"]


# ----- refusing bad files --------------------------------------------------------------------------
def _good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    zd.save({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3, np.float32)}, path)
    return path, path.read_bytes()


def test_truncated_file_refused(tmp_path):
    _, raw = _good_file(tmp_path)
    for cut in (len(raw) - 4, 20, 5, 0):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match=f"cut{cut}.safetensors") as e:
            zd.load(bad)
        assert "truncated" in str(e.value) or "not a safetensors" in str(e.value)


def test_tampered_header_refused(tmp_path):
    _, raw = _good_file(tmp_path)
    (n,) = struct.unpack("<Q", raw[:8])
    header = raw[8 : 8 + n]
    # 1. a shape that no longer matches the data offsets (same header length)
    assert b"[2,3]" in header
    bad = tmp_path / "shape.safetensors"
    bad.write_bytes(raw[:8] + header.replace(b"[2,3]", b"[3,3]") + raw[8 + n :])
    with pytest.raises(ValueError, match="shape.safetensors.*(tampered|corrupt)"):
        zd.load(bad)
    # 2. broken JSON
    bad = tmp_path / "json.safetensors"
    bad.write_bytes(raw[:8] + header.replace(b"{", b"[", 1) + raw[8 + n :])
    with pytest.raises(ValueError, match="json.safetensors.*JSON"):
        zd.load(bad)
    # 3. a header length pointing past the end of the file
    bad = tmp_path / "len.safetensors"
    bad.write_bytes(struct.pack("<Q", n + 1000) + raw[8:])
    with pytest.raises(ValueError, match="len.safetensors"):
        zd.load(bad)
    # 4. extra bytes appended
    bad = tmp_path / "tail.safetensors"
    bad.write_bytes(raw + b"\x00" * 8)
    with pytest.raises(ValueError, match="tail.safetensors"):
        zd.load(bad)
    # 5. not a safetensors file at all
    bad = tmp_path / "text.safetensors"
    bad.write_text("hello, this is not a model")
    with pytest.raises(ValueError, match="text.safetensors"):
        zd.load(bad)


def _touch(path):  # what the pickled payload would run if it were ever unpickled
    with open(path, "w") as f:
        f.write("pwned")
    return 0


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_touch, (self.marker,))


def test_pickled_npz_and_npy_refused_without_running_code(tmp_path):
    marker = str(tmp_path / "marker")
    payload = np.array([_Evil(marker)], dtype=object)
    npz = tmp_path / "evil.npz"
    np.savez(npz, weights=np.zeros(3), payload=payload)
    npy = tmp_path / "evil.npy"
    np.save(npy, payload, allow_pickle=True)
    disguised = tmp_path / "evil.safetensors"  # recognised by content, not by name
    disguised.write_bytes(npz.read_bytes())
    assert not os.path.exists(marker)
    for path in (npz, npy, disguised):
        with pytest.raises(ValueError, match="pickle") as e:
            zd.load(path)
        assert path.name in str(e.value)
        assert not os.path.exists(marker), "loading ran code from the file"
    # the payload is live: unpickling it on purpose does create the marker
    np.load(npy, allow_pickle=True)
    assert os.path.exists(marker)


def test_plain_npz_loads(tmp_path):
    path = tmp_path / "ok.npz"
    np.savez(path, a=np.arange(3), b=np.ones((2, 2), np.float32))
    got = zd.load(path)
    np.testing.assert_array_equal(got["a"], np.arange(3))
    assert got["b"].dtype == np.float32


# ----- model state and model files ---------------------------------------------------------------
def _mlp():
    zd.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_missing_keys_refused_by_load_state_dict(tmp_path):
    model = _mlp()
    sd = dict(model.state_dict())
    del sd["2.b"]
    del sd["0.W"]
    path = tmp_path / "partial.safetensors"
    zd.save(sd, path)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="missing") as e:
        model.load_state_dict(zd.load(path))
    assert "2.b" in str(e.value) and "0.W" in str(e.value)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # nothing changed


def _assert_same_outputs(a, b, x):
    a.eval()
    b.eval()
    with zd.no_grad():
        np.testing.assert_array_equal(a(zd.tensor(x)).data, b(zd.tensor(x)).data)


def test_model_file_round_trip_mlp(tmp_path):
    model = _mlp()
    path = tmp_path / "mlp.safetensors"
    model.save(path)
    zd.manual_seed(123)  # a different init for the rebuilt model: the weights must come from the file
    loaded = zd.load_model(path)
    assert type(loaded) is type(model) and not loaded.training
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    _assert_same_outputs(model, loaded, x)
    meta = load_metadata(path)
    assert meta["format"] == "zerodl.model/1"
    assert json.loads(meta["architecture"])["class"] == "Sequential"


def test_model_file_round_trip_cnn_with_extras(tmp_path):
    if not (hasattr(zd.functions, "conv2d") and hasattr(zd.functions, "max_pool2d")):
        pytest.skip("F.conv2d / F.max_pool2d not available yet")
    zd.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )
    path = tmp_path / "cnn.safetensors"
    zd.nn.save_model(model, path, input_shape=[None, 1, 8, 8], classes=list("0123456789"))
    loaded, meta = zd.nn.load_model(path, with_metadata=True)
    x = np.random.default_rng(2).normal(size=(2, 1, 8, 8)).astype(np.float32)
    _assert_same_outputs(model, loaded, x)
    assert json.loads(meta["input_shape"]) == [None, 1, 8, 8]
    assert json.loads(meta["classes"])[3] == "3"


def test_model_file_round_trip_lazy_layer(tmp_path):
    zd.manual_seed(0)
    model = nn.Sequential(nn.Linear(6), nn.ReLU(), nn.Linear(2))  # in_features inferred
    x = np.random.default_rng(3).normal(size=(3, 5)).astype(np.float32)
    model(zd.tensor(x))
    path = tmp_path / "lazy.safetensors"
    model.save(path)
    _assert_same_outputs(model, zd.load_model(path), x)


def test_load_model_refuses_weights_only_file(tmp_path):
    path = tmp_path / "weights.safetensors"
    zd.save(_mlp().state_dict(), path)
    with pytest.raises(ValueError, match="architecture"):
        zd.load_model(path)


# ----- checkpoints ------------------------------------------------------------------------------------
def _train_steps(model, opt, n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = zd.tensor(rng.normal(size=(8, 4)).astype(np.float32))
        t = rng.integers(0, 3, size=8)
        loss = zd.functions.softmax_cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _draws():
    return (zd.get_rng().random(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)])


def test_checkpoint_round_trip_resumes_identically(tmp_path):
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    _train_steps(model, opt, 3, seed=0)
    sched.step()
    path = tmp_path / "ckpt.safetensors"
    zd.manual_seed(77)
    save_checkpoint(path, model, opt, epoch=4, extra={"best": 0.25, "note": "x"}, scheduler=sched)
    want_draws = _draws()
    _train_steps(model, opt, 2, seed=1)
    want_weights = {k: v.copy() for k, v in model.state_dict().items()}

    zd.manual_seed(5)
    model2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=9, gamma=0.1)
    random.random()
    info = load_checkpoint(path, model2, opt2, scheduler=sched2)
    assert info["epoch"] == 4 and info["extra"] == {"best": 0.25, "note": "x"}
    assert opt2.lr == opt.lr == 5e-3 and sched2.step_size == 1
    assert _draws() == want_draws  # zerodl, np.random and random all continue where they were
    _train_steps(model2, opt2, 2, seed=1)
    for k, v in model2.state_dict().items():
        np.testing.assert_array_equal(v, want_weights[k])


def test_checkpoint_errors(tmp_path):
    model = _mlp()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)  # no optimizer
    info = load_checkpoint(path, _mlp())
    assert info["epoch"] is None
    with pytest.raises(ValueError, match="no optimizer"):
        load_checkpoint(path, _mlp(), optim.SGD(_mlp().parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match="missing"):
        load_checkpoint(path, nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Linear(3, 2)))
    weights = tmp_path / "w.safetensors"
    zd.save(model.state_dict(), weights)
    with pytest.raises(ValueError, match="not a zerodl checkpoint"):
        load_checkpoint(weights, model)
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(tmp_path / "d.safetensors", model, extra={"f": object()})
