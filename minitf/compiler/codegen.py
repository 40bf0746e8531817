"""Source generation: one Python module per program.

The module's ``run(inputs..., variables...)`` returns ``(outputs, written)``: the outputs as
a tuple, and the new arrays of the variables that were given one (assigned, or updated in a
copy), in ``generate``'s ``writeback`` order, for the caller to store; variables updated in
place need nothing stored. In the body:

* GEMMs call BLAS (``np.matmul``; ``Compiled`` decides its threads) into a planned buffer; a
  fused epilogue then rewrites that buffer in place (an ``@numba.njit`` loop nest over the
  static 2-D shape, a column sum in the same loop when one was fused);
* each other element-wise (possibly fused) node is such a loop nest writing its planned
  buffer when its shapes are static, else a ``numba.vectorize`` kernel (it broadcasts at run
  time); 0-d ones are NumPy scalar arithmetic;
* an optimizer node is one call of a kernel of ``kernels.py`` over all its variables, which
  updates them in place when liveness allows, else a copy of them (copy-on-write);
* ops of ``rules.KERNEL`` call the registry's kernel, the rest whole-array NumPy.

The source is written to a file named by its hash (in Numba's cache folder) and imported
as a module of that name, so its kernels are compiled with ``cache=True``: a later process
(or notebook) that generates the same source loads them instead of compiling them again,
and in one process programs with the same source share them.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

import numba
import numpy as np

from ..framework import registry
from . import kernels
from .ir import Node, Program
from .passes import alias_roots, last_uses, loopable
from .rules import ARRAY, ASSIGN, KERNEL, OPTIMIZERS, RANDOM, SLOTS


class _Runtime:
    """What a registry kernel sees as ``rt`` inside generated code (only ``be`` is used)."""

    be: Any = None


def generate(prog: Program) -> tuple[str, list]:
    """The source of the module running ``prog``, and the variables whose new arrays its
    ``run`` returns (in order)."""
    g = _Generator(prog)
    source = g.source()
    return source, g.writeback


class _Generator:
    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.head = ["import math", "import numba", "import numpy as np", ""]
        self.body: list[str] = []
        self.cur: dict[int, str] = {}  # variable -> the name of its current array
        for name, var in prog.variables.items():
            self.cur.setdefault(id(var), name)
        self.entry = dict(self.cur)  # each variable's array at entry
        self.writeback: list = []
        self.roots = alias_roots(prog)
        self.last = last_uses(prog, self.roots)

    def source(self) -> str:
        prog = self.prog
        for k, n in enumerate(prog.nodes):
            self.node(k, n)
        args = [*prog.inputs, *prog.variables]
        outs = "".join(f"{self.output(o)}, " for o in prog.outputs)
        self.writeback = [v for v in prog.writes() if self.cur[id(v)] != self.entry[id(v)]]
        written = "".join(f"{self.cur[id(v)]}, " for v in self.writeback)
        return "\n".join(self.head + [f"def run({', '.join(args)}):"] + self.body
                         + [f"    return ({outs}), ({written})", ""])

    def output(self, o: str) -> str:
        if any(r in self.prog.variables for r in self.roots.get(o, (o,))):
            return f"np.array({o})"  # never hand out an array a later step may update
        return f"np.asarray({o})"

    def emit(self, line: str) -> None:
        self.body.append(f"    {line}")

    def node(self, k: int, n: Node) -> None:
        if n.op == "Fused":
            self.fused(k, n)
        elif n.op == "Gemm":
            self.gemm(k, n)
        elif n.op == "MatMul":
            self.emit(f"{n.outputs[0]} = {_matmul(n, *n.inputs)}  # MatMul '{n.name}'")
        elif n.op in OPTIMIZERS:
            self.optimizer(k, n)
        elif n.op in ASSIGN:
            var = n.attrs["var"]
            new = ASSIGN[n.op].format(self.cur[id(var)], n.inputs[0])
            self.emit(f"{n.outputs[0]} = np.array({new}, dtype=np.{var.dtype.np.name})"
                      f".reshape(np.shape({self.cur[id(var)]}))  # {n.op} '{var.name}'")
            self.cur[id(var)] = n.outputs[0]
        elif n.op == "ReadVariableOp":
            self.emit(f"{n.outputs[0]} = {self.cur[id(n.attrs['var'])]}  # read after a write")
        elif n.op == "SumToShapeOf" and self._sum_axes(n) is not None:
            self.emit(f"{n.outputs[0]} = {n.inputs[0]}.sum(axis={self._sum_axes(n)!r})"
                      f".reshape({tuple(n.shapes[0])!r})  # SumToShapeOf '{n.name}'")
        elif n.op in KERNEL or n.op in RANDOM or n.attrs.get("fallback"):
            call = f"op_{k}(rt, {''.join(f'{i}, ' for i in n.inputs)}**attrs_{k})"
            if n.outputs:  # the registry kernel returns one array, or a tuple of them
                call = f"{''.join(f'{o}, ' for o in n.outputs)}= _tuple({call})"
            self.emit(f"{call}  # {n.op} '{n.name}'")
        else:
            self.emit(f"{', '.join(n.outputs)} = {ARRAY[n.op](n, n.inputs)}  # {n.op} '{n.name}'")

    def fused(self, k: int, n: Node) -> None:
        expr, out, dt = n.attrs["expr"], n.outputs[0], n.dtypes[0].name
        if len(n.shapes[0]) == 0:  # a scalar: NumPy arithmetic, no kernel call
            self.emit(f"{out} = np.{dt}({expr})  # {' -> '.join(n.attrs['ops'])}")
            return
        if loopable(self.prog, n):
            buf = n.attrs.get("buffer") or f"np.empty({tuple(n.shapes[0])!r}, dtype=np.{dt})"
            self.emit(f"{out} = {buf}")
            self.loop(k, n, list(n.inputs), out, "")
            return
        sig = f"{_nb(n.dtypes[0])}({', '.join(_nb(self.dtype(v)) for v in n.inputs)})"
        self.head += [f"@numba.vectorize([{sig!r}])",  # (its cache does not reload)
                      f"def kernel_{k}({', '.join(n.inputs)}):  # {' -> '.join(n.attrs['ops'])}",
                      f"    return {expr}", ""]
        into = f", out={n.attrs['buffer']}" if "buffer" in n.attrs else ""
        self.emit(f"{out} = kernel_{k}({', '.join(n.inputs)}{into})")

    def gemm(self, k: int, n: Node) -> None:
        """BLAS into the buffer, then one loop over it: the epilogue (and a column sum)."""
        a = n.attrs
        acc, out = a["acc"], n.outputs[0]
        buf = a.get("buffer") or f"np.empty({tuple(n.shapes[0])!r}, dtype=np.{n.dtypes[0].name})"
        mm = _matmul(Node("MatMul", n.inputs[:2], [acc], a, [], []), *n.inputs[:2], buf)
        self.emit(f"{acc} = {mm}  # {' -> '.join(a['ops'])} '{n.name}'")
        self.loop(k, n, [p for p in a["params"] if p != acc], acc, ", in place")
        self.emit(f"{out} = {acc}")

    def loop(self, k: int, n: Node, params: list[str], out: str, note: str) -> None:
        """One ``@numba.njit`` loop nest over ``n``'s static shape computing its expression
        into ``out`` (and, with a second output, the sums of its 2-D result's columns)."""
        shape = tuple(n.shapes[0])
        ix = [f"i{d}" for d in range(len(shape))]
        expr = n.attrs["expr"]
        for p in params + [out]:  # each parameter read at its broadcast index
            expr = re.sub(rf"\b{p}\b", f"{p}{_index(shape if p == out else self._shape(p), ix)}",
                          expr)
        colsum = n.outputs[1] if len(n.outputs) > 1 else None
        args = ", ".join(params + [out] + (["colsum"] if colsum else []))
        ops = " -> ".join(n.attrs["ops"][1:] if n.op == "Gemm" else n.attrs["ops"])
        lines = ["@numba.njit(error_model='numpy', cache=CACHE)",
                 f"def loop_{k}({args}):  # {ops}{note}"]
        if colsum:
            lines += [f"    for i1 in range({shape[1]}):", "        colsum[i1] = 0"]
        lines += [f"{'    ' * (d + 1)}for i{d} in range({size}):" for d, size in enumerate(shape)]
        body = "    " * (len(shape) + 1)
        lines.append(f"{body}{out}[{', '.join(ix)}] = {expr}")
        if colsum:  # the stored (rounded) value, as a separate sum would see it
            lines.append(f"{body}colsum[i1] += {out}[i0, i1]")
        self.head += lines + [""]
        if colsum:
            self.emit(f"{colsum} = np.empty({shape[1]}, dtype=np.{n.dtypes[1].name})")
        self.emit(f"loop_{k}({', '.join(params + [out] + ([colsum] if colsum else []))})")

    def _sum_axes(self, n: Node) -> tuple | None:
        """The axes ``SumToShapeOf`` sums over, when both shapes are static."""
        g, ref = self._shape(n.inputs[0]), self._shape(n.inputs[1])
        if g is None or ref is None or None in g or None in ref:
            return None
        lead = len(g) - len(ref)
        return tuple(i for i in range(len(g)) if i < lead or (ref[i - lead] == 1 and g[i] != 1))

    def _shape(self, v: str) -> tuple:
        return tuple(self.prog.consts[v].shape) if v in self.prog.consts else self.prog.info[v][0]

    def optimizer(self, k: int, n: Node) -> None:
        group = n.attrs.get("group") or [n.attrs]
        grads, scalars = n.inputs[:len(group)], n.inputs[len(group):]
        slots = SLOTS[n.op]
        dt = f"np.{group[0]['var'].dtype.np.name}"
        arrays = []
        for attrs in group:
            for var in [attrs["var"]] + [attrs[s] for s in slots]:
                if var is None:  # an RMSprop slot it does not use
                    arrays.append(f"np.empty(0, {dt})")
                    continue
                name = self.cur[id(var)]
                if any(self.last.get(r, -1) > k for r in self.roots.get(name, (name,))):
                    # its current array is read later: update a copy (copy-on-write)
                    self.emit(f"{name}_w = {name}.copy()  # read later: not in place")
                    name = self.cur[id(var)] = f"{name}_w"
                arrays.append(f"{name}.reshape(-1)")
        per = 1 + len(slots)
        t = [f"({''.join(f'{arrays[i * per + s]}, ' for i in range(len(group)))})"
             for s in range(per)]
        g = "(" + "".join(f"_flat({x}, {dt}), " for x in grads) + ")"
        lr, a = f"{dt}(float({scalars[0]}))", n.attrs
        if n.op == "ApplyGradientDescent":
            call = f"sgd_all({t[0]}, {g}, {lr})"
        elif n.op == "ApplyMomentum":
            call = (f"momentum_all({t[0]}, {t[1]}, {g}, {lr}, {dt}({a['momentum']!r}), "
                    f"{bool(a['nesterov'])})")
        elif n.op == "ApplyAdagrad":
            call = f"adagrad_all({t[0]}, {t[1]}, {g}, {lr}, {dt}({a['epsilon']!r}))"
        elif n.op == "ApplyRMSProp":
            call = (f"rmsprop_all({t[0]}, {t[1]}, {t[2]}, {t[3]}, {g}, {lr}, {dt}({a['rho']!r}), "
                    f"{dt}({1.0 - a['rho']!r}), {dt}({a['momentum']!r}), {dt}({a['epsilon']!r}), "
                    f"{a['mom'] is not None}, {a['mg'] is not None})")
        else:
            b1, b2, eps = a["beta1"], a["beta2"], a["epsilon"]
            self.emit(f"t_{k} = float({scalars[1]})")
            alpha = f"float({scalars[0]}) * math.sqrt(1.0 - {b2!r} ** t_{k}) / (1.0 - {b1!r} ** t_{k})"
            call = (f"adam_all({t[0]}, {t[1]}, {t[2]}, {g}, {dt}({alpha}), "
                    f"{dt}({1.0 - b1!r}), {dt}({1.0 - b2!r}), {dt}({eps!r}))")
        self.emit(f"{call}  # {n.name or n.op}: {len(group)} variable(s) in one loop")

    def dtype(self, v: str) -> np.dtype:
        return np.dtype(self.prog.info[v][1]) if v in self.prog.info else \
            np.dtype(self.prog.consts[v].dtype)


def _nb(dtype: np.dtype) -> str:
    """A dtype as a Numba signature type name."""
    name = np.dtype(dtype).name
    return "boolean" if name == "bool" else name


def _index(shape: tuple, ix: list[str]) -> str:
    """The index of a value of ``shape`` broadcast in a loop nest over ``ix`` (its trailing
    axes align with the loop's last ones; an axis of size 1 is read at 0)."""
    if len(shape) == 0:
        return "[()]"
    loop = ix[len(ix) - len(shape):]
    return "[" + ", ".join("0" if s == 1 else i for s, i in zip(shape, loop)) + "]"


def _matmul(n: Node, a: str, b: str, out: str | None = None) -> str:
    """BLAS product into ``out`` (on the threads the caller lets BLAS have)."""
    ta, tb = n.attrs.get("transpose_a"), n.attrs.get("transpose_b")
    a, b = f"{a}.T" if ta else a, f"{b}.T" if tb else b
    if out is None and "buffer" in n.attrs:
        out = n.attrs["buffer"]
    return f"np.matmul({a}, {b}{f', out={out}' if out else ''})"


def _tuple(result: Any) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _flat(a: Any, dtype: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def load(source: str, prog: Program) -> tuple[Any, _Runtime]:
    """Compile the generated source; its ``run`` with the constants, buffers and kernels
    bound, and the runtime object whose ``be`` the caller sets.

    The module (its kernels) is shared by every program with the same source, in this
    process and through Numba's cache in later ones; each program's ``run`` is that
    function with globals of its own (its constants, buffers and registry kernels)."""
    module = _module(source)
    rt = _Runtime()
    namespace: dict[str, Any] = {
        **module.__dict__, "rt": rt, "_tuple": _tuple, "_flat": _flat,
        "sgd_all": kernels.sgd_all, "momentum_all": kernels.momentum_all,
        "adam_all": kernels.adam_all, "adagrad_all": kernels.adagrad_all,
        "rmsprop_all": kernels.rmsprop_all, **prog.consts}
    for b, (shape, dtype) in prog.buffers.items():
        namespace[b] = np.empty(shape, dtype=dtype)
    for k, n in enumerate(prog.nodes):
        if n.op in KERNEL or n.op in RANDOM or n.attrs.get("fallback"):
            namespace[f"op_{k}"] = registry.get(n.op).forward
            namespace[f"attrs_{k}"] = {a: v for a, v in n.attrs.items()
                                       if a not in ("writes", "fallback")}
    run = module.run
    return types.FunctionType(run.__code__, namespace, run.__name__), rt


def _module(source: str) -> types.ModuleType:
    """The generated source as a module (importable by name: Numba's cache needs that)."""
    name = f"minitf_compiled_{_digest(source)}"
    module = sys.modules.get(name)
    if module is None:
        path = _source_file(source)
        module = types.ModuleType(name)
        module.__file__ = str(path or "<minitf.compiler>")
        module.__dict__.update({"CACHE": path is not None, "math": math, "numba": numba,
                                "np": np})
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        sys.modules[name] = module
    return module


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:24]


def _source_file(source: str) -> Path | None:
    """The generated source as a file named by its hash (Numba caches the kernels of a
    function defined in a file: a later process loads them instead of compiling), or None
    where no cache folder can be written (then the kernels compile in every process)."""
    base = numba.config.CACHE_DIR or os.path.join(os.path.expanduser("~"), ".cache", "minitf")
    path = Path(base) / "minitf_compiler" / f"g{_digest(source)}.py"
    try:
        if not path.is_file() or path.read_text() != source:  # written by us, or redone
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)  # atomic: a concurrent reader sees all of it or nothing
    except OSError:
        return None
    return path
