"""Damaged files are caught, and a checkpoint that does not fit changes nothing.

Every file type zerodl writes (weights by ``zd.save``, model files, checkpoints) is damaged in
the ways a disk or a copy damages files: single bytes flipped (the length prefix, every region of
the header and of the tensor bytes), a range zeroed, the file cut short. Each load must raise a
``ValueError`` naming the file; none may load silently.
"""
import json
import struct

import numpy as np
import pytest

import zerodl as zd
import zerodl.nn as nn
import zerodl.optim as optim
from zerodl.core import get_rng_state
from zerodl.io import load_checkpoint, save_checkpoint
from zerodl.nn import load_model


def _model():
    zd.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _adam_after_one_step(model):
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss = (model(zd.tensor(np.ones((2, 3), np.float32))) ** 2).sum()
    loss.backward()
    opt.step()
    return opt


def _write(kind, path):
    model = _model()
    if kind == "weights":
        zd.save(model.state_dict(), path, metadata={"note": "hello"})
        return lambda: zd.load(path)
    if kind == "model":
        model.save(path)
        return lambda: load_model(path)
    save_checkpoint(path, model, _adam_after_one_step(model), epoch=3, extra={"step": 7})
    m2 = _model()
    o2 = optim.Adam(m2.parameters(), lr=0.01)
    return lambda: load_checkpoint(path, m2, o2)


KINDS = ("weights", "model", "checkpoint")


def _header_len(raw):
    return 8 + struct.unpack("<Q", raw[:8])[0]


