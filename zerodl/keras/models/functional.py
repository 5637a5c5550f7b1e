"""The functional model, ``keras.Model(inputs, outputs)``: a graph of layer calls recorded on
symbolic ``keras.Input`` tensors, with branches, merges, shared layers, several inputs and
outputs. Nodes run in the order (depth from the inputs, creation order), as Keras lists them.
"""
from ...nn import get_module_class
from ..layers.base import LAYERS, KerasTensor, Layer, unique_name
from ..layers.core import InputLayer
from .model import Model

__all__ = ["Functional", "layer_from_config"]


def _flatten(struct, where):
    if isinstance(struct, dict):
        return list(struct.values()), list(struct.keys())
    items = list(struct) if isinstance(struct, (list, tuple)) else [struct]
    for t in items:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"{where}: expected keras.Input / layer outputs (KerasTensor), got {type(t).__name__}")
    return items, None


def _ordered_nodes(inputs, outputs):
    """Every node between ``inputs`` and ``outputs`` in Keras's order: by depth from the
    outputs (deepest first), ties in creation order. This is also the order of
    ``model.layers`` and ``get_weights()``, so Keras's weight lists line up."""
    seen, order = set(), []
    input_ids = {id(t) for t in inputs}
    stack = [(t.node, False) for t in reversed(outputs)]
    while stack:  # iterative post-order: each node after all its inputs
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for t in reversed(node.inputs):
            if t.node is None:
                raise ValueError("keras.Model: an output does not depend on the given inputs")
            if id(t.node) not in seen:
                stack.append((t.node, False))
    depth = {id(n): 0 for n in order}
    for node in reversed(order):
        for t in node.inputs:
            depth[id(t.node)] = max(depth[id(t.node)], depth[id(node)] + 1)
    for node in order:
        if isinstance(node.layer, InputLayer) and id(node.outputs[0]) not in input_ids:
            raise ValueError(f"keras.Model: the outputs need input {node.layer.name!r}, which is not among the "
                             f"model's inputs")
    return sorted(order, key=lambda n: (-depth[id(n)], n.serial))


