"""Passes over a :class:`~minitf.compiler.ir.Program`; each returns the program it changed.

* :func:`dead_code`: drops nodes no output depends on.
* :func:`fold_constants`: runs nodes whose inputs are all constants once, now (with the
  registry's own op, so folding cannot change a value), and keeps the result as a constant.
* :func:`fuse_elementwise`: merges chains of element-wise nodes into one ``Fused`` node, one
  loop, when the inner values are used once and are not outputs (no intermediate array).
"""

from __future__ import annotations

from ..framework.execute import execute
from ..framework.tensor import EagerTensor
from .ir import Node, Program
from .rules import ELEMENTWISE


def dead_code(prog: Program) -> Program:
    live = set(prog.outputs)
    kept = []
    for n in reversed(prog.nodes):
        if any(o in live for o in n.outputs):
            kept.append(n)
            live.update(n.inputs)
    prog.nodes = kept[::-1]
    prog.consts = {k: v for k, v in prog.consts.items() if k in live}
    prog.variables = {k: v for k, v in prog.variables.items() if k in live}
    return prog


def fold_constants(prog: Program) -> Program:
    kept = []
    for n in prog.nodes:
        if n.op != "Fused" and n.inputs and all(i in prog.consts for i in n.inputs):
            out = execute(n.op, [EagerTensor(prog.consts[i]) for i in n.inputs], n.attrs)
            outs = out if isinstance(out, tuple) else (out,)
            for name, value in zip(n.outputs, outs):
                prog.consts[name] = value.numpy()
        else:
            kept.append(n)
    prog.nodes = kept
    return dead_code(prog)


def fuse_elementwise(prog: Program) -> Program:
    uses: dict[str, int] = {}
    for n in prog.nodes:
        for i in n.inputs:
            uses[i] = uses.get(i, 0) + 1
    outputs = set(prog.outputs)
    pending: dict[str, Node] = {}  # value -> the element-wise node that makes it, not yet placed
    kept: list[Node] = []

    def expr_of(v: str, into: list[str], ops: list[str]) -> str:
        """``v`` as a scalar expression, inlining its producer when it is used only here."""
        p = pending.get(v)
        if p is not None and uses.get(v) == 1 and v not in outputs:
            del pending[v]
            kept.remove(p)
            ops.extend(p.attrs["ops"])
            return _rename(p, into)
        if v not in into:
            into.append(v)
        return v

    for n in prog.nodes:
        if n.op not in ELEMENTWISE:
            kept.append(n)
            continue
        inputs: list[str] = []
        ops: list[str] = []
        expr = ELEMENTWISE[n.op].format(*[expr_of(i, inputs, ops) for i in n.inputs])
        fused = Node("Fused", inputs, n.outputs, {"expr": expr, "ops": ops + [n.op]},
                     n.shapes, n.dtypes, n.name)
        kept.append(fused)
        pending[n.outputs[0]] = fused
    prog.nodes = kept
    return prog


def one_kernel_per_op(prog: Program) -> Program:
    """Each element-wise node as a one-op ``Fused`` node: what codegen emits when
    :func:`fuse_elementwise` is off (one loop and one intermediate array per op)."""
    kept = []
    for n in prog.nodes:
        if n.op in ELEMENTWISE:
            inputs = list(dict.fromkeys(n.inputs))  # x * x: one kernel parameter
            n = Node("Fused", inputs, n.outputs,
                     {"expr": ELEMENTWISE[n.op].format(*n.inputs), "ops": [n.op]},
                     n.shapes, n.dtypes, n.name)
        kept.append(n)
    prog.nodes = kept
    return prog


def _rename(p: Node, into: list[str]) -> str:
    """The producer's expression, its inputs added to the consumer's."""
    for i in p.inputs:
        if i not in into:
            into.append(i)
    return p.attrs["expr"]


PASSES = {"dead_code": dead_code, "fold_constants": fold_constants,
          "fuse_elementwise": fuse_elementwise}
