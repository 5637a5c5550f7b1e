"""The Keras article's MNIST CNN (material 001), run through ``zerodl.keras``.

The article gives the layers (below, verbatim) and says the rest of the flow is the MLP's
("基本的に実装フローは変わらない"): the same 80/20 split with a validation set, inputs scaled
to [0, 1] but kept as 28x28x1 images (channels-last, as Keras), one-hot labels, Adam
(``optimizer='adam'``, Keras's default lr 1e-3), categorical cross entropy, EarlyStopping on
val_loss. The article's layers come from the TensorFlow CNN tutorial, whose ``fit`` this
follows: 10 epochs (``--epochs``), Keras's default batch size (32: ``fit`` is called without
``batch_size``); the target is >= 99% test accuracy.
Only the import lines differ from the tensorflow version.

Around it: the options (``--data-dir`` sets ``$ZERODL_DATA``, read by ``mnist.load_data()``;
``--quick``: 2 epochs on a slice, on a stand-in data set when no MNIST files are at hand) and a
learning-curve figure (``learning_curve.png``).

    python examples/keras_cnn.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import time

import _common as C


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv, epochs="epochs (default 10; --quick 2)")
    EPOCHS = args.epochs or (2 if args.quick else 10)
    stand_in = C.keras_setup(args)  # --data-dir, zerodl's seed; True: --quick without MNIST files

    # ---------------------------------------------------------------- the article's script
    import numpy as np
    from zerodl.data import train_test_split            # was: from sklearn.model_selection import train_test_split
    from zerodl import keras                            # was: from tensorflow import keras
    from zerodl.keras import layers, models             # was: from tensorflow.keras import layers, models
    from zerodl.keras.datasets import mnist             # was: from tensorflow.keras.datasets import mnist
    from zerodl.keras.utils import to_categorical       # was: from tensorflow.keras.utils import to_categorical

    np.random.seed(0)
    if not stand_in:
        (X_train_base, labels_train_base), (X_test, labels_test) = mnist.load_data()
    else:  # (not in the article) --quick without MNIST files: the 28x28 stand-in
        (X_train_base, labels_train_base), (X_test, labels_test) = C.digits_28x28()
    if args.quick:  # (not in the article) a small slice
        X_train_base, labels_train_base = X_train_base[:1500], labels_train_base[:1500]
        X_test, labels_test = X_test[:300], labels_test[:300]
    X_train,X_validation,labels_train,labels_validation = train_test_split(X_train_base,labels_train_base,test_size = 0.2)

    # 畳み込み層には 28x28x1 の画像のまま入力する
    X_train = X_train.reshape(-1,28,28,1).astype('float32') / 255
    X_validation = X_validation.reshape(-1,28,28,1).astype('float32') / 255
    X_test = X_test.reshape(-1,28,28,1).astype('float32') / 255
    y_train = to_categorical(labels_train)
    y_validation = to_categorical(labels_validation)

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
    t0 = time.perf_counter()
    log = model.fit(X_train, y_train, epochs=EPOCHS, verbose=True,
                    callbacks=[keras.callbacks.EarlyStopping(monitor='val_loss', min_delta=0,
                                                             patience=10, verbose=1)],
                    validation_data=(X_validation, y_validation))
    seconds = time.perf_counter() - t0

    pred_test = np.argmax(model.predict(X_test), axis=1)
    accuracy = sum(pred_test == labels_test)/len(pred_test)
    # ---------------------------------------------------------------- end of the article's script

    C.keras_report(args, log, seconds, accuracy, stand_in,
                   (len(X_train), len(X_validation), len(X_test)), "Keras CNN")


if __name__ == "__main__":
    main()
