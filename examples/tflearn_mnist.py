"""tflearn's classic MNIST examples (examples/images/dnn.py and convnet_mnist.py of tflearn),
run on zerodl.tflearn with only the imports changed.

Each block between ``----`` rules is tflearn's example with ``import tflearn`` /
``from tflearn...`` turned into ``zerodl.tflearn``; around it: ``--model dnn|convnet``,
``--epochs`` (tflearn's examples: 20), ``--quick`` (a slice of the stand-in digits, one
epoch), ``--data-dir`` (MNIST IDX files; ``mnist.load_data`` reads ``$ZERODL_DATA``), and a
figure of the training loss per epoch.

    python examples/tflearn_mnist.py [--model dnn|convnet] [--epochs N] [--data-dir DIR] [--quick]
"""
import os

import numpy as np

import zerodl as zd

import _common as C


def dnn(epochs, data):
    # ---------------------------------------------------------------- tflearn's dnn.py
    import zerodl.tflearn as tflearn                        # was: import tflearn

    X, Y, testX, testY = data                               # was: mnist.load_data(one_hot=True)
    input_layer = tflearn.input_data(shape=[None, 784])
    dense1 = tflearn.fully_connected(input_layer, 64, activation='tanh', regularizer='L2', weight_decay=0.001)
    dropout1 = tflearn.dropout(dense1, 0.8)
    dense2 = tflearn.fully_connected(dropout1, 64, activation='tanh', regularizer='L2', weight_decay=0.001)
    dropout2 = tflearn.dropout(dense2, 0.8)
    softmax = tflearn.fully_connected(dropout2, 10, activation='softmax')
    sgd = tflearn.SGD(learning_rate=0.1, lr_decay=0.96, decay_step=1000)
    top_k = tflearn.metrics.Top_k(3)
    net = tflearn.regression(softmax, optimizer=sgd, metric=top_k, loss='categorical_crossentropy')
    model = tflearn.DNN(net, tensorboard_verbose=0)
    log = model.fit(X, Y, n_epoch=epochs, validation_set=(testX, testY), show_metric=True, run_id="dense_model")
    # ---------------------------------------------------------------- end of tflearn's example
    acc = float(np.mean(model.predict(testX).argmax(1) == testY.argmax(1)))
    return model, log, acc


def convnet(epochs, data):
    # ---------------------------------------------------------------- tflearn's convnet_mnist.py
    import zerodl.tflearn as tflearn                                             # was: import tflearn
    from zerodl.tflearn.layers.conv import conv_2d, max_pool_2d                  # was: from tflearn.layers.conv ...
    from zerodl.tflearn.layers.core import dropout, fully_connected, input_data  # was: from tflearn.layers.core ...
    from zerodl.tflearn.layers.estimator import regression                       # was: from tflearn.layers.estimator ...
    from zerodl.tflearn.layers.normalization import local_response_normalization  # was: from tflearn.layers...

    X, Y, testX, testY = data                               # was: mnist.load_data(one_hot=True)
    X = X.reshape([-1, 28, 28, 1])
    testX = testX.reshape([-1, 28, 28, 1])
    network = input_data(shape=[None, 28, 28, 1], name='input')
    network = conv_2d(network, 32, 3, activation='relu', regularizer="L2")
    network = max_pool_2d(network, 2)
    network = local_response_normalization(network)
    network = conv_2d(network, 64, 3, activation='relu', regularizer="L2")
    network = max_pool_2d(network, 2)
    network = local_response_normalization(network)
    network = fully_connected(network, 128, activation='tanh')
    network = dropout(network, 0.8)
    network = fully_connected(network, 256, activation='tanh')
    network = dropout(network, 0.8)
    network = fully_connected(network, 10, activation='softmax')
    network = regression(network, optimizer='adam', learning_rate=0.01,
                         loss='categorical_crossentropy', name='target')
    model = tflearn.DNN(network, tensorboard_verbose=0)
    log = model.fit({'input': X}, {'target': Y}, n_epoch=epochs,
                    validation_set=({'input': testX}, {'target': testY}),
                    snapshot_step=100, show_metric=True, run_id='convnet_mnist')
    # ---------------------------------------------------------------- end of tflearn's example
    acc = float(np.mean(model.predict(testX).argmax(1) == testY.argmax(1)))
    return model, log, acc


def main(argv=None):
    def extra(p):
        p.add_argument("--model", choices=("dnn", "convnet"), default="dnn")
    args = C.parse_args(__doc__, __file__, argv, extra=extra, epochs="epochs (default 20 as tflearn's; --quick 1)")
    zd.manual_seed(args.seed)
    if args.data_dir:
        os.environ["ZERODL_DATA"] = str(args.data_dir)
    (x, t), (xt, tt) = C.load_mnist(args, n_train=600 if args.quick else None, n_test=200 if args.quick else None)
    import zerodl.tflearn as tflearn
    data = (x, tflearn.data_utils.to_categorical(t, 10), xt, tflearn.data_utils.to_categorical(tt, 10))
    epochs = args.epochs or (1 if args.quick else 20)
    model, log, acc = (dnn if args.model == "dnn" else convnet)(epochs, data)
    C.result(f"tflearn_{args.model}_test_accuracy", acc)
    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(log.history["loss"]) + 1), log.history["loss"], "o-", label="training loss")
    ax.plot(range(1, len(log.history["val_loss"]) + 1), log.history["val_loss"], "s-", label="test loss")
    C.decorate(ax, "epoch", "loss", f"tflearn {args.model} on zerodl.tflearn: test accuracy {acc:.4f}")
    C.save_figure(fig, args, f"loss_{args.model}.png")


if __name__ == "__main__":
    main()
