"""The generative and transfer-learning examples with --quick: each runs in seconds on the
stand-in digits, prints its figures of merit and writes its figures (in-process, so the
imports are paid once; tests/test_examples.py also runs every script as a subprocess)."""
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def _run(module_name, tmp_path, monkeypatch, capsys, *extra):
    monkeypatch.delenv("ZERODL_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no ../shared/data next to it: the stand-in digits are used
    module = __import__(module_name)
    out = tmp_path / "out"
    module.main(["--quick", "--out", str(out), *extra])
    text = capsys.readouterr().out
    results = dict(re.findall(r"^result: (\S+) = (.+)$", text, re.M))
    assert "stand-in" in text
    return out, results


def _number(results, key):
    value = float(results[key])
    assert math.isfinite(value), f"{key} = {results[key]}"
    return value


def test_dcgan_quick(tmp_path, monkeypatch, capsys):
    out, r = _run("dcgan", tmp_path, monkeypatch, capsys, "--epochs", "2", "--steps", "3")
    for key in ("real_share_p_ge_0.9", "generated_share_p_ge_0.9", "generator_itself_share_p_ge_0.9"):
        assert 0.0 <= _number(r, key) <= 1.0
    for key in ("real_class_entropy_nats", "generated_class_entropy_nats", "generator_itself_class_entropy_nats"):
        assert 0.0 <= _number(r, key) <= math.log(10) + 1e-9
    assert r["epochs"] == "2"
    for name in ("samples.png", "losses.png", "real_vs_generated.png", "frames/epoch_01.png", "frames/epoch_02.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    PIL = pytest.importorskip("PIL.Image")
    with PIL.open(out / "samples.gif") as gif:
        assert gif.n_frames >= 2 and gif.size == ((8 * 30 + 2) * 3,) * 2


def test_dcgan_resumed_from_a_checkpoint_gives_the_uninterrupted_run(tmp_path, monkeypatch, capsys):
    """Three epochs straight, against one epoch, a checkpoint, and two more resumed from it
    (with the learning-rate decay starting in the resumed part in both): the same weights,
    optimizer state, losses and per-epoch quality, to the bit."""
    import zerodl as zd

    common = ("--steps", "3", "--lr-decay-from", "2", "--judge-epochs", "1")
    for sub in "abc":
        (tmp_path / sub).mkdir()
    straight, r_straight = _run("dcgan", tmp_path / "a", monkeypatch, capsys, "--epochs", "3",
                                "--checkpoint", str(tmp_path / "a.ckpt"), *common)
    _run("dcgan", tmp_path / "b", monkeypatch, capsys, "--epochs", "1", "--checkpoint", str(tmp_path / "b_{epoch}.ckpt"), *common)
    resumed, r_resumed = _run("dcgan", tmp_path / "c", monkeypatch, capsys, "--epochs", "3",
                              "--resume", str(tmp_path / "b_1.ckpt"), "--checkpoint", str(tmp_path / "c.ckpt"), *common)
    a, meta_a = zd.load(tmp_path / "a.ckpt", with_metadata=True)
    c, meta_c = zd.load(tmp_path / "c.ckpt", with_metadata=True)
    assert sorted(a) == sorted(c) and meta_a["epoch"] == meta_c["epoch"] == "3"
    assert any(k.startswith("opt.G.state.") for k in a) and a["record.frames"].shape[0] == 3
    for k in a:
        np.testing.assert_array_equal(c[k], a[k], err_msg=k)
    for key in ("rng", "opt.G", "opt.D"):
        assert json.loads(meta_a[key]) == json.loads(meta_c[key]), key
    for key in ("generated_share_p_ge_0.9", "generator_itself_share_p_ge_0.9"):
        assert r_resumed[key] == r_straight[key]


def test_dcgan_resume_refuses_another_file(tmp_path, monkeypatch, capsys):
    import zerodl as zd

    zd.save({"w": np.zeros(2, np.float32)}, tmp_path / "weights.safetensors")
    with pytest.raises(SystemExit, match="not a GAN training state"):
        _run("dcgan", tmp_path, monkeypatch, capsys, "--epochs", "1", "--steps", "1",
             "--resume", str(tmp_path / "weights.safetensors"))


def test_dcgan_refuses_a_negative_decay_epoch(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit, match=r"--lr-decay-from >= 0, got 0.9995, -1"):
        _run("dcgan", tmp_path, monkeypatch, capsys, "--epochs", "2", "--steps", "1", "--lr-decay-from", "-1")


def test_autoencoder_quick(tmp_path, monkeypatch, capsys):
    out, r = _run("autoencoder", tmp_path, monkeypatch, capsys)
    for key in ("dense_test_mse", "conv_test_mse", "denoising_test_mse_vs_clean"):
        assert 0.0 < _number(r, key) < 0.5
    assert _number(r, "noisy_input_mse_vs_clean") > 0.01
    assert (out / "reconstructions.png").exists() and (out / "losses.png").exists()


def test_vae_quick(tmp_path, monkeypatch, capsys):
    out, r = _run("vae", tmp_path, monkeypatch, capsys)
    elbo, rec, kl = (_number(r, k) for k in ("test_elbo_nats", "test_reconstruction_loglik_nats", "test_kl_nats"))
    assert kl >= 0 and rec < 0
    assert elbo == pytest.approx(rec - kl, abs=0.02)  # ELBO = E[log p(x|z)] - KL (rounded output)
    for name in ("prior_samples.png", "latent_space.png", "elbo.png"):
        assert (out / name).exists()


def test_transfer_learning_quick(tmp_path, monkeypatch, capsys):
    out, r = _run("transfer_learning", tmp_path, monkeypatch, capsys, "--seeds", "2", "--per-class", "20,3")
    for k in (20, 3):
        for m in ("frozen", "scratch", "fine_tuned"):
            assert 0.0 <= _number(r, f"{m}_{k}_per_class_test_accuracy_mean") <= 1.0
            assert _number(r, f"{m}_{k}_per_class_test_accuracy_std") >= 0.0
        gain = _number(r, f"frozen_minus_scratch_points_{k}_per_class")
        assert gain == pytest.approx(100 * (_number(r, f"frozen_{k}_per_class_test_accuracy_mean")
                                            - _number(r, f"scratch_{k}_per_class_test_accuracy_mean")), abs=0.01)
    assert (out / "accuracies.png").exists()
