"""CONTRIBUTING.md's recipe for an element-wise op, followed at run time with a throw-away op
(``tests/test_recipe.py``; ``tests/cudasim/test_recipe_gpu.py`` on the GPU simulator):

1. a ``kernel_table`` row (here added to the table's dicts instead of its source),
2. one op definition in ``minitf/ops/math_ops.py`` with its names and device flag,
3. one test case in ``tests/op_cases.py``.

The generated kernel files are not rewritten: the backends compile a table entry they have
not seen from the same source the generators write (``codegen.KernelTable``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from op_cases import OpCase, floats

import minitf as tf
from minitf.backends import kernel_table
from minitf.framework import registry
from minitf.ops import math_ops

OP, KERNEL, NAMES = "ThrowawayCube", "throwaway_cube", ("math.throwaway_cube", "throwaway_cube")


def _tables() -> list[dict]:
    """Every backend table that may have compiled the kernel (imported ones only)."""
    import sys

    from minitf.backends import numpy_backend

    tables = [numpy_backend.UNARY]
    for mod in ("minitf.backends.numba_cpu.elementwise", "minitf.backends.cuda.elementwise"):
        if mod in sys.modules:
            tables.append(sys.modules[mod].UNARY_KERNELS)
    return tables


@contextlib.contextmanager
def throwaway_op() -> Iterator[OpCase]:
    """Add op ``ThrowawayCube`` (``tf.math.throwaway_cube``: x**3) by the recipe; yield its
    test case; remove every trace of it afterwards."""
    # 1. the kernel_table row: name, scalar expression, doc
    kernel_table.UNARY[KERNEL] = "x * x * x"
    kernel_table.DOC[KERNEL] = "x**3."
    try:
        # 2. the op definition: shape rule, kernel and gradient, names and device, one line
        math_ops._unary(OP, KERNEL, "fi", lambda op, g: [g * 3.0 * math_ops.square(op.inputs[0])],
                        "x**3.", api=NAMES, device="kernels")
        # 3. the test case
        yield OpCase(OP, tf.math.throwaway_cube, (floats(2, 3),), (0,))
    finally:
        if OP in registry.all_ops():
            registry.unregister(OP)
        for table in _tables():
            table.pop(KERNEL, None)
        del kernel_table.UNARY[KERNEL], kernel_table.DOC[KERNEL]
