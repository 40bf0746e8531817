"""A small graph compiler for ``tf.function(jit_compile=True)``: XLA's idea, readable.

A traced ConcreteFunction's graph (a forward pass, or a whole training step: forward,
gradients, optimizer update, metric updates) is lowered to a straight-line IR (``ir.py``),
passes run over it (``passes.py``: dead-code elimination, constant folding, element-wise
fusion, GEMM epilogue fusion, one fused optimizer update, buffers planned from a liveness
analysis), and one Python module is generated per traced signature (``codegen.py``): BLAS
for GEMMs, Numba loops for fused element-wise chains and epilogues, the optimizer kernels
of ``kernels.py`` for the updates, NumPy for the rest. It is compiled once and reused by
every call of that ConcreteFunction; variables are read and written by it, the optimizer's
in place (``state.py``).

Read what it made: ``f.experimental_get_compiler_ir(*args)()`` returns the generated source;
``(stage="lowered")`` or ``(stage=<pass name>)`` the IR before or after each pass;
``CompiledFunction.fusions`` counts what was fused.

Random ops (dropout) draw from minitf's generators in the graph's order, so a seeded
compiled step draws what the op-by-op step draws. An op without a lowering rule (see
``rules.SUPPORTED``) raises UnimplementedError naming it, as TF's jit_compile=True does.
``model.compile(jit_compile=True)`` compiles non-strictly: such an op, if it changes no
state, runs op by op (its registry kernel) inside the compiled step, and one printed line
names it; a step with an unlowerable stateful op (``ApplyRMSProp``...) runs op by op whole,
one printed line saying why. A tape outside the call still differentiates it, with the
uncompiled backward graph.
``tf.config.optimizer.set_jit_verbose(True)`` prints each generated source.
Optimizer updates with a fused kernel: SGD, momentum (Nesterov), Adam, Adagrad, RMSprop
(momentum, centered). Not done: GPU variables (with a GPU in use, functions run op by op);
on a dimension known only at run time, fused loops are ``numba.vectorize`` kernels, which
Numba cannot cache on disk.

Nothing in the core imports this package: ``minitf/__init__.py`` hands the framework a
function that imports it on the first ``jit_compile=True`` trace.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backends import get_backend
from ..backends.numba_cpu import workers
from ..config import get_jit_verbose
from ..framework import device as _device
from ..framework.errors import UnimplementedError
from ..framework.tensor import Tensor
from . import codegen, ir, passes, rules, state

__all__ = ["CompiledFunction", "compile_function"]

DEFAULT_PASSES = ("dead_code", "fold_constants", "fuse_elementwise", "fuse_gemm_epilogue",
                  "fuse_column_sums", "fuse_optimizer", "plan_buffers")


class CompiledFunction:
    """A ConcreteFunction's graph compiled to one generated Python/Numba function."""

    def __init__(self, concrete: Any, pass_names: Sequence[str] = DEFAULT_PASSES,
                 strict: bool = True) -> None:
        """Compile ``concrete`` running ``pass_names`` (a subset of ``DEFAULT_PASSES``, in
        order); without ``fuse_elementwise`` every element-wise op gets its own loop.
        ``strict=False``: a stateless op without a lowering rule runs op by op inside the
        program (``self.fallbacks`` lists them) instead of raising."""
        if _device.ACTIVE and _device.gpu_available():
            raise UnimplementedError("jit_compile=True: minitf.compiler generates CPU code; "
                                     "with a GPU in use the function runs op by op")
        outputs = [o for o in concrete.outputs if isinstance(o, Tensor)]
        effects = [op for op in concrete.graph.get_operations()
                   if op.opdef.stateful and op.type not in ("ReadVariableOp", "Placeholder")]
        effects += [o for o in concrete.outputs if not isinstance(o, Tensor)]
        self._returns_op = [not isinstance(o, Tensor) for o in concrete.outputs]
        for op in effects:
            if op.type not in rules.SUPPORTED:
                raise UnimplementedError(
                    f"jit_compile=True: op {op.type} ('{op.name}') changes state or draws "
                    "random numbers; minitf.compiler has no lowering rule for it")
        prog = ir.lower(concrete.graph, concrete.inputs, outputs, rules.SUPPORTED, effects,
                        strict)
        self.fallbacks = list(prog.fallbacks)
        self.stages = {"lowered": str(prog)}
        for name in pass_names:
            if name == "plan_buffers" and "fuse_elementwise" not in pass_names:
                prog = passes.one_kernel_per_op(prog)
            prog = passes.PASSES[name](prog)
            self.stages[name] = str(prog)
        if "fuse_elementwise" not in pass_names and "plan_buffers" not in pass_names:
            prog = passes.one_kernel_per_op(prog)
        self.program = prog
        self.source, self._writeback = codegen.generate(prog)
        self.fusion_counts = _count_fusions(prog)
        c = self.fusion_counts
        self.fusions = (c["elementwise"] + c["gemm_epilogue"] + c["column_sum"]
                        + c["optimizer_groups"])
        self._run, self._rt = codegen.load(self.source, prog)
        inplace = {id(v): v for n in prog.nodes if n.op in rules.OPTIMIZERS
                   for v in n.attrs["writes"]}
        entry = list(prog.variables.values())
        self._inplace = state.InPlace(list(inplace.values()))
        # per entry argument: its position among the in-place buffers, or -1 (read as is)
        order = {i: k for k, i in enumerate(inplace)}
        self._slots = [order.get(id(v), -1) for v in entry]
        self._entry = entry
        self._lock = threading.Lock()
        # BLAS keeps its own threads for a program of GEMMs and loops (MNIST MLP epoch,
        # quiet 2-core VM: batch 128 0.34 -> 0.24 s, batch 32 0.57 -> 0.53 s); a program
        # calling the convolution kernels, which split the batch over the cores themselves,
        # runs BLAS on one thread (else its spinning threads slow them: CNN step 6.3 -> 9.9 ms)
        self._blas = (workers.single_threaded_blas
                      if any(n.op in rules.SPLIT_KERNEL for n in prog.nodes)
                      else contextlib.nullcontext)

    def __call__(self, arrays: Sequence[np.ndarray]) -> tuple:
        """The outputs for the input ``arrays`` (``None`` where the function returns an
        operation); variables are read and written as the traced graph says."""
        with self._lock, self._blas():
            self._rt.be = get_backend()
            owned = self._inplace.arrays()
            state_args = [owned[s] if s >= 0 else v._value
                          for s, v in zip(self._slots, self._entry)]
            outs, written = self._run(*arrays, *state_args)
            for var, value in zip(self._writeback, written):  # new arrays, made by run
                value.flags.writeable = False
                var._value = value
        if not any(self._returns_op):
            return outs
        it = iter(outs)
        return tuple(None if op else next(it) for op in self._returns_op)

    def ir(self, stage: str = "source") -> str:
        """The generated source (``"source"``), or the IR after ``stage`` (a pass name, or
        ``"lowered"`` for before the passes)."""
        if stage == "source":
            return self.source
        if stage not in self.stages:
            raise ValueError(f"unknown stage {stage!r}; stages: source, {', '.join(self.stages)}")
        return self.stages[stage]


