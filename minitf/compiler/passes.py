"""Passes over a :class:`~minitf.compiler.ir.Program`; each returns the program it changed.

* :func:`dead_code`: drops nodes no output or variable write depends on (random draws stay:
  each advances the generator, as op by op).
* :func:`fold_constants`: runs nodes whose inputs are all constants once, now (with the
  registry's own op, so folding cannot change a value), and keeps the result as a constant;
  ops whose value is their input's static shape (``Shape``, ``OnesLike``...) fold too.
* :func:`fuse_elementwise`: merges chains of element-wise nodes into one ``Fused`` node, one
  loop, when the inner values are used once and are not outputs (no intermediate array).
* :func:`fuse_gemm_epilogue`: a ``MatMul`` whose result only feeds one element-wise loop of
  its shape becomes one ``Gemm`` node: BLAS writes a buffer, the loop (bias + activation
  forward, ``ReluGrad`` backward...) rewrites it in place.
* :func:`fuse_column_sums`: a sum over the rows of a loop's result (a bias gradient,
  ``SumToShapeOf``) is computed in that loop.
* :func:`fuse_optimizer`: the optimizer updates of one step (same rule, hyper-parameters,
  learning rate and step) become one node: one kernel call over all variables.
* :func:`plan_buffers`: a liveness analysis gives every intermediate array of static shape a
  preallocated buffer, shared by values whose lifetimes do not overlap and reused by every
  call of the compiled function.
"""

from __future__ import annotations

import numpy as np

from ..framework.execute import execute
from ..framework.tensor import EagerTensor
from .ir import Node, Program
from .rules import ELEMENTWISE, OPTIMIZERS, RANDOM, SHAPE_ONLY, VIEWS


def dead_code(prog: Program) -> Program:
    live = set(prog.outputs)
    kept = []
    for n in reversed(prog.nodes):
        if any(o in live for o in n.outputs) or n.attrs.get("writes") or n.op in RANDOM:
            kept.append(n)
            live.update(n.inputs)
    prog.nodes = kept[::-1]
    prog.consts = {k: v for k, v in prog.consts.items() if k in live}
    written = {id(v) for v in prog.writes()}
    prog.variables = {k: v for k, v in prog.variables.items()
                      if k in live or id(v) in written}
    return prog


def fold_constants(prog: Program) -> Program:
    kept = []
    for n in prog.nodes:
        shape = prog.info.get(n.inputs[0], (None,))[0] if n.inputs else None
        ref = prog.info.get(n.inputs[-1], (None,))[0] if n.inputs else None
        if n.op in SHAPE_ONLY and shape is not None and None not in shape:
            prog.consts[n.outputs[0]] = SHAPE_ONLY[n.op](shape, n.dtypes[0])
        elif (n.op == "BroadcastLike" and n.inputs[0] in prog.consts and ref is not None
              and None not in ref):  # a constant broadcast to a static shape
            prog.consts[n.outputs[0]] = np.ascontiguousarray(
                np.broadcast_to(prog.consts[n.inputs[0]], ref))
        elif (n.op not in ("Fused", "ReadVariableOp") and n.op not in RANDOM
              and not n.attrs.get("writes")
              and n.inputs and all(i in prog.consts for i in n.inputs)):
            out = execute(n.op, [EagerTensor(prog.consts[i]) for i in n.inputs], _attrs(n))
            outs = out if isinstance(out, tuple) else (out,)
            for name, value in zip(n.outputs, outs):
                prog.consts[name] = value.numpy()
        else:
            kept.append(n)
    prog.nodes = kept
    return dead_code(prog)


def _attrs(n: Node) -> dict:
    return {k: v for k, v in n.attrs.items() if k not in ("writes", "fallback")}


def _uses(prog: Program) -> dict[str, int]:
    uses: dict[str, int] = {}
    for n in prog.nodes:
        for i in n.inputs:
            uses[i] = uses.get(i, 0) + 1
    for o in prog.outputs:
        uses[o] = uses.get(o, 0) + 1
    return uses


def fuse_elementwise(prog: Program) -> Program:
    uses = _uses(prog)
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


def _static_2d(shape: tuple | None) -> bool:
    return shape is not None and len(shape) == 2 and None not in shape