class Functional(Model):
    _is_model = True
    keras_class = "Functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or _functional_name(), trainable=trainable)
        ins, in_keys = _flatten(inputs, "keras.Model(inputs=...)")
        outs, out_keys = _flatten(outputs, "keras.Model(outputs=...)")
        d = self.__dict__
        d["_inputs"], d["_outputs"] = ins, outs
        d["_input_keys"], d["_output_keys"] = in_keys, out_keys
        d["_single_input"] = not isinstance(inputs, (list, tuple, dict))
        d["_single_output"] = not isinstance(outputs, (list, tuple, dict))
        d["_nodes"] = _ordered_nodes(ins, outs)
        for node in d["_nodes"]:
            layer = node.layer
            if layer.name in self._modules and self._modules[layer.name] is not layer:
                raise ValueError(f"keras.Model: two layers are named {layer.name!r}; layer names must be unique")
            self.add_module(layer.name, layer)
        self.built = True
        self._out_shape = [t.shape for t in outs] if len(outs) > 1 else outs[0].shape

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input_names(self):
        return self._input_keys or [t.node.layer.name for t in self._inputs]

    @property
    def output_names(self):
        return self._output_keys or [t.node.layer.name for t in self._outputs]

    def _run(self, xs, logits_for=()):
        if len(xs) != len(self._inputs):
            raise ValueError(f"{self.name}: the model has {len(self._inputs)} input(s) "
                             f"({', '.join(self.input_names)}), got {len(xs)}")
        values = {id(t): x for t, x in zip(self._inputs, xs)}
        fused = {id(self._outputs[i]) for i in logits_for}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = [values[id(t)] for t in node.inputs]
            arg = args if node.nested else args[0]
            if id(node.outputs[0]) in fused:
                out = node.layer.pre_activation(arg)
            else:
                out = node.layer(arg, **node.kwargs)
            for t, o in zip(node.outputs, out if isinstance(out, (list, tuple)) else [out]):
                values[id(t)] = o
        return [values[id(t)] for t in self._outputs]

    def _call_outputs(self, xs, logits_for=()):
        return self._run(xs, logits_for)

    def call(self, inputs, training=None):
        if isinstance(inputs, dict):
            xs = [inputs[k] for k in self.input_names]
        else:
            xs = list(inputs) if isinstance(inputs, (list, tuple)) and not self._single_input else [inputs]
        outs = self._run(xs)
        if self._output_keys:
            return dict(zip(self._output_keys, outs))
        return outs[0] if self._single_output else outs

    def forward(self, inputs, training=None, **kwargs):
        return self.call(inputs)

    def fusable_outputs(self, heads):
        """Indices of outputs whose layer ends in the activation ``heads[i]`` (softmax/sigmoid)
        and can return its pre-activation: the loss then takes logits (fused, stable)."""
        out = []
        for i, (t, head) in enumerate(zip(self._outputs, heads)):
            layer = t.node.layer if t.node is not None else None
            if head and isinstance(layer, Layer) and getattr(layer, "activation", None) == head \
                    and hasattr(layer, "pre_activation") and len(t.node.outputs) == 1:
                out.append(i)
        return out

    # ----- configuration (model files) ---------------------------------------------------------
    def get_config(self):
        """Keras-like: each layer's class and config, then every call in order, its inputs as
        ``[layer name, call number in this model, output index]``."""
        calls, counts, layers, nodes = {}, {}, [], []
        for node in self._nodes:
            layer = node.layer
            if layer.name not in counts:
                counts[layer.name] = 0
                layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
            calls[id(node)] = [layer.name, counts[layer.name]]
            counts[layer.name] += 1
            if not isinstance(layer, InputLayer):
                nodes.append({"layer": layer.name, "nested": node.nested,
                              "inputs": [calls[id(t.node)] + [t.index] for t in node.inputs]})

        def ref(t):
            return calls[id(t.node)] + [t.index]

        return {"name": self.name, "layers": layers, "nodes": nodes, "inputs": [ref(t) for t in self._inputs],
                "outputs": [ref(t) for t in self._outputs], "input_keys": self._input_keys,
                "output_keys": self._output_keys, "single_input": self._single_input,
                "single_output": self._single_output}

    @classmethod
    def from_config(cls, config):
        layers = {}
        made = {}  # (layer name, call number) -> outputs
        for spec in config["layers"]:
            layer = layer_from_config(spec)
            layers[layer.name] = layer
            if isinstance(layer, InputLayer):
                made[(layer.name, 0)] = [layer.output]
        counts = {}
        for node in config["nodes"]:
            args = [made[(n, c)][i] for n, c, i in node["inputs"]]
            out = layers[node["layer"]](args if node["nested"] else args[0])
            k = counts.get(node["layer"], 0)
            made[(node["layer"], k)] = out if isinstance(out, list) else [out]
            counts[node["layer"]] = k + 1

        def pick(refs, keys, single):
            ts = [made[(n, c)][i] for n, c, i in refs]
            return dict(zip(keys, ts)) if keys else (ts[0] if single else ts)

        return cls(pick(config["inputs"], config.get("input_keys"), config.get("single_input", True)),
                   pick(config["outputs"], config.get("output_keys"), config.get("single_output", True)),
                   name=config.get("name"))


def layer_from_config(spec):
    """A Keras layer (or model) from ``{"class_name": ..., "config": {...}}``."""
    name = spec["class_name"]
    if name in ("Functional", "KerasSequential"):
        return get_module_class(name).from_config(spec["config"])
    if name not in LAYERS:
        raise ValueError(f"unknown Keras layer class {name!r} in the model file")
    return LAYERS[name](**spec["config"])


def _functional_name():
    return unique_name("functional")


Model.functional_class = Functional
