"""The Keras article's MNIST MLP (material 001), run through ``zerodl.keras``.

The block between the two ``----`` rules is the article's script; only its import lines
differ from the tensorflow version (each says what it replaces), and its last two lines use
``X_test`` / ``labels_test`` where the article has the undefined ``test_x`` / ``test_y``.
Dense(100, relu) x3 + Dense(10, softmax), Adam(0.01), categorical cross entropy, metrics
['mae', 'accuracy'], batch 100, up to 3000 epochs with EarlyStopping(val_loss, patience=10)
on an 80/20 split of the training set. The article reports 96.96% test accuracy.

Around it: the options (``--data-dir`` sets ``$ZERODL_DATA``, which ``mnist.load_data()``
reads; ``--quick`` runs 3 epochs on a slice, on a stand-in data set when no MNIST files are
at hand) and a learning-curve figure (``learning_curve.png``, ``zerodl.utils.plots``).

    python examples/keras_mlp.py [--data-dir DIR] [--quick] [--out DIR] [--epochs N]
"""
import time

import _common as C


def main(argv=None):
    args = C.parse_args(__doc__, __file__, argv,
                        epochs="maximum epochs (default 3000 as the article, early stopping ends it; --quick 3)")
    EPOCHS = args.epochs or (3 if args.quick else 3000)
    stand_in = C.keras_setup(args)  # --data-dir, zerodl's seed; True: --quick without MNIST files

    # ---------------------------------------------------------------- the article's script
    import numpy as np
    from zerodl.data import train_test_split            # was: from sklearn.model_selection import train_test_split
    import zerodl.keras as tf                           # was: import tensorflow as tf
    from zerodl.keras.datasets import mnist             # was: from tensorflow.keras.datasets import mnist
    from zerodl import keras                            # was: from tensorflow import keras
    from zerodl.keras.layers import Dense, Activation   # noqa: F401  was: from tensorflow.keras.layers import Dense, Activation
    from zerodl.keras.models import Sequential          # was: from tensorflow.keras.models import Sequential
    from zerodl.keras.utils import to_categorical       # was: from tensorflow.keras.utils import to_categorical

    # Kerasに付属の手書き数字画像データをダウンロード
    np.random.seed(0)
    if not stand_in:
        (X_train_base, labels_train_base), (X_test, labels_test) = mnist.load_data()
    else:  # (not in the article) --quick without MNIST files: the 28x28 stand-in
        (X_train_base, labels_train_base), (X_test, labels_test) = C.digits_28x28()
    if args.quick:  # (not in the article) a small slice
        X_train_base, labels_train_base = X_train_base[:2000], labels_train_base[:2000]
        X_test, labels_test = X_test[:500], labels_test[:500]
    # Training set を学習データ(X_train, labels_train)と検証データ(X_validation, labels_validation)に8:2で分割する
    X_train,X_validation,labels_train,labels_validation = train_test_split(X_train_base,labels_train_base,test_size = 0.2)

    # 各画像は行列なので1次元に変換→X_train,X_validation,X_testを上書き
    X_train = X_train.reshape(-1,784)
    X_validation = X_validation.reshape(-1,784)
    X_test = X_test.reshape(-1,784)
    #正規化
    X_train = X_train.astype('float32')
    X_validation = X_validation.astype('float32')
    X_test = X_test.astype('float32')
    X_train /= 255
    X_validation /= 255
    X_test /= 255

    # labels_train, labels_validation, labels_test をダミー変数化して y_train, y_validation, y_test に格納する
    y_train = to_categorical(labels_train)
    y_validation = to_categorical(labels_validation)
    y_test = to_categorical(labels_test)  # noqa: F841

    # パラメータの設定
    n_features = 784
    n_hidden = 100
    bias_init = 0.1  # noqa: F841
    # 学習率
    rate = 0.01
    # Sequentialクラスを使ってモデルを準備する
    model = Sequential()
    # 隠れ層を追加
    model.add(Dense(n_hidden,activation='relu',input_shape=(n_features,)))
    model.add(Dense(n_hidden,activation='relu'))
    model.add(Dense(n_hidden,activation='relu'))
    # 出力層を追加
    model.add(Dense(10,activation='softmax'))

    # TensorFlowのモデルを構築
    model.compile(optimizer=tf.optimizers.Adam(rate),
    loss='categorical_crossentropy', metrics=['mae', 'accuracy'])
    # Early stoppingを適用してフィッティング
    t0 = time.perf_counter()
    log = model.fit(X_train, y_train, epochs=EPOCHS, batch_size=100, verbose=True,
    callbacks=[keras.callbacks.EarlyStopping(monitor='val_loss',
    min_delta=0, patience=10,
    verbose=1)],
    validation_data=(X_validation, y_validation))
    seconds = time.perf_counter() - t0

    # テストデータの出力から0~9のどの値か判断
    pred_test = np.argmax(model.predict(X_test), axis=1)
    accuracy = sum(pred_test == labels_test)/len(pred_test)
    # ---------------------------------------------------------------- end of the article's script

    C.keras_report(args, log, seconds, accuracy, stand_in, (len(X_train), len(X_validation), len(X_test)),
                   "Keras MLP", best_epoch=True, per_epoch_fmt="{:.2f}")


if __name__ == "__main__":
    main()
