"""The compiler's IR: a straight-line program of nodes over named values.

A :class:`Program` is what a traced graph becomes once its placeholders, constants and
variable reads are split off: ``inputs`` (the function's tensor arguments, in order),
``consts`` (arrays known now), ``variables`` (read when the program runs), and ``nodes`` in
execution order, each an op type with input and output value names, attrs, and the static
shapes and dtypes of its outputs. Values are named ``v0, v1, ...`` so they are identifiers
in the generated source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..framework.errors import UnimplementedError


@dataclass
class Node:
    op: str  # a registry op type, or "Fused" (see passes.fuse_elementwise)
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    shapes: list[tuple]
    dtypes: list[np.dtype]
    name: str = ""  # the graph op it came from (for messages)

    def __str__(self) -> str:
        outs = ", ".join(f"{o}: {d.name}{list(s)}" for o, s, d in
                         zip(self.outputs, self.shapes, self.dtypes))
        extra = f"  # {self.attrs['expr']}" if self.op == "Fused" else ""
        return f"{outs} = {self.op}({', '.join(self.inputs)}){extra}"


@dataclass
class Program:
    inputs: list[str]
    outputs: list[str]
    nodes: list[Node]
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # value name -> tf.Variable
    input_dtypes: dict[str, str] = field(default_factory=dict)  # input name -> dtype name

    def __str__(self) -> str:
        lines = [f"inputs: {', '.join(self.inputs)}",
                 f"variables: {', '.join(f'{k}={v.name}' for k, v in self.variables.items())}",
                 f"consts: {', '.join(self.consts)}"]
        lines += [f"  {n}" for n in self.nodes]
        return "\n".join(lines + [f"outputs: {', '.join(self.outputs)}"])


def lower(graph: Any, inputs: list, outputs: list, supported: Any) -> Program:
    """The program computing ``outputs`` (graph tensors) from ``inputs`` (placeholders).

    Only the ops the outputs need are lowered; one of them whose type is not in
    ``supported`` raises UnimplementedError naming it (TF's jit_compile=True is strict too).
    """
    names: dict[int, str] = {}

    def name(t: Any) -> str:
        if id(t) not in names:
            names[id(t)] = f"v{len(names)}"
        return names[id(t)]

    needed: set[int] = set()
    stack = [t.op for t in outputs]
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
    for op in graph.get_operations():
        if id(op) not in needed or (op.outputs and id(op.outputs[0]) in fed):
            continue
        if op.type == "Const":
            prog.consts[name(op.outputs[0])] = np.asarray(op.attrs["value"])
        elif op.type == "ReadVariableOp":
            prog.variables[name(op.outputs[0])] = op.attrs["var"]
        elif op.type == "Placeholder":
            raise UnimplementedError(f"jit_compile: placeholder '{op.name}' is not an input")
        elif op.type not in supported:
            raise UnimplementedError(
                f"jit_compile=True: op {op.type} ('{op.name}') has no lowering rule in "
                "minitf.compiler; run this function without jit_compile")
        elif any(t.dtype.np.kind == "c" for t in list(op.inputs) + list(op.outputs)):
            # the generated loops are numba.vectorize'd with real signatures only
            raise UnimplementedError(
                f"jit_compile=True: op {op.type} ('{op.name}') on complex numbers has no "
                "lowering in minitf.compiler; run this function without jit_compile")
        else:
            prog.nodes.append(Node(op.type, [name(t) for t in op.inputs],
                                   [name(t) for t in op.outputs], dict(op.attrs),
                                   [tuple(t.shape) for t in op.outputs],
                                   [t.dtype.np for t in op.outputs], op.name))
    prog.outputs = [name(t) for t in outputs]
    return prog
