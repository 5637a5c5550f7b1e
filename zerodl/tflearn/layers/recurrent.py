"""tflearn.layers.recurrent: lstm, gru, simple_rnn with tflearn's defaults: activation tanh
(simple_rnn: sigmoid), inner_activation sigmoid, glorot_uniform weights (TF's default for
tflearn's cells), zero bias, LSTM forget bias 1.0 (tflearn adds it to the forget gate; here it
starts the trainable forget bias at that value). ``dropout``: keep probabilities (input, or
(input, output)) as tflearn's.
"""
from ...keras import layers
from .. import initializations

__all__ = ["lstm", "gru", "simple_rnn"]


def _rnn(cls, incoming, n_units, activation, inner_activation, dropout, bias, weights_init, return_seq, **extra):
    keep = dropout if isinstance(dropout, (tuple, list)) else (dropout, None)
    rate = 0.0 if keep[0] is None else 1.0 - float(keep[0])
    kwargs = {"recurrent_activation": inner_activation} if inner_activation is not None else {}
    layer = cls(n_units, activation=activation, use_bias=bias, dropout=rate, return_sequences=return_seq,
                kernel_initializer=initializations.get(weights_init, "xavier"),
                recurrent_initializer=initializations.get(weights_init, "xavier"),
                **kwargs, **extra)
    out = layer(incoming)
    if keep[1] is not None:  # tflearn's output keep probability
        out = layers.Dropout(1.0 - float(keep[1]))(out)
    return out


def lstm(incoming, n_units, activation="tanh", inner_activation="sigmoid", dropout=None, bias=True,
         weights_init=None, forget_bias=1.0, return_seq=False, return_state=False, initial_state=None,
         dynamic=False, trainable=True, restore=True, reuse=False, scope=None, name="LSTM"):
    out = _rnn(layers.LSTM, incoming, n_units, activation, inner_activation, dropout, bias, weights_init,
               return_seq, unit_forget_bias=False)
    layer = out.node.layer if isinstance(out.node.layer, layers.LSTM) else out.node.inputs[0].node.layer
    if bias:
        layer.bias.data[n_units:2 * n_units] = float(forget_bias)  # tflearn adds forget_bias to the f gate
    return out


def gru(incoming, n_units, activation="tanh", inner_activation="sigmoid", dropout=None, bias=True,
        weights_init=None, return_seq=False, return_state=False, initial_state=None, dynamic=False,
        trainable=True, restore=True, reuse=False, scope=None, name="GRU"):
    return _rnn(layers.GRU, incoming, n_units, activation, inner_activation, dropout, bias, weights_init, return_seq)


def simple_rnn(incoming, n_units, activation="sigmoid", dropout=None, bias=True, weights_init=None,
               return_seq=False, return_state=False, initial_state=None, dynamic=False, trainable=True,
               restore=True, reuse=False, scope=None, name="SimpleRNN"):
    return _rnn(layers.SimpleRNN, incoming, n_units, activation, None, dropout, bias, weights_init, return_seq)


