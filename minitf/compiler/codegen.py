"""Source generation: one Python module per program, with a ``numba.vectorize`` kernel per
element-wise (possibly fused) node and whole-array NumPy calls for the rest (GEMMs through the
active backend's ``matmul``, BLAS).

The module's ``run(be, inputs..., variables...)`` returns the outputs as a tuple. Kernels have
explicit signatures from the IR's dtypes, so they compile eagerly, once, when the source is
loaded (exec'd source has no file, so Numba's on-disk ``cache=True`` cannot apply: the
compiled function is cached in memory per signature instead).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .ir import Program
from .rules import ARRAY, sparse_xent


def generate(prog: Program) -> str:
    """The source of the module running ``prog``."""
    head = ["import math", "import numba", "import numpy as np", ""]
    body = []
    args = ["be", *prog.inputs, *prog.variables]  # be: the active backend, per call
    for k, n in enumerate(prog.nodes):
        if n.op == "Fused":
            dt = {v: _dtype_of(prog, v) for v in n.inputs}
            sig = f"{n.dtypes[0].name}({', '.join(dt[v] for v in n.inputs)})"
            head += [f"@numba.vectorize([{sig!r}])",
                     f"def kernel_{k}({', '.join(n.inputs)}):  # {' -> '.join(n.attrs['ops'])}",
                     f"    return {n.attrs['expr']}", ""]
            body.append(f"    {n.outputs[0]} = kernel_{k}({', '.join(n.inputs)})")
        else:
            rhs = ARRAY[n.op](n, n.inputs)
            body.append(f"    {', '.join(n.outputs)} = {rhs}  # {n.op} '{n.name}'")
    outs = ", ".join(f"np.asarray({o})" for o in prog.outputs)
    return "\n".join(head + [f"def run({', '.join(args)}):"] + body
                     + [f"    return ({outs},)", ""])


def _dtype_of(prog: Program, v: str) -> str:
    if v in prog.consts:
        return prog.consts[v].dtype.name
    if v in prog.variables:
        return prog.variables[v].dtype.np.name
    for n in prog.nodes:
        if v in n.outputs:
            return n.dtypes[n.outputs.index(v)].name
    return prog.input_dtypes[v]


def load(source: str, prog: Program) -> Any:
    """Compile the generated source; its ``run`` with the constants bound."""
    namespace: dict[str, Any] = {"math": math, "numba": numba, "np": np,
                                 "sparse_xent": sparse_xent, **prog.consts}
    exec(compile(source, "<minitf.compiler>", "exec"), namespace)
    return namespace["run"]
