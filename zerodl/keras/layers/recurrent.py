"""SimpleRNN, LSTM and GRU with Keras's weights, over zerodl's fused ops (``F.rnn/lstm/gru``).

Weights as Keras lays them (so ``set_weights`` takes a Keras model's ``get_weights()``):
SimpleRNN kernel (F, H), recurrent_kernel (H, H), bias (H,); LSTM the same with 4H columns in
the gate order i, f, c, o (zerodl's i, f, g, o); GRU (``reset_after=True``, Keras 3's default)
kernel (F, 3H) and recurrent_kernel (H, 3H) in the order z, r, h and bias (2, 3H) (input and
recurrent bias), handed to ``F.gru`` (order r, z, n) through a column permutation. Initialisers
as Keras: glorot_uniform kernels, orthogonal recurrent kernels, zero biases, and the LSTM's
forget-gate bias 1 (``unit_forget_bias=True``).
"""
import numpy as np

from ... import functions as F
from ...core import Tensor
from .base import Layer

__all__ = ["SimpleRNN", "LSTM", "GRU"]


class _RNN(Layer):
    gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        where = f"{type(self).__name__} {self.name}"
        if recurrent_dropout:
            raise ValueError(f"{where}: recurrent_dropout is not supported (dropout= on the inputs is)")
        if go_backwards or stateful:
            raise ValueError(f"{where}: go_backwards / stateful are not supported")
        if not 0 <= dropout < 1:
            raise ValueError(f"{where}: dropout must be in [0, 1), got {dropout!r}")
        self.units, self.activation, self.recurrent_activation = int(units), activation, recurrent_activation
        self.use_bias, self.dropout = use_bias, float(dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self._inits = (kernel_initializer, recurrent_initializer, bias_initializer)

    def _bias_shape(self):
        return (self.gates * self.units,)

    def build(self, input_shape):
        GH = self.gates * self.units
        self.add_weight("kernel", (input_shape[-1], GH), self._inits[0])
        self.add_weight("recurrent_kernel", (self.units, GH), self._inits[1])
        if self.use_bias:
            self.add_weight("bias", self._bias_shape(), self._inits[2])
            self._init_bias()

    def _init_bias(self):
        pass

    def call(self, x, training=None, initial_state=None):
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} {self.name}: expected (N, T, F) input, got shape {tuple(x.shape)}")
        train = self.training if training is None else training
        if self.dropout and train:  # one mask per sample and feature, the same at every step (Keras)
            ones = Tensor._wrap(np.ones((x.shape[0], 1, x.shape[2]), dtype=x.dtype))
            x = x * F.dropout(ones, p=self.dropout, training=True)
        N, H = x.shape[0], self.units
        zeros = np.zeros((N, H), dtype=x.dtype)
        states = list(initial_state) if initial_state is not None else None
        outs = self.step_op(x, states, zeros)
        hs, last = outs[0], outs[1]
        y = hs if self.return_sequences else last
        return [y] + list(outs[1:]) if self.return_state else y

    def _zero_bias(self):
        return Tensor._wrap(np.zeros(self._bias_shape(), dtype=self._dtype))


class SimpleRNN(_RNN):
    def step_op(self, x, states, zeros):
        h0 = states[0] if states else zeros
        b = self.bias if self.use_bias else self._zero_bias()
        return F.rnn(x, h0, self.kernel, self.recurrent_kernel, b, activation=self.activation)


class LSTM(_RNN):
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, return_sequences=False, name=None, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, return_sequences=return_sequences,
                         name=name, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _init_bias(self):
        if self.unit_forget_bias:
            self.bias.data[self.units:2 * self.units] = 1.0

    def step_op(self, x, states, zeros):
        h0, c0 = states if states else (zeros, zeros)
        b = self.bias if self.use_bias else self._zero_bias()
        return F.lstm(x, h0, c0, self.kernel, self.recurrent_kernel, b, self.activation, self.recurrent_activation)


class GRU(_RNN):
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, return_sequences=False, name=None, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, return_sequences=return_sequences,
                         name=name, **kwargs)
        if not reset_after:
            raise ValueError(f"GRU {self.name}: only reset_after=True (Keras 3's default) is supported")
        self.reset_after = True

    def _bias_shape(self):
        return (2, 3 * self.units)

    def step_op(self, x, states, zeros):
        H = self.units
        perm = np.r_[H:2 * H, 0:H, 2 * H:3 * H]  # Keras's z, r, h -> zerodl's r, z, n
        h0 = states[0] if states else zeros
        b = self.bias if self.use_bias else self._zero_bias()
        return F.gru(x, h0, self.kernel[:, perm], self.recurrent_kernel[:, perm], b[0][perm], b[1][perm],
                     self.activation, self.recurrent_activation)
