"""``zerodl evaluate`` / ``zerodl predict`` on files saved by the Keras facade (``model.save``):
the test set and new inputs are fed as the Keras model expects (its own input shape,
channels-last, float32 in [0, 1]), with nothing imported by the user."""
import numpy as np
import pytest

import zerodl.keras as keras
from zerodl import cli
from zerodl.core import manual_seed
from zerodl.keras import layers
from tests._fake_mnist import write_fake_mnist

N_TRAIN, N_TEST = 300, 120


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fake_mnist")
    arrays = write_fake_mnist(str(folder), N_TRAIN, N_TEST)
    return folder, arrays


def _conv_model():  # channels-last images, softmax output (as the keras-io MNIST convnet)
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ]), "sparse_categorical_crossentropy", (28, 28, 1)


def _flat_model():  # flat (784,) input, logits output
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(32, activation="relu"), layers.Dense(10)]), \
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), (784,)


@pytest.fixture(scope="module", params=["conv", "flat"])
def saved(request, mnist_dir, tmp_path_factory):
    folder, (x_train, t_train, x_test, t_test) = mnist_dir
    manual_seed(0)
    model, loss, shape = _conv_model() if request.param == "conv" else _flat_model()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    scale = lambda x: (x.astype("float32") / 255).reshape((len(x),) + shape)  # noqa: E731
    model.fit(scale(x_train), t_train, epochs=1, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("keras_model") / "m.keras"
    model.save(path)
    return path, model, scale(x_test), t_test


def test_evaluate_equals_the_models_own_evaluate(saved, mnist_dir, capsys):
    path, model, x_test, t_test = saved
    folder, _ = mnist_dir
    assert cli.main(["evaluate", str(path), "--dataset", "mnist", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    own = model.evaluate(x_test, t_test, verbose=0, return_dict=True)
    right, n = (int(v) for v in out.split("(")[-1].rstrip(")\n").split("/"))
    assert n == N_TEST
    assert abs(right / n - own["accuracy"]) < 1e-6, out
    assert f"accuracy {own['accuracy']:.4f}" in out
    if "not compiled" not in out:
        assert f"loss {own['loss']:.4f}" in out


def test_predict_png_and_npy_give_the_models_class(saved, tmp_path, capsys):
    from PIL import Image

    path, model, x_test, _ = saved
    image = np.clip(x_test[:3].reshape(3, 28, 28) * 255, 0, 255).round().astype(np.uint8)
    pngs = []
    for i, im in enumerate(image):
        pngs.append(tmp_path / f"d{i}.png")
        Image.fromarray(im, mode="L").save(pngs[-1])
    npy = tmp_path / "x.npy"
    np.save(npy, image.astype(np.float32) / 255)  # the model's own units
    assert cli.main(["predict", str(path), *map(str, pngs)]) == 0
    from_png = [int(line.split(": ")[1].split()[0]) for line in capsys.readouterr().out.splitlines()]
    assert cli.main(["predict", str(path), str(npy)]) == 0
    from_npy = [int(line.split(": ")[1].split()[0]) for line in capsys.readouterr().out.splitlines()]
    x = (image.astype(np.float32) / 255).reshape(x_test[:3].shape)
    expected = model.predict(x, verbose=0).argmax(axis=1).tolist()
    assert from_png == expected and from_npy == expected


def test_scale_option_sets_the_image_units(saved, tmp_path, capsys):
    from PIL import Image

    path, model, x_test, _ = saved
    raw = np.clip(x_test[:4].reshape(4, 28, 28) * 255, 0, 255).round().astype(np.uint8)
    pngs = [tmp_path / f"r{i}.png" for i in range(4)]
    for p, im in zip(pngs, raw):
        Image.fromarray(im, mode="L").save(p)
    # --scale 1: the model gets the 0..255 pixels themselves (a script that never divides)
    assert cli.main(["predict", str(path), "--scale", "1", *map(str, pngs)]) == 0
    got = [int(line.split(": ")[1].split()[0]) for line in capsys.readouterr().out.splitlines()]
    probs = model.predict(raw.reshape(x_test[:4].shape).astype(np.float32), verbose=0)
    assert got == probs.argmax(1).tolist()
    assert cli.main(["evaluate", str(path), "--dataset", "mnist", "--scale", "0"]) == 2
    assert "--scale must be a positive number" in capsys.readouterr().err


def test_missing_dataset_is_one_line_exit_2(saved, capsys):
    path = saved[0]
    assert cli.main(["evaluate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("zerodl: error:") and "pass --dataset" in err


def test_summary_still_opens_a_keras_file(saved, capsys):
    assert cli.main(["summary", str(saved[0])]) == 0
    assert "Dense" in capsys.readouterr().out


def test_dataset_overrides_a_cli_files_own_and_scale_is_refused_there(mnist_dir, tmp_path, capsys):
    import json

    from zerodl import nn
    from zerodl.cli import presets

    folder, _ = mnist_dir
    facts = {"dataset": "digits", "model": "mlp", "input_shape": [784], "pixel_max": 255.0, "classes": 10}
    path = tmp_path / "cli.safetensors"
    nn.save_model(presets.build_model("mlp", (784,), 10), str(path), **{"zerodl.cli": json.dumps(facts)})
    assert cli.main(["evaluate", str(path), "--dataset", "mnist", "--data-dir", str(folder)]) == 0
    assert capsys.readouterr().out.startswith(f"mnist test set ({N_TEST} samples)")
    assert cli.main(["evaluate", str(path), "--dataset", "mnist", "--data-dir", str(folder), "--scale", "1"]) == 2
    assert "--scale is for Keras model files" in capsys.readouterr().err