def fuse_gemm_epilogue(prog: Program) -> Program:
    uses = _uses(prog)
    consumers: dict[str, list[Node]] = {}
    for n in prog.nodes:
        for i in set(n.inputs):
            consumers.setdefault(i, []).append(n)
    dropped: set[int] = set()
    for n in list(prog.nodes):
        if n.op != "MatMul" or n.dtypes[0].kind != "f" or not _static_2d(n.shapes[0]):
            continue
        acc = n.outputs[0]
        users = consumers.get(acc, [])
        if uses.get(acc) != 1 or len(users) != 1 or users[0].op != "Fused":
            continue
        epi = users[0]
        if epi not in prog.nodes:  # already the epilogue of another product
            continue
        if tuple(epi.shapes[0]) != tuple(n.shapes[0]) or epi.dtypes[0] != n.dtypes[0]:
            continue
        if not loopable(prog, Node("Fused", [i for i in epi.inputs if i != acc], [],
                                    {}, n.shapes, n.dtypes)):
            continue
        gemm = Node("Gemm", n.inputs + [i for i in epi.inputs if i != acc], epi.outputs,
                    {"transpose_a": bool(n.attrs.get("transpose_a")),
                     "transpose_b": bool(n.attrs.get("transpose_b")),
                     "acc": acc, "params": list(epi.inputs), "expr": epi.attrs["expr"],
                     "ops": ["MatMul", *epi.attrs["ops"]]},
                    epi.shapes, epi.dtypes, epi.name)
        # at the loop's place: the product's inputs exist there, and so do the loop's others
        prog.nodes[prog.nodes.index(epi)] = gemm
        dropped.add(id(n))
    prog.nodes = [n for n in prog.nodes if id(n) not in dropped]
    return prog


def _broadcasts(shape: tuple | None, out: tuple) -> bool:
    """``shape`` is known and broadcasts to ``out`` (a loop nest over ``out`` can index it)."""
    if shape is None or None in shape or len(shape) > len(out):
        return False
    return all(s in (1, o) for s, o in zip(shape[::-1], out[::-1]))


def fuse_column_sums(prog: Program) -> Program:
    """An element-wise loop (or GEMM epilogue) over a static 2-D shape whose result is summed
    over its rows by a ``SumToShapeOf`` (a bias gradient) computes that sum in the same loop."""
    for n in list(prog.nodes):
        if (n.op not in ("Fused", "Gemm") or len(n.outputs) != 1 or not loopable(prog, n)
                or len(n.shapes[0]) != 2 or n.dtypes[0].kind != "f"):
            continue
        v = n.outputs[0]
        for c in prog.nodes:
            if (c.op == "SumToShapeOf" and c.inputs[0] == v and c.outputs[0] not in prog.outputs
                    and prog.info.get(c.inputs[1], (None,))[0] == (n.shapes[0][1],)):
                n.outputs, n.shapes, n.dtypes = (n.outputs + c.outputs, n.shapes + c.shapes,
                                                 n.dtypes + c.dtypes)
                n.attrs["ops"] = [*n.attrs["ops"], "SumToShapeOf"]
                prog.nodes.remove(c)
                break
    return prog


def loopable(prog: Program, n: Node) -> bool:  # also codegen's test
    """``n`` (element-wise) can be one loop nest: its shape is static, its inputs' shapes
    are static and broadcast to it."""
    shape = n.shapes[0]
    return (shape is not None and len(shape) > 0 and None not in shape
            and n.dtypes[0].kind in "fiub"
            and all(_broadcasts(prog.info.get(i, (None,))[0] if i not in prog.consts
                                else prog.consts[i].shape, shape)
                    for i in n.attrs.get("params", n.inputs) if i != n.attrs.get("acc")))


def fuse_optimizer(prog: Program) -> Program:
    groups: dict[tuple, list[Node]] = {}
    for n in prog.nodes:
        if n.op in OPTIMIZERS:
            hyper = tuple(sorted((k, v) for k, v in n.attrs.items()
                                 if isinstance(v, int | float | bool)))
            slots = tuple(n.attrs.get(s) is None for s in ("mom", "mg"))
            key = (n.op, tuple(n.inputs[1:]), hyper, slots, n.attrs["var"].dtype.name)
            groups.setdefault(key, []).append(n)
    for members in groups.values():
        if len(members) < 2 or not _movable(prog, members):
            continue
        first = members[0]
        merged = Node(first.op, [m.inputs[0] for m in members] + first.inputs[1:], [],
                      {**first.attrs, "group": [m.attrs for m in members],
                       "writes": [v for m in members for v in m.attrs["writes"]]},
                      [], [], f"{len(members)} x {first.op}")
        last = prog.nodes.index(members[-1])
        prog.nodes[last] = merged
        prog.nodes = [n for n in prog.nodes if not any(n is m for m in members[:-1])]
    return prog


