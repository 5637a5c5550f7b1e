"""Recurrent layers: ``RNN`` (tanh), ``LSTM`` and ``GRU``, each over a whole (N, T, F) sequence.

Input is (N, T, F), or (T, N, F) with ``batch_first=False``. ``activation=`` and
``recurrent_activation=`` choose the cell's functions as Keras's do.

Every layer of the stack is one fused op (``F.rnn`` / ``F.lstm`` / ``F.gru``: one GEMM for the
inputs of all time steps, a loop over T only for the recurrence, backpropagation through time
in closed form). See ``zerodl/functions/recurrent.py`` for the equations.

Truncated backpropagation through time (the PTB language-model recipe)::

    lstm = nn.LSTM(100, 100, return_sequences=True)
    state = None
    for x, t in batches:                 # consecutive chunks of the same streams
        hs = lstm(x, state)              # starts from the previous chunk's last state
        loss = F.softmax_cross_entropy(fc(hs.reshape(-1, 100)), t.reshape(-1))
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        lstm.detach_state()              # cut the graph: the next backward stops here
        state = lstm.state
"""
import math

import numpy as np

from .. import functions as F
from ..functions._recurrent_util import ACTIVATIONS
from ..core.backend import get_array_module
from . import init
from .module import Module, _as_input, _positive_int, _shape_str
from .parameter import Parameter

__all__ = ["RNN", "LSTM", "GRU"]


