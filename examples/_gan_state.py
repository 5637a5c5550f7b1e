"""dcgan.py's training state in one safetensors file, for ``--checkpoint`` / ``--resume``.

What a GAN run needs to go on exactly where it stopped: the networks (G, D and G's weight
averages, running statistics included), both optimizers (Adam's moments and step counts), the
script's NumPy generator and zerodl's, and the record so far (per-step losses, per-epoch
quality, the frames of the GIF). Written atomically (``zd.save``) after every epoch; a run
resumed from epoch k's file gives the same bits as the run that went on, and may change what
later epochs do (a learning-rate schedule from epoch k + 1, say).

Layout: tensors ``net.<name>.<key>``, ``opt.<name>.<key>``, ``record.losses_D`` /
``record.losses_G`` (float64), ``record.per_epoch`` (epochs x 4), ``record.frames``
(epochs x rows x cols, uint8); metadata ``opt.<name>`` (the optimizers' JSON heads),
``rng`` (both generators' states, JSON), ``epoch`` and ``first_ok``.
"""
import json

import numpy as np

import zerodl as zd

FORMAT = "zerodl.examples.gan_state/1"


def save_state(path, epoch, nets, optimizers, rng, record):
    """``nets``/``optimizers``: dicts name -> Module / Optimizer (None entries skipped);
    ``record``: losses_D, losses_G (lists of floats), per_epoch (list of 4-tuples), frames
    (list of uint8 arrays), first_ok (epoch or None)."""
    tensors, meta = {}, {"format": FORMAT, "epoch": str(epoch), "first_ok": json.dumps(record["first_ok"])}
    for name, net in nets.items():
        if net is not None:
            tensors.update({f"net.{name}.{k}": v for k, v in net.state_dict().items()})
    for name, opt in optimizers.items():
        for k, v in opt.state_dict().items():
            if isinstance(v, str):
                meta[f"opt.{name}"] = v
            else:
                tensors[f"opt.{name}.{k}"] = v
    meta["rng"] = json.dumps({"script": rng.bit_generator.state, "zerodl": zd.get_rng().bit_generator.state})
    tensors["record.losses_D"] = np.asarray(record["losses_D"], np.float64)
    tensors["record.losses_G"] = np.asarray(record["losses_G"], np.float64)
    tensors["record.per_epoch"] = np.asarray(record["per_epoch"], np.float64).reshape(-1, 4)
    tensors["record.frames"] = np.stack(record["frames"]).astype(np.uint8)
    zd.save(tensors, path, metadata=meta)


def load_state(path, nets, optimizers, rng):
    """Restore a ``save_state`` file into ``nets``, ``optimizers`` and ``rng`` (and zerodl's
    generator); returns ``(epoch, record)``. Raises SystemExit naming the file when it is not one
    or does not fit these networks."""
    tensors, meta = zd.load(path, with_metadata=True)
    if meta.get("format") != FORMAT:
        raise SystemExit(f"dcgan.py: {path} is not a GAN training state (format {meta.get('format')!r})")
    try:
        for name, net in nets.items():
            if net is not None:
                prefix = f"net.{name}."
                net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        for name, opt in optimizers.items():
            prefix = f"opt.{name}."
            opt.load_state_dict({"optimizer": meta[f"opt.{name}"],
                                 **{k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}})
    except (KeyError, ValueError, RuntimeError) as e:
        raise SystemExit(f"dcgan.py: {path} does not fit these networks and options: {e}") from None
    states = json.loads(meta["rng"])
    rng.bit_generator.state = states["script"]
    zd.get_rng().bit_generator.state = states["zerodl"]
    record = {"losses_D": tensors["record.losses_D"].tolist(), "losses_G": tensors["record.losses_G"].tolist(),
              "per_epoch": [tuple(row) for row in tensors["record.per_epoch"].tolist()],
              "frames": list(tensors["record.frames"]), "first_ok": json.loads(meta["first_ok"])}
    return int(meta["epoch"]), record