def _movable(prog: Program, members: list[Node]) -> bool:
    """Moving the updates to the last one's place changes nothing: no node in between
    reads or writes their variables after the graph asked for the update."""
    ids = {id(v) for m in members for v in m.attrs["writes"]}
    lo, hi = prog.nodes.index(members[0]), prog.nodes.index(members[-1])
    for n in prog.nodes[lo:hi]:
        if any(n is m for m in members):
            continue
        touched = list(n.attrs.get("writes", ()))
        if n.op == "ReadVariableOp":
            touched.append(n.attrs["var"])
        if any(id(v) in ids for v in touched):
            return False
    return True


def alias_roots(prog: Program) -> dict[str, frozenset]:
    """For every value, the values whose memory it may share: a view its input's, a read
    after a write the variable's array at that point, an op run by its registry kernel as a
    fallback any of its inputs' (it may return one of them); other values their own."""
    roots: dict[str, frozenset] = {}
    cur: dict[int, str] = {}
    for name, var in prog.variables.items():
        roots[name] = frozenset({cur.setdefault(id(var), name)})

    def of(v: str) -> frozenset:
        return roots.get(v, frozenset({v}))

    for n in prog.nodes:
        for o in n.outputs:
            roots[o] = frozenset({o})
        if n.op == "ReadVariableOp":
            roots[n.outputs[0]] = of(cur[id(n.attrs["var"])])
        elif n.op in VIEWS and n.inputs:
            roots[n.outputs[0]] = of(n.inputs[0])
        elif n.attrs.get("fallback"):
            for o in n.outputs:
                roots[o] = roots[o].union(*(of(i) for i in n.inputs))
        if n.outputs and n.op not in OPTIMIZERS:
            for v in n.attrs.get("writes", ()):
                cur[id(v)] = n.outputs[0]
    return roots


def last_uses(prog: Program, roots: dict[str, frozenset]) -> dict[str, int]:
    """The index of the last node using each value's memory (outputs: past the end)."""
    last: dict[str, int] = {}
    for k, n in enumerate(prog.nodes):
        for i in n.inputs:
            for r in roots.get(i, (i,)):
                last[r] = k
    for o in prog.outputs:
        for r in roots.get(o, (o,)):
            last[r] = len(prog.nodes)
    return last


def plan_buffers(prog: Program) -> Program:
    roots = alias_roots(prog)
    last = last_uses(prog, roots)
    outputs = {r for o in prog.outputs for r in roots.get(o, (o,))}
    free: dict[tuple, list[tuple[str, int]]] = {}  # (shape, dtype) -> [(buffer, busy until)]
    for k, n in enumerate(prog.nodes):
        if n.op not in ("MatMul", "Gemm", "Fused"):
            continue
        v, shape, dtype = n.outputs[0], tuple(n.shapes[0]), n.dtypes[0]
        if not shape or None in shape or v in outputs or dtype.kind not in "fiub":
            continue
        key = (shape, dtype.str)
        pool = free.setdefault(key, [])
        j = next((j for j, (_, until) in enumerate(pool) if until < k), None)
        if j is None:  # every buffer of this shape is in use: a new one
            j = len(pool)
            pool.append((f"b{len(prog.buffers)}", 0))
            prog.buffers[pool[j][0]] = (shape, dtype)
        buf = pool[j][0]
        pool[j] = (buf, last.get(v, k))
        n.attrs["buffer"] = buf
    return prog


PASSES = {"dead_code": dead_code, "fold_constants": fold_constants,
          "fuse_elementwise": fuse_elementwise, "fuse_gemm_epilogue": fuse_gemm_epilogue,
          "fuse_column_sums": fuse_column_sums, "fuse_optimizer": fuse_optimizer,
          "plan_buffers": plan_buffers}