def _act_name(name, layer, what):
    if name not in ACTIVATIONS:
        raise ValueError(f"{layer}: unknown {what} {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name


class _Recurrent(Module):
    """Shared machinery of RNN, LSTM and GRU (stacking, state, lazy input size, checks)."""

    n_gates = 1  # gate blocks along the G*H axis of Wx, Wh, b
    has_cell = False  # LSTM: the state is (h, c)
    bias_names = ("b",)  # GRU has two biases

    def __init__(self, input_size, hidden_size=None, num_layers=1, dropout=0.0, return_sequences=False,
                 batch_first=True, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__()
        name = type(self).__name__
        self.activation = _act_name(activation, name, "activation")
        self.recurrent_activation = _act_name(recurrent_activation, name, "recurrent_activation")
        if self.n_gates == 1 and self.recurrent_activation != "sigmoid":
            raise ValueError(f"{name}: has no gates, so recurrent_activation does not apply "
                             f"(got {recurrent_activation!r}); use activation=")
        self.batch_first = bool(batch_first)
        if hidden_size is None:  # RNN(hidden_size): input size inferred at the first call
            input_size, hidden_size = None, input_size
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.input_size = None if input_size is None else _positive_int(input_size, "input_size", name)
        self.num_layers = _positive_int(num_layers, "num_layers", name)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        self.return_sequences = bool(return_sequences)
        self.state = None
        # Reserve every parameter's name and place, so named_parameters() keeps layer order
        # even when the input size is only known at the first call.
        for layer in range(self.num_layers):
            for p in self._param_names(layer):
                self.register_parameter(p, None)
        if self.input_size is not None:
            self._build(self.input_size, np)

    def _param_names(self, layer):
        return (f"Wx_{layer}", f"Wh_{layer}") + tuple(f"{b}_{layer}" for b in self.bias_names)

    def _build(self, input_size, xp):
        """Create the parameters: everything U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
        self.input_size = input_size
        H, GH, dtype = self.hidden_size, self.n_gates * self.hidden_size, self._dtype
        bound = 1.0 / math.sqrt(H)
        for layer in range(self.num_layers):
            fan_in = input_size if layer == 0 else H
            shapes = [(fan_in, GH), (H, GH)] + [(GH,)] * len(self.bias_names)
            for name, shape in zip(self._param_names(layer), shapes):
                w = init.uniform_(np.empty(shape, dtype=dtype), -bound, bound)
                setattr(self, name, Parameter(xp.asarray(w), dtype=dtype))

    def _build_from_state(self, state, prefix):
        if self.input_size is None and prefix + "Wx_0" in state:
            self._build(int(np.shape(state[prefix + "Wx_0"])[0]), np)

    def _tag(self):
        inp = self.input_size if self.input_size is not None else "?"
        layers = f", num_layers={self.num_layers}" if self.num_layers > 1 else ""
        return f"{type(self).__name__}({inp} -> {self.hidden_size}{layers})"

    # ----- state ---------------------------------------------------------------------------
    def _initial_states(self, state, N, xp, dtype):
        """Per-layer initial states: lists of L arrays/tensors (N, H) (h, and c for LSTM)."""
        L, H = self.num_layers, self.hidden_size
        parts = ("h0", "c0") if self.has_cell else ("h0",)
        if state is None:
            zeros = xp.zeros((N, H), dtype=dtype)
            return [[zeros] * L for _ in parts]
        if self.has_cell:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(
                    f"{self._tag()}: state must be a pair (h0, c0), each of shape (num_layers, N, H) = "
                    f"({L}, {N}, {H}), got {type(state).__name__}"
                )
            states = list(state)
        else:
            if isinstance(state, (tuple, list)):
                raise ValueError(
                    f"{self._tag()}: state must be one array h0 of shape (num_layers, N, H) = ({L}, {N}, {H}), "
                    f"got a {type(state).__name__} of {len(state)}"
                )
            states = [state]
        out = []
        for name, s in zip(parts, states):
            s = _as_input(s)
            shape = tuple(s.shape)
            if shape == (N, H) and L == 1:  # one layer: (N, H) is accepted too
                out.append([s])
                continue
            if shape != (L, N, H):
                raise ValueError(
                    f"{self._tag()}: state {name} must have shape (num_layers, N, H) = ({L}, {N}, {H}) "
                    f"for input with N={N}, got {_shape_str(shape)}"
                )
            out.append([s[layer] for layer in range(L)])
        return out

    def detach_state(self):
        """Cut ``.state`` from the graph (truncated BPTT): a later backward stops here.

        ``.state`` is replaced by tensors with the same arrays and no history; the tensors the
        last call returned are not changed. Returns the detached state.
        """
        s = self.state
        if isinstance(s, tuple):
            self.state = tuple(t.detach() for t in s)
        elif s is not None:
            self.state = s.detach()
        return self.state

    def reset_state(self):
        """Forget ``.state`` (set it to None)."""
        self.state = None

    # ----- forward -----------------------------------------------------------------------------
    def _op(self, x, layer, states):
        raise NotImplementedError

    def forward(self, x, state=None):
        """x (N, T, F) ((T, N, F) with ``batch_first=False``); state None (zeros), h0
        (num_layers, N, H) or for LSTM (h0, c0).

        Returns (N, T, H) ((T, N, H) when not batch first) with ``return_sequences`` else
        (N, H), the last step's hidden state of the top layer.  ``.state`` then holds the last
        state of every layer, as (num_layers, N, H) (LSTM: a pair (h, c)), still attached to
        the graph.
        """
        x = _as_input(x)
        if x.ndim != 3:
            layout = "(N, T, F)" if self.batch_first else "(T, N, F) (batch_first=False)"
            raise ValueError(f"{self._tag()}: expected input of shape {layout}, got shape {_shape_str(x.shape)}")
        if not self.batch_first:
            x = x.transpose(1, 0, 2)
        if self.input_size is None:
            self._build(int(x.shape[-1]), get_array_module(x))
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._tag()}: expected input with {self.input_size} features (N, T, {self.input_size}), "
                f"got shape {_shape_str(x.shape)}"
            )
        if x.shape[1] == 0:
            raise ValueError(f"{self._tag()}: the sequence is empty (input of shape {_shape_str(x.shape)})")
        W = self.Wx_0.data
        states = self._initial_states(state, x.shape[0], get_array_module(W), W.dtype)
        finals = [[] for _ in states]
        h = x
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                h = F.dropout(h, p=self.dropout, training=True)
            outs = self._op(h, layer, [s[layer] for s in states])
            h = outs[0]
            for kept, s in zip(finals, outs[1:]):
                kept.append(s)
        final = [F.stack(s, axis=0) for s in finals]
        self.state = tuple(final) if self.has_cell else final[0]
        if not self.return_sequences:
            return finals[0][-1]
        return h if self.batch_first else h.transpose(1, 0, 2)

    # ----- description -----------------------------------------------------------------------
    def get_config(self):
        config = {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "return_sequences": self.return_sequences,
        }
        # 0.2's arguments only when they differ from the default, so older files read the same
        for key, default in (("batch_first", True), ("activation", "tanh"), ("recurrent_activation", "sigmoid")):
            if getattr(self, key) != default:
                config[key] = getattr(self, key)
        return config

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.return_sequences:
            s += ", return_sequences=True"
        if not self.batch_first:
            s += ", batch_first=False"
        if self.activation != "tanh":
            s += f", activation={self.activation!r}"
        if self.recurrent_activation != "sigmoid":
            s += f", recurrent_activation={self.recurrent_activation!r}"
        return s


class RNN(_Recurrent):
    """Elman RNN with tanh: ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``, stacked ``num_layers`` deep.

    ``RNN(input_size, hidden_size, num_layers=1, dropout=0.0, return_sequences=False,
    batch_first=True, activation="tanh")``, or ``RNN(hidden_size)`` to infer ``input_size`` at
    the first call. ``activation``: "tanh", "relu", "sigmoid", "hard_sigmoid" or "linear"
    (an RNN has no gates: ``recurrent_activation`` must stay "sigmoid").

    Shapes: input (N, T, F); output (N, T, H) with ``return_sequences``, else (N, H) (the last
    step of the top layer). ``forward(x, state=None)``: state h0 of shape (num_layers, N, H)
    ((N, H) is accepted for one layer), or None for zeros; after the call ``.state`` holds
    h_T of every layer, (num_layers, N, H), attached to the graph until ``detach_state()``.

    Parameters of layer l: ``Wx_l`` (F_l, H) (F_0 = input_size, F_l = H above), ``Wh_l`` (H, H),
    ``b_l`` (H,); all U(-1/sqrt(H), 1/sqrt(H)) as PyTorch. ``dropout`` applies between layers,
    in training only.
    """

    def _op(self, x, layer, states):
        p = self._parameters
        return F.rnn(x, states[0], p[f"Wx_{layer}"], p[f"Wh_{layer}"], p[f"b_{layer}"], activation=self.activation)


class LSTM(_Recurrent):
    """LSTM, gates in the order (i, f, g, o) (PyTorch's and Keras's), stacked ``num_layers`` deep.

    ``i, f, o = sigmoid(...)``, ``g = tanh(...)`` of ``x_t @ Wx + h_{t-1} @ Wh + b``;
    ``c_t = f * c_{t-1} + i * g``; ``h_t = o * tanh(c_t)``.

    ``LSTM(input_size, hidden_size, num_layers=1, dropout=0.0, return_sequences=False,
    batch_first=True, activation="tanh", recurrent_activation="sigmoid")``, or
    ``LSTM(hidden_size)`` to infer ``input_size`` at the first call. As Keras's,
    ``activation`` replaces the tanh of g and of the cell output, ``recurrent_activation``
    the sigmoid of i, f, o ("tanh", "relu", "sigmoid", "hard_sigmoid", "linear").

    Shapes: input (N, T, F); output (N, T, H) with ``return_sequences``, else (N, H).
    ``forward(x, state=None)``: state ``(h0, c0)``, each (num_layers, N, H) (PyTorch's layout;
    (N, H) is accepted for one layer), or None for zeros. After the call ``.state`` is
    ``(h_T, c_T)``, each (num_layers, N, H), attached to the graph until ``detach_state()``.

    Parameters of layer l: ``Wx_l`` (F_l, 4H), ``Wh_l`` (H, 4H), ``b_l`` (4H,), gate blocks
    i, f, g, o along the last axis; all U(-1/sqrt(H), 1/sqrt(H)) as PyTorch (one bias, where
    PyTorch has b_ih + b_hh; no forget-gate offset: set ``lstm.b_0.data[H:2*H] = 1`` for
    Keras's ``unit_forget_bias``). To load PyTorch weights: ``Wx_l = weight_ih_l{l}.T``,
    ``Wh_l = weight_hh_l{l}.T``, ``b_l = bias_ih_l{l} + bias_hh_l{l}``.
    """

    n_gates = 4
    has_cell = True

    def _op(self, x, layer, states):
        p = self._parameters
        return F.lstm(x, states[0], states[1], p[f"Wx_{layer}"], p[f"Wh_{layer}"], p[f"b_{layer}"],
                      self.activation, self.recurrent_activation)


class GRU(_Recurrent):
    """GRU with PyTorch's equations, gates in the order (r, z, n), stacked ``num_layers`` deep.

    ``r = sigmoid(x Wx_r + bx_r + h Wh_r + bh_r)``, ``z = sigmoid(x Wx_z + bx_z + h Wh_z + bh_z)``,
    ``n = tanh(x Wx_n + bx_n + r * (h Wh_n + bh_n))``, ``h_t = (1 - z) * n + z * h_{t-1}``.

    ``GRU(input_size, hidden_size, num_layers=1, dropout=0.0, return_sequences=False,
    batch_first=True, activation="tanh", recurrent_activation="sigmoid")``, or
    ``GRU(hidden_size)`` to infer ``input_size`` at the first call (``activation`` for n,
    ``recurrent_activation`` for r and z).

    Shapes: input (N, T, F); output (N, T, H) with ``return_sequences``, else (N, H).
    ``forward(x, state=None)``: state h0 of shape (num_layers, N, H) ((N, H) for one layer),
    or None for zeros; ``.state`` after the call: h_T of every layer, (num_layers, N, H).

    Parameters of layer l: ``Wx_l`` (F_l, 3H), ``Wh_l`` (H, 3H), ``bx_l`` (3H,), ``bh_l`` (3H,)
    (PyTorch's ``weight_ih.T``, ``weight_hh.T``, ``bias_ih``, ``bias_hh``: two biases because
    ``bh``'s n part sits inside ``r * (...)``); all U(-1/sqrt(H), 1/sqrt(H)) as PyTorch.
    """

    n_gates = 3
    bias_names = ("bx", "bh")

    def _op(self, x, layer, states):
        p = self._parameters
        return F.gru(x, states[0], p[f"Wx_{layer}"], p[f"Wh_{layer}"], p[f"bx_{layer}"], p[f"bh_{layer}"],
                     self.activation, self.recurrent_activation)
