"""``tf.keras.Model(inputs, outputs)``: the functional API.

The model is the graph of layer calls (``keras_tensor.Node``) between its ``Input`` tensors
and its outputs. Layers are ordered as Keras 3 orders them (``_map_graph`` follows
``keras.src.ops.function.map_graph``: by depth from the outputs, ties by discovery order), so
``model.layers`` and the weight paths of saved files are the same in both frameworks. Calling
the model runs the nodes in that order on real tensors (eagerly, or traced by tf.function).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..framework import nest
from ..framework.tensor_shape import TensorShape
from . import saving
from .keras_tensor import KerasTensor, is_symbolic, symbolic_call
from .layers.base import layer_input
from .layers.core import InputLayer
from .models import Model


def _node_key(t: KerasTensor) -> Any:
    layer, index, _ = t._keras_history
    return layer._inbound_nodes[index]


def _map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> tuple[list, list]:
    """``(nodes in execution order, layers in Keras' order)`` of the graph from ``inputs``
    to ``outputs``."""
    input_ids = {id(t) for t in inputs}
    finished: set[int] = set()
    in_progress: set[int] = set()
    order: list = []  # nodes, each after the nodes it reads (post-order)
    layer_index: dict[int, int] = {}
    for out in outputs:
        stack: list[tuple[KerasTensor, bool]] = [(out, False)]
        while stack:  # depth first without recursion (a long chain must not overflow)
            t, done = stack.pop()
            node = _node_key(t)
            if done:
                finished.add(id(node))
                in_progress.discard(id(node))
                order.append(node)
                continue
            if id(node) in finished:
                continue
            if id(node) in in_progress:
                raise ValueError(f"The layer graph has a cycle through layer "
                                 f"'{node.layer.name}'")
            layer_index.setdefault(id(node.layer), len(layer_index))
            in_progress.add(id(node))
            stack.append((t, True))
            if node.inputs and id(t) not in input_ids:
                stack += [(x, False) for x in reversed(node.inputs)]
                for x in node.inputs:
                    layer = x._keras_history[0]
                    if isinstance(layer, InputLayer) and id(x) not in input_ids:
                        raise ValueError(
                            f"Output tensors of a Functional model must be the output of a "
                            f"TensorFlow `Layer` reachable from the model inputs: input "
                            f"'{layer.name}' is needed but not in the model's inputs")
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    by_id = {id(n): n for n in order}
    layers_by_id = {id(n.layer): n.layer for n in order}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:  # an input no output depends on
            layer_depth[id(layer)] = 0
            layer_index[id(layer)] = -1
            layers_by_id[id(layer)] = layer
            node = _node_key(t)
            node_depth[id(node)] = 0
            by_id[id(node)] = node
    nodes = sorted(node_depth, key=lambda n: -node_depth[n])  # stable: ties keep their order
    layers = sorted(layer_depth, key=lambda i: (-layer_depth[i], layer_index[i]))
    return [by_id[n] for n in nodes], [layers_by_id[i] for i in layers]


@saving.register_model
class Functional(Model):
    """A model defined by its inputs and outputs: ``tf.keras.Model(inputs, outputs)``.

    ``inputs``/``outputs``: one KerasTensor, a list or a dict of them. Call the model on
    tensors in the same structure (a dict keyed by input name works for any structure)."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.trainable = trainable
        flat_in, flat_out = nest.flatten(inputs), nest.flatten(outputs)
        for what, flat in (("inputs", flat_in), ("outputs", flat_out)):
            bad = [t for t in flat if not isinstance(t, KerasTensor) or t._keras_history is None]
            if bad or not flat:
                raise ValueError(f"Model {what} must be KerasTensors from tf.keras.Input or "
                                 f"layer calls (one, a list or a dict), got {bad or flat!r}")
        for t in flat_in:
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError(f"Model inputs must come from tf.keras.Input; {t.name!r} is "
                                 f"the output of layer '{t._keras_history[0].name}'")
        self._inputs_struct = _as_list(inputs)
        self._outputs_struct = _as_list(outputs)
        self._input_tensors, self._output_tensors = flat_in, flat_out
        self._nodes, layers = _map_graph(flat_in, flat_out)
        counts = Counter(layer.name for layer in layers)
        dup = sorted(n for n, c in counts.items() if c > 1)
        if dup:
            raise ValueError(f"The name {dup[0]!r} is used {counts[dup[0]]} times in the model. "
                             "All operation names should be unique.")
        self._layers.extend(layers)
        self._node_ids = {id(n) for n in self._nodes}
        self.built = True
        self.input_shape_ = TensorShape(flat_in[0].shape) if len(flat_in) == 1 else None
        self.output_shape_ = TensorShape(flat_out[0].shape) if len(flat_out) == 1 else None

    # -- structure ------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors)

    @property
    def input(self) -> Any:
        return self._inputs_struct

    @property
    def output(self) -> Any:
        return self._outputs_struct

    @property
    def input_shape(self) -> Any:
        return nest.map_structure(lambda t: t.shape, self._inputs_struct)

    @property
    def output_shape(self) -> Any:
        return nest.map_structure(lambda t: t.shape, self._outputs_struct)

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self._input_tensors]

    @property
    def output_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self._output_tensors]

    def _model_nodes(self, layer: Any) -> list:
        """The nodes of ``layer`` that belong to this model."""
        return [n for n in getattr(layer, "_inbound_nodes", []) if id(n) in self._node_ids]

    # -- calling --------------------------------------------------------------------------------
    def build(self, input_shape: Any = None) -> None:
        self.built = True  # built by construction

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        kwargs.pop("mask", None)  # Keras records mask=None on nested models' nodes
        if is_symbolic(inputs):
            return symbolic_call(self, lambda x, **kw: self.__call__(x, training, **kw),
                                 inputs, kwargs)
        return self.call(inputs, training=training)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        values: dict[int, Any] = {}
        for t, x in zip(self._input_tensors, self._flat_inputs(inputs)):
            values[id(t)] = _cast_input(x, t)
        for node in self._nodes:
            if not node.inputs:
                continue
            args = nest.map_structure(
                lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, node.args)
            out = node.layer(args, training=training, **node.kwargs)
            for t, o in zip(node.outputs, nest.flatten(out)):
                values[id(t)] = o
        flat = [values[id(t)] for t in self._output_tensors]
        return nest.pack_sequence_as(self._outputs_struct, flat)

    def _flat_inputs(self, inputs: Any) -> list:
        n = len(self._input_tensors)
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {names}; missing "
                                 f"{missing} in the dict given (keys {sorted(inputs)})")
            return [inputs[k] for k in names]
        flat = list(inputs) if isinstance(inputs, list | tuple) and n > 1 else [inputs]
        if len(flat) != n:
            raise ValueError(f"Model '{self.name}' expects {n} input(s), but it received "
                             f"{len(flat)} input tensors")
        return flat

    # -- description ----------------------------------------------------------------------------
    def _connected_to(self, layer: Any) -> list[str]:
        out = []
        for node in self._model_nodes(layer):
            for t in node.inputs:
                src, index, i = t._keras_history
                out.append(f"{src.name}[{index}][{i}]")
        return out or ["-"]

    def _summary_rows(self) -> list[tuple[str, Any, int, Any]]:
        rows = []
        for layer in self.layers:
            shape = layer.batch_shape if isinstance(layer, InputLayer) else \
                layer.output_shape if isinstance(layer, Functional) else layer.output_shape_
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, layer.count_params(),
                         self._connected_to(layer)))
        return rows

    def get_config(self) -> dict:
        """Keras 3's functional config (layers with ``inbound_nodes``, ``input_layers``,
        ``output_layers``)."""
        from .saving import functional_config

        return functional_config.model_config(self)["config"]

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        from .object_registration import resolve
        from .saving import functional_config

        return functional_config.from_config(
            {"class_name": "Functional", "config": config}, resolve(custom_objects), "config")


def _as_list(structure: Any) -> Any:
    """Keras keeps a tuple of inputs/outputs as a list."""
    return list(structure) if isinstance(structure, tuple) else structure


def _cast_input(x: Any, t: KerasTensor) -> Any:
    """A model input as a tensor: floats as the Input's float dtype, integer ids kept."""
    x = layer_input(x)
    if t.dtype != "float32" and x.dtype.is_floating and t.dtype.startswith("float"):
        from ..ops.math_ops import cast

        x = cast(x, t.dtype)
    return x
