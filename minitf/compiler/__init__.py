"""A small graph compiler for ``tf.function(jit_compile=True)``: XLA's idea, readable.

A traced ConcreteFunction's graph is lowered to a straight-line IR (``ir.py``), passes run
over it (``passes.py``: dead-code elimination, constant folding, element-wise fusion), and
one Python module is generated per traced signature (``codegen.py``): the backend's BLAS
product for GEMMs, NumPy for reductions, one ``numba.vectorize`` loop per fused element-wise chain. It is
compiled once and reused by every call of that ConcreteFunction.

Read what it made: ``f.experimental_get_compiler_ir(*args)()`` returns the generated source;
``(stage="lowered")`` or ``(stage=<pass name>)`` the IR before or after each pass.

Done: the forward of functions built from the ops in ``rules.SUPPORTED`` (an MLP forward and
its loss); an op without a lowering rule raises UnimplementedError naming it, as TF's
jit_compile=True does; so does a function with side effects (variable assignments, random
ops). A tape outside the call still differentiates it, with the uncompiled backward graph.
``model.compile(jit_compile=True)`` compiles the steps the compiler can lower (``predict``)
and runs the others op by op, saying why in one printed line;
``tf.config.optimizer.set_jit_verbose(True)`` prints each generated source.
Not done (issue 17): compiling gradients and optimizer updates (so training steps fall back),
GEMM epilogue fusion, buffer reuse from liveness, on-disk caching, fallback to op-by-op for
part of a ``tf.function``.

Nothing in the core imports this package: ``minitf/__init__.py`` hands the framework a
function that imports it on the first ``jit_compile=True`` trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backends import get_backend
from ..config import get_jit_verbose
from ..framework.errors import UnimplementedError
from ..framework.tensor import Tensor
from . import codegen, ir, passes, rules

__all__ = ["CompiledFunction", "compile_function"]

DEFAULT_PASSES = ("dead_code", "fold_constants", "fuse_elementwise")


class CompiledFunction:
    """A ConcreteFunction's graph compiled to one generated Python/Numba function."""

    def __init__(self, concrete: Any, pass_names: Sequence[str] = DEFAULT_PASSES) -> None:
        """Compile ``concrete`` running ``pass_names`` (a subset of ``DEFAULT_PASSES``, in
        order); without ``fuse_elementwise`` every element-wise op gets its own loop."""
        outputs = concrete.outputs
        for o in outputs:
            if not isinstance(o, Tensor):
                raise UnimplementedError(f"jit_compile=True: the function returns operation "
                                         f"'{o.name}'; only tensors can be compiled")
        for op in concrete.graph.get_operations():
            if op.opdef.stateful and op.type not in ("ReadVariableOp", "Placeholder"):
                raise UnimplementedError(
                    f"jit_compile=True: op {op.type} ('{op.name}') changes state or draws "
                    "random numbers; minitf.compiler has no lowering rule for it")
        prog = ir.lower(concrete.graph, concrete.inputs, outputs, rules.SUPPORTED)
        self.stages = {"lowered": str(prog)}
        for name in pass_names:
            prog = passes.PASSES[name](prog)
            self.stages[name] = str(prog)
        if "fuse_elementwise" not in pass_names:
            prog = passes.one_kernel_per_op(prog)
        self.program = prog
        self.source = codegen.generate(prog)
        self.fusions = sum(1 for n in prog.nodes if n.op == "Fused" and len(n.attrs["ops"]) > 1)
        self._run = codegen.load(self.source, prog)
        self._variables = list(prog.variables.values())

    def __call__(self, arrays: Sequence[np.ndarray]) -> tuple:
        return self._run(get_backend(), *arrays, *[v._value for v in self._variables])

    def ir(self, stage: str = "source") -> str:
        """The generated source (``"source"``), or the IR after ``stage`` (a pass name, or
        ``"lowered"`` for before the passes)."""
        if stage == "source":
            return self.source
        if stage not in self.stages:
            raise ValueError(f"unknown stage {stage!r}; stages: source, {', '.join(self.stages)}")
        return self.stages[stage]


def compile_function(concrete: Any) -> CompiledFunction:
    """Compile a ConcreteFunction (raises UnimplementedError naming an op it cannot lower);
    prints the generated source under ``tf.config.optimizer.set_jit_verbose(True)``."""
    compiled = CompiledFunction(concrete)
    if get_jit_verbose():
        args = ", ".join(p.name for p in concrete.inputs)
        print(f"# minitf.compiler: inputs {args}; {compiled.fusions} fusions\n{compiled.source}")
    return compiled
