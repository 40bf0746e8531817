"""The compiler's IR: a straight-line program of nodes over named values.

A :class:`Program` is what a traced graph becomes once its placeholders, constants and
variable reads are split off: ``inputs`` (the function's tensor arguments, in order),
``consts`` (arrays known now), ``variables`` (the value of each variable when the program
starts, read at call time), and ``nodes`` in execution order, each an op type with input and
output value names, attrs, and the static shapes and dtypes of its outputs. Values are named
``v0, v1, ...`` so they are identifiers in the generated source.

State: a node whose op writes a variable (an optimizer update, an assignment) names it in
``attrs["var"]``; a read after such a write (``ReadVariableOp`` under a control dependency)
stays a node, so it sees the new value. Nodes keep the graph's order, which is an order the
graph's control dependencies allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..framework.errors import UnimplementedError


@dataclass(eq=False)  # nodes compare by identity (passes find and replace them)
class Node:
    op: str  # a registry op type, or one a pass made ("Fused", "Gemm", "OptimizerUpdate")
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    shapes: list[tuple]
    dtypes: list[np.dtype]
    name: str = ""  # the graph op it came from (for messages)

    def __str__(self) -> str:
        outs = ", ".join(f"{o}: {d.name}{list(s)}" for o, s, d in
                         zip(self.outputs, self.shapes, self.dtypes))
        lhs = f"{outs} = " if outs else ""
        note = ""
        if "expr" in self.attrs:
            note = f"  # {self.attrs['expr']}"
        if "writes" in self.attrs:
            note += f"  # writes {', '.join(v.name for v in self.attrs['writes'])}"
        if "buffer" in self.attrs:
            note += f"  # into {self.attrs['buffer']}"
        return f"{lhs}{self.op}({', '.join(self.inputs)}){note}"


@dataclass
class Program:
    inputs: list[str]
    outputs: list[str]
    nodes: list[Node]
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # value name -> tf.Variable
    input_dtypes: dict[str, str] = field(default_factory=dict)  # input name -> dtype name
    info: dict[str, tuple] = field(default_factory=dict)  # value -> (static shape, np dtype)
    buffers: dict[str, tuple] = field(default_factory=dict)  # buffer -> (shape, dtype)
    fallbacks: list[str] = field(default_factory=list)  # ops run by their registry kernel

    def __str__(self) -> str:
        lines = [f"inputs: {', '.join(self.inputs)}",
                 f"variables: {', '.join(f'{k}={v.name}' for k, v in self.variables.items())}",
                 f"consts: {', '.join(self.consts)}"]
        if self.buffers:
            lines.append("buffers: " + ", ".join(
                f"{b}: {np.dtype(d).name}{list(s)}" for b, (s, d) in self.buffers.items()))
        lines += [f"  {n}" for n in self.nodes]
        return "\n".join(lines + [f"outputs: {', '.join(self.outputs)}"])

    def writes(self) -> list:
        """The variables the program assigns, in first-write order."""
        out: dict[int, Any] = {}
        for n in self.nodes:
            for v in n.attrs.get("writes", ()):
                out.setdefault(id(v), v)
        return list(out.values())


def lower(graph: Any, inputs: list, outputs: list, supported: Any,
          side_effects: list = (), strict: bool = True) -> Program:
    """The program computing ``outputs`` (graph tensors) from ``inputs`` (placeholders) and
    running ``side_effects`` (stateful graph operations).

    Only the ops these need are lowered; one of them whose type is not in ``supported``
    raises UnimplementedError naming it (TF's jit_compile=True is strict too), or, with
    ``strict=False`` and a stateless op, becomes a node marked ``fallback``: the registry's
    kernel runs it inside the program, op by op (listed in ``Program.fallbacks``).
    """
    names: dict[int, str] = {}
    info: dict[str, tuple] = {}

    def name(t: Any) -> str:
        if id(t) not in names:
            names[id(t)] = f"v{len(names)}"
            info[names[id(t)]] = (_static(t.shape), t.dtype.np)
        return names[id(t)]

    needed: set[int] = set()
    stack = [t.op for t in outputs] + list(side_effects)
    while stack:
        op = stack.pop()
        if id(op) in needed:
            continue
        needed.add(id(op))
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    prog = Program([name(p) for p in inputs], [], [])
    prog.input_dtypes = {name(p): p.dtype.np.name for p in inputs}
    fed = {id(p) for p in inputs}
    entry: dict[int, str] = {}  # variable -> the value name of its value at entry
    for op in graph.get_operations():
        if id(op) not in needed or (op.outputs and id(op.outputs[0]) in fed):
            continue
        if op.type == "Const":
            prog.consts[name(op.outputs[0])] = np.asarray(op.attrs["value"])
            continue
        if op.type == "Placeholder":
            raise UnimplementedError(f"jit_compile: placeholder '{op.name}' is not an input")
        fallback = op.type not in supported and not strict and not op.opdef.stateful
        if op.type not in supported and not fallback:
            raise UnimplementedError(
                f"jit_compile=True: op {op.type} ('{op.name}') has no lowering rule in "
                "minitf.compiler; run this function without jit_compile")
        if any(t.dtype.np.kind == "c" for t in list(op.inputs) + list(op.outputs)):
            # the generated loops are numba.vectorize'd with real signatures only
            raise UnimplementedError(
                f"jit_compile=True: op {op.type} ('{op.name}') on complex numbers has no "
                "lowering in minitf.compiler; run this function without jit_compile")
        var = op.attrs.get("var")
        if var is not None and getattr(var, "_graph", None) is not None:
            raise UnimplementedError(
                f"jit_compile=True: op {op.type} ('{op.name}') uses graph variable "
                f"'{var.name}'; minitf.compiler compiles eager (tf.Variable) state only")
        if op.type == "ReadVariableOp" and not op.control_inputs:
            # a read at entry: the variable's value when the program starts
            prog.variables[name(op.outputs[0])] = var
            entry.setdefault(id(var), name(op.outputs[0]))
            continue
        if op.type == "NoOp":
            continue  # control dependencies only: the order of the nodes keeps them
        attrs = dict(op.attrs)
        if fallback:
            attrs["fallback"] = True
            prog.fallbacks.append(f"{op.type} ('{op.name}')")
        if var is not None and op.type != "ReadVariableOp":
            attrs["writes"] = [var] + [attrs[s] for s in ("m", "v", "accum", "ms", "mom", "mg")
                                       if attrs.get(s) is not None]
        prog.nodes.append(Node(op.type, [name(t) for t in op.inputs],
                               [name(t) for t in op.outputs], attrs,
                               [tuple(t.shape) for t in op.outputs],
                               [t.dtype.np for t in op.outputs], op.name))
    prog.outputs = [name(t) for t in outputs]
    for var in prog.writes():  # written but not read: its value at entry, for the update
        if id(var) not in entry:
            entry[id(var)] = f"s{len(entry)}"
            prog.variables[entry[id(var)]] = var
            info[entry[id(var)]] = (tuple(var.shape), var.dtype.np)
    prog.info = info
    return prog


def _static(shape: Any) -> tuple:
    """A TensorShape as a tuple (``None`` for unknown dimensions; ``None`` for unknown rank)."""
    try:
        return tuple(shape)
    except (TypeError, ValueError):
        return None
