"""The Keras article's scripts (../shared/material/001_*) run with only their imports changed."""
import numpy as np
import pytest

from tests._fake_mnist import write_fake_mnist

# The article's MLP script; only the import lines differ from the tensorflow version.
MLP_SCRIPT = '''
import numpy as np
from zerodl.data import train_test_split            # was: from sklearn.model_selection import train_test_split
import zerodl.keras as tf                           # was: import tensorflow as tf
from zerodl.keras.datasets import mnist             # was: from tensorflow.keras.datasets import mnist
from zerodl import keras                            # was: from tensorflow import keras
from zerodl.keras.layers import Dense, Activation   # was: from tensorflow.keras.layers import ...
from zerodl.keras.models import Sequential          # was: from tensorflow.keras.models import Sequential
from zerodl.keras.utils import to_categorical       # was: from tensorflow.keras.utils import to_categorical

np.random.seed(0)
(X_train_base, labels_train_base), (X_test, labels_test) = mnist.load_data()
X_train,X_validation,labels_train,labels_validation = train_test_split(X_train_base,labels_train_base,test_size = 0.2)
X_train = X_train.reshape(-1,784)
X_validation = X_validation.reshape(-1,784)
X_test = X_test.reshape(-1,784)
X_train = X_train.astype('float32')
X_validation = X_validation.astype('float32')
X_test = X_test.astype('float32')
X_train /= 255
X_validation /= 255
X_test /= 255
y_train = to_categorical(labels_train)
y_validation = to_categorical(labels_validation)
y_test = to_categorical(labels_test)
n_features = 784
n_hidden = 100
bias_init = 0.1
rate = 0.01
model = Sequential()
model.add(Dense(n_hidden,activation='relu',input_shape=(n_features,)))
model.add(Dense(n_hidden,activation='relu'))
model.add(Dense(n_hidden,activation='relu'))
model.add(Dense(10,activation='softmax'))
model.compile(optimizer=tf.optimizers.Adam(rate),
loss='categorical_crossentropy', metrics=['mae', 'accuracy'])
log = model.fit(X_train, y_train, epochs=EPOCHS, batch_size=100, verbose=True,
callbacks=[keras.callbacks.EarlyStopping(monitor='val_loss',
min_delta=0, patience=10,
verbose=1)],
validation_data=(X_validation, y_validation))
pred_test = np.argmax(model.predict(X_test), axis=1)
accuracy = sum(pred_test == labels_test)/len(pred_test)
'''

CNN_SCRIPT = '''
import numpy as np
from zerodl.keras import layers, models             # was: from tensorflow.keras import layers, models
from zerodl.keras.datasets import mnist
from zerodl.keras.utils import to_categorical
(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((-1, 28, 28, 1)).astype('float32') / 255
test_images = test_images.reshape((-1, 28, 28, 1)).astype('float32') / 255
train_labels = to_categorical(train_labels)
model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
log = model.fit(train_images, train_labels, epochs=EPOCHS, batch_size=64, verbose=0)
probs = model.predict(test_images)
accuracy = float((probs.argmax(axis=1) == test_labels).mean())
'''


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    arrays = write_fake_mnist(str(folder))
    monkeypatch.setenv("ZERODL_DATA", str(folder))
    return arrays


def _run(script, epochs):
    import zerodl as zd

    zd.manual_seed(0)
    scope = {"EPOCHS": epochs}
    exec(compile(script, "<keras script>", "exec"), scope)
    return scope


def test_article_mlp_script_runs_and_learns(fake_mnist, capsys):
    scope = _run(MLP_SCRIPT, epochs=8)
    history = scope["log"].history
    for key in ("loss", "mae", "accuracy", "val_loss", "val_mae", "val_accuracy"):
        assert len(history[key]) == len(history["loss"]) >= 1, key
    assert history["loss"][-1] < history["loss"][0]
    probs = scope["model"].predict(scope["X_test"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)  # predict keeps the softmax
    assert scope["accuracy"] > 0.85
    assert "Epoch 1/8" in capsys.readouterr().out  # one log line per epoch when stdout is not a tty


def test_article_cnn_script_runs_channels_last(fake_mnist):
    scope = _run(CNN_SCRIPT, epochs=3)
    assert scope["probs"].shape == (397, 10)
    assert scope["accuracy"] > 0.6


def test_keras_evaluate_returns_loss_and_metrics_list(fake_mnist):
    from zerodl.keras import layers, models

    (x, t), _ = __import__("zerodl.keras.datasets.mnist", fromlist=["load_data"]).load_data()
    x = x.reshape(-1, 784).astype("float32")[:64] / 255
    model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(784,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, t[:64], epochs=1, verbose=0)
    loss, acc = model.evaluate(x, t[:64])
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0


def test_keras_layer_errors():
    from zerodl.keras import layers, models

    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(8, 3, padding="causal")
    model = models.Sequential([layers.Dense(4, input_shape=(3,))])
    with pytest.raises(ValueError, match="image layers must come first"):
        model.add(layers.Conv2D(8, 3))
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 3), np.float32), np.zeros(2, np.int64))
