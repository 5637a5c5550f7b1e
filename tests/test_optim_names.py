"""The one optimizer-name table (zerodl.optim.names) that compile, the CLI and the Keras facade share."""
import inspect

import numpy as np
import pytest

import zerodl.nn as nn
from zerodl import optim
from zerodl.optim import names

# PyTorch 2.x's documented defaults for the classes of the zerodl names (torch.optim signatures)
TORCH_DEFAULTS = {
    "sgd": {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0, "nesterov": False},
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False},
    "adagrad": {"lr": 1e-2, "lr_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10},
}


def _defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not p.empty}


@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_zerodl_names_have_pytorchs_defaults(name):
    got = _defaults(names.OPTIMIZERS[name].__init__)
    for k, v in TORCH_DEFAULTS[name].items():
        assert got[k] == v, (name, k)


def test_the_peer_agrees_with_the_torch_defaults_written_here():
    torch = pytest.importorskip("torch")
    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
               "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}
    for name, cls in classes.items():
        got = _defaults(cls.__init__)
        for k, v in TORCH_DEFAULTS[name].items():
            assert got[k] == v, (name, k)


def test_compile_and_the_cli_use_the_table():
    from zerodl.cli import commands
    from zerodl.train import api

    assert api.OPTIMIZERS is names.OPTIMIZERS and commands.OPTIMIZERS is names.OPTIMIZERS
    model = nn.Sequential(nn.Linear(3, 2))
    model.compile(optimizer="SGD", loss="mse")
    model.fit(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), epochs=1, verbose=0)
    assert type(model.optimizer) is optim.SGD and model.optimizer.lr == 1e-3  # PyTorch's, not Keras's 0.01
    with pytest.raises(ValueError, match="compile: unknown optimizer 'nadam'; choose one of sgd, momentum"):
        model.compile(optimizer="nadam")


def test_cli_sgd_takes_the_table_default_and_lr_overrides(tmp_path):
    from zerodl.cli import main

    assert main(["train", "--dataset", "spiral", "--epochs", "1", "--optimizer", "sgd", "--lr", "0.05",
                 "--out", str(tmp_path)]) == 0


@pytest.mark.parametrize("name", sorted(names.KERAS_DEFAULTS))
def test_keras_facade_classes_have_the_tables_keras_defaults(name):
    from zerodl.keras import optimizers as kopt

    cls = kopt.NAMES.get(name)
    if cls is None:
        pytest.skip(f"zerodl.keras.optimizers has no {name!r} yet")
    got = _defaults(cls.__init__)
    for k, v in names.KERAS_DEFAULTS[name].items():
        if k in got:
            assert got[k] == v, (name, k)
    assert got["learning_rate"] == names.KERAS_DEFAULTS[name]["learning_rate"]


def test_keras_get_refuses_unknown_names_through_the_table():
    from zerodl.keras import optimizers as kopt

    with pytest.raises(ValueError, match="unknown optimizer 'momentum'"):
        kopt.get("momentum")  # a zerodl name, not a Keras one
    assert kopt.get("sgd").learning_rate == 0.01