def _positions(raw, n=60):
    """Byte offsets to damage: the length prefix, both ends of the header and of the tensor
    section, and evenly spread ones in between (every byte of a small file)."""
    h = _header_len(raw)
    picked = set(range(10)) | set(range(h - 10, h + 10)) | set(range(len(raw) - 10, len(raw)))
    picked |= set(np.linspace(0, len(raw) - 1, n).astype(int).tolist())
    picked |= set(np.linspace(h, len(raw) - 1, n // 2).astype(int).tolist())
    return sorted(i for i in picked if 0 <= i < len(raw))


@pytest.mark.parametrize("kind", KINDS)
def test_single_byte_flips_are_detected(kind, tmp_path):
    path = tmp_path / f"{kind}.safetensors"
    load = _write(kind, path)
    load()  # intact: loads
    raw = path.read_bytes()
    missed = []
    for i in _positions(raw):
        for mask in (0x01, 0x80):
            bad = bytearray(raw)
            bad[i] ^= mask
            path.write_bytes(bad)
            try:
                load()
            except ValueError as e:
                assert str(path) in str(e)
            else:
                missed.append((i, mask))
    assert not missed, f"{len(missed)} flips loaded silently, first at byte {missed[0]}"


@pytest.mark.parametrize("kind", KINDS)
def test_zeroed_tensor_bytes_are_reported_as_corruption(kind, tmp_path):
    path = tmp_path / f"{kind}.safetensors"
    load = _write(kind, path)
    raw = path.read_bytes()
    start = _header_len(raw)
    for lo, hi in ((start, start + 16), ((start + len(raw)) // 2, (start + len(raw)) // 2 + 8),
                   (len(raw) - 12, len(raw))):
        bad = bytearray(raw)
        if not any(bad[lo:hi]):
            continue
        bad[lo:hi] = bytes(hi - lo)
        path.write_bytes(bad)
        with pytest.raises(ValueError, match="the file is corrupted") as e:
            load()
        assert str(path) in str(e.value)
    # a zeroed range in the header is refused too
    bad = bytearray(raw)
    bad[20:40] = bytes(20)
    path.write_bytes(bad)
    with pytest.raises(ValueError, match="corrupt"):
        load()


@pytest.mark.parametrize("kind", KINDS)
def test_truncations_are_detected(kind, tmp_path):
    path = tmp_path / f"{kind}.safetensors"
    load = _write(kind, path)
    raw = path.read_bytes()
    for n in _positions(raw):
        path.write_bytes(raw[:n])
        with pytest.raises(ValueError) as e:
            load()
        assert str(path) in str(e.value), n


def _strip_checksum(path):
    """Rewrite a file as zerodl 0.1 wrote it: the same tensors and metadata, no checksum."""
    import safetensors.numpy
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        meta = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    assert meta.pop("zerodl.checksum").startswith("crc32/1:")
    path.write_bytes(safetensors.numpy.save(arrays, metadata=meta))


@pytest.mark.parametrize("kind", KINDS)
def test_files_without_a_checksum_still_load(kind, tmp_path):
    path = tmp_path / f"{kind}.safetensors"
    load = _write(kind, path)
    expected = load()
    _strip_checksum(path)
    got = load()
    if kind == "weights":
        assert set(got) == set(expected) and all(np.array_equal(got[k], expected[k]) for k in got)
    elif kind == "model":
        for (k, a), (_, b) in zip(got.state_dict().items(), expected.state_dict().items()):
            assert np.array_equal(a, b), k
    else:
        assert got["epoch"] == 3 and got["extra"] == {"step": 7}


def test_checksum_entry_is_not_user_metadata(tmp_path):
    path = tmp_path / "w.safetensors"
    zd.save({"a": np.ones(3)}, path, metadata={"note": "x"})
    assert zd.io.load_metadata(path) == {"note": "x"}
    _, meta = zd.load(path, with_metadata=True)
    assert meta == {"note": "x"}
    with pytest.raises(ValueError, match="reserved"):
        zd.save({"a": np.ones(3)}, path, metadata={"zerodl.checksum": "crc32/1:00000000"})


# ----------------------------------------------------------------------------- checkpoints
def _snapshot(model, opt):
    return ({k: np.array(v, copy=True) for k, v in model.state_dict().items()},
            opt.state_dict(), json.dumps(get_rng_state()), np.random.get_state()[2])


def _assert_unchanged(before, model, opt):
    weights, opt_state, rng, legacy_pos = before
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k], err_msg=k)
    after = opt.state_dict()
    assert after.keys() == opt_state.keys()
    assert after["optimizer"] == opt_state["optimizer"]
    for k in after:
        if k != "optimizer":
            np.testing.assert_array_equal(after[k], opt_state[k])
    assert json.dumps(get_rng_state()) == rng and np.random.get_state()[2] == legacy_pos


def test_load_checkpoint_with_a_mismatching_optimizer_changes_nothing(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    trained = _model()
    save_checkpoint(path, trained, _adam_after_one_step(trained), epoch=1)

    zd.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)  # not the checkpoint's Adam
    loss = (model(zd.tensor(np.ones((2, 3), np.float32))) ** 2).sum()
    loss.backward()
    opt.step()  # momentum buffers exist
    np.random.seed(123)
    before = _snapshot(model, opt)
    with pytest.raises(ValueError, match="optimizer") as e:
        load_checkpoint(path, model, opt)
    assert str(path) in str(e.value)
    _assert_unchanged(before, model, opt)


def test_load_checkpoint_with_a_mismatching_model_leaves_the_optimizer_alone(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    trained = _model()
    save_checkpoint(path, trained, _adam_after_one_step(trained), epoch=1)

    zd.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = _adam_after_one_step(model)
    model.append(nn.Linear(2, 2))  # one layer more than the checkpoint knows
    before = _snapshot(model, opt)
    with pytest.raises(RuntimeError, match="missing keys"):
        load_checkpoint(path, model, opt)
    _assert_unchanged(before, model, opt)


def test_load_checkpoint_with_a_bad_rng_state_changes_nothing(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    trained = _model()
    save_checkpoint(path, trained, _adam_after_one_step(trained), epoch=1)
    tensors, meta = zd.load(path, with_metadata=True)
    rng = json.loads(meta["rng"])
    rng["python"][1] = rng["python"][1][:10]  # a Python generator state of the wrong length
    meta["rng"] = json.dumps(rng)
    strings = {k: v for k, v in tensors.items() if isinstance(v, str)}
    zd.save({**{k: v for k, v in tensors.items() if not isinstance(v, str)}, **strings}, path,
            metadata={k: v for k, v in meta.items()})

    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    before = _snapshot(model, opt)
    with pytest.raises(ValueError, match="random generators"):
        load_checkpoint(path, model, opt)
    _assert_unchanged(before, model, opt)