def _count_fusions(prog: ir.Program) -> dict[str, int]:
    """What the passes fused: element-wise loops of two ops or more, GEMM epilogues (and the
    column sums among them), optimizer updates merged into one kernel call."""
    counts = {"elementwise": 0, "gemm_epilogue": 0, "column_sum": 0, "optimizer": 0,
              "optimizer_groups": 0, "buffers": len(prog.buffers)}
    for n in prog.nodes:
        if n.op == "Fused" and len([o for o in n.attrs["ops"] if o != "SumToShapeOf"]) > 1:
            counts["elementwise"] += 1
        if n.op == "Gemm":
            counts["gemm_epilogue"] += 1
        if n.op in ("Fused", "Gemm"):
            counts["column_sum"] += len(n.outputs) > 1
        elif n.op in rules.OPTIMIZERS and len(n.attrs.get("group", ())) > 1:
            counts["optimizer"] += len(n.attrs["group"])
            counts["optimizer_groups"] += 1
    return counts


def compile_function(concrete: Any, strict: bool = True) -> CompiledFunction:
    """Compile a ConcreteFunction (raises UnimplementedError naming an op it cannot lower;
    with ``strict=False`` only for ops that change state, the others run op by op inside the
    program and one printed line names them); prints the generated source under
    ``tf.config.optimizer.set_jit_verbose(True)``."""
    compiled = CompiledFunction(concrete, strict=strict)
    if compiled.fallbacks:
        print(f"jit_compile: no lowering rule, run op by op inside the compiled step: "
              f"{', '.join(compiled.fallbacks)}")
    if get_jit_verbose():
        args = ", ".join(p.name for p in concrete.inputs)
        fused = ", ".join(f"{k} {v}" for k, v in compiled.fusion_counts.items())
        print(f"# minitf.compiler: inputs {args}; fusions: {fused}\n{compiled.source}")
    return compiled
