"""Symbolic Keras tensors and the nodes that record layer calls (the functional API's graph).

``tf.keras.Input(shape=(5,))`` returns a ``KerasTensor``: a shape and dtype with no value. A layer
called on KerasTensors records a ``Node`` (the layer, its arguments, its outputs) and returns
new KerasTensors; ``tf.keras.Model(inputs, outputs)`` walks those nodes.

Output shapes and dtypes come from running the layer's own ``call`` once on placeholders in a
scratch graph (minitf's static shape inference), so no layer needs a ``compute_output_shape``
of its own and no real data runs; it also builds the layer (its weights are created eagerly,
as ``Sequential.build`` does).
"""

from __future__ import annotations

from typing import Any

from ..framework import nest


class KerasTensor:
    """A symbolic input or layer output: ``shape`` (a tuple, batch axis ``None``), ``dtype``
    (a string, as in Keras 3) and ``name``; it has no value."""

    def __init__(self, shape: Any, dtype: Any = "float32", name: str | None = None) -> None:
        from ..dtypes import as_dtype

        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = as_dtype(dtype).name
        self.name = name
        self._keras_history: tuple[Any, int, int] | None = None  # (layer, node, output index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
                f"name={self.name}>")

    # x + y, x - y, x * y record the merge layer Keras 3 records as an op (saved as Keras'
    # keras.src.ops.numpy.Add, ...); other arithmetic needs a layer
    def __add__(self, other: Any) -> Any:
        return _op("Add", [self, other])

    def __radd__(self, other: Any) -> Any:
        return _op("Add", [other, self])

    def __sub__(self, other: Any) -> Any:
        return _op("Subtract", [self, other])

    def __rsub__(self, other: Any) -> Any:
        return _op("Subtract", [other, self])

    def __mul__(self, other: Any) -> Any:
        return _op("Multiply", [self, other])

    def __rmul__(self, other: Any) -> Any:
        return _op("Multiply", [other, self])

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"KerasTensor {self.name!r} is symbolic (it has no value): call a layer "
                        "or a model on it, or build tf.keras.Model(inputs, outputs) from it")


class Node:
    """One call of ``layer``: ``args`` (a structure holding KerasTensors), ``kwargs`` and the
    flat list of output KerasTensors (``outputs_structure`` nests them as the call did)."""

    def __init__(self, layer: Any, args: Any, kwargs: dict, outputs: Any) -> None:
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.outputs_structure = outputs
        self.outputs: list[KerasTensor] = nest.flatten(outputs)
        self.inputs: list[KerasTensor] = [t for t in nest.flatten(args)
                                          if isinstance(t, KerasTensor)]
        layer.__dict__.setdefault("_inbound_nodes", [])
        index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = (layer, index, i)

    @property
    def parent_nodes(self) -> list[Node]:
        out = []
        for t in self.inputs:
            layer, index, _ = t._keras_history
            out.append(layer._inbound_nodes[index])
        return out

    @property
    def is_input(self) -> bool:
        return not self.inputs


OP_MODULE = "keras.src.ops.numpy"
OP_LAYERS: dict[str, type] = {}  # "Add" -> the Add layer, ...: filled by layers/merging.py


def op_layer(kind: str, name: str | None = None) -> Any:
    """The merge layer standing for Keras 3's op ``kind`` (``Add``, ``Subtract``,
    ``Multiply``): it is saved as that op, with its operands as positional arguments."""
    layer = OP_LAYERS[kind](name=name)
    layer._keras_op = OP_MODULE
    return layer


def _op(kind: str, operands: list) -> Any:
    return op_layer(kind)(operands)


def is_symbolic(structure: Any) -> bool:
    """Whether ``structure`` holds a KerasTensor (then a layer call records a node)."""
    return any(isinstance(t, KerasTensor) for t in nest.flatten(structure))


def symbolic_call(layer: Any, call: Any, args: Any, kwargs: dict) -> Any:
    """Record ``layer(args, **kwargs)`` as a node; ``call`` is the layer's real ``__call__``,
    run once on placeholders to infer (and build) what the layer returns."""
    from ..framework.graph import Graph
    from ..ops.array_ops import placeholder

    for t in nest.flatten(args):
        if isinstance(t, KerasTensor) and t._keras_history is None:
            raise ValueError(f"KerasTensor {t.name!r} was not made by tf.keras.Input or a "
                             "layer call")
    with Graph().as_default():
        feeds = nest.map_structure(
            lambda t: placeholder(t.dtype, t.shape) if isinstance(t, KerasTensor) else t, args)
        out = call(feeds, **kwargs)
    flat = nest.flatten(out)
    n = len(getattr(layer, "_inbound_nodes", []))
    tensors = [KerasTensor(tuple(o.shape.as_list()), o.dtype,
                           name=f"{layer.name}_{n}_{i}" if len(flat) > 1 else
                           (layer.name if n == 0 else f"{layer.name}_{n}"))
               for i, o in enumerate(flat)]
    outputs = nest.pack_sequence_as(out, tensors)
    Node(layer, args, dict(kwargs), outputs)
    return outputs
