"""Lowering rules: how each supported op becomes Python source.

* :data:`ELEMENTWISE`: a scalar expression template per element-wise op (``{0}``, ``{1}`` are
  its inputs). Element-wise nodes become ``numba.vectorize`` kernels (one loop over the
  broadcast shape, dtypes fixed by the IR), alone or fused with their neighbours.
* :data:`ARRAY`: a whole-array expression template per other op, with its attrs; GEMMs call
  the active backend's ``matmul`` (``be``; BLAS under the Numba backend).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ELEMENTWISE: dict[str, str] = {
    "AddV2": "({0} + {1})",
    "Add": "({0} + {1})",
    "BiasAdd": "({0} + {1})",
    "Sub": "({0} - {1})",
    "Mul": "({0} * {1})",
    "RealDiv": "({0} / {1})",
    "Neg": "(-{0})",
    "Square": "({0} * {0})",
    "Exp": "math.exp({0})",
    "Log": "math.log({0})",
    "Sqrt": "math.sqrt({0})",
    "Tanh": "math.tanh({0})",
    "Sigmoid": "(1 / (1 + math.exp(-{0})))",
    "Relu": "max({0}, 0)",
    "Maximum": "max({0}, {1})",
    "Minimum": "min({0}, {1})",
}


def _axis(attrs: dict) -> str:
    axis = attrs.get("axis")
    return repr(tuple(axis) if isinstance(axis, list) else axis)


def _reduce(fn: str) -> Any:
    return lambda n, a: (f"np.asarray(np.{fn}({a[0]}, axis={_axis(n.attrs)}, "
                         f"keepdims={bool(n.attrs.get('keepdims', False))}), "
                         f"dtype=np.{n.dtypes[0].name})")


def _matmul(n: Any, a: list[str]) -> str:
    # the active backend's product: BLAS on one thread under the Numba backend (BLAS's own
    # threads would spin after each product on a small machine: 14x slower, measured)
    ta, tb = bool(n.attrs.get("transpose_a")), bool(n.attrs.get("transpose_b"))
    return f"be.matmul({a[0]}, {a[1]}, {ta}, {tb})"


ARRAY: dict[str, Any] = {
    "MatMul": _matmul,
    "Sum": _reduce("sum"),
    "Mean": _reduce("mean"),
    "Max": _reduce("max"),
    "Reshape": lambda n, a: f"np.reshape({a[0]}, {tuple(n.attrs['shape'])!r})",
    "Identity": lambda n, a: a[0],
    "Cast": lambda n, a: f"{a[0]}.astype(np.{n.dtypes[0].name})",
    "SparseSoftmaxCrossEntropyWithLogits": lambda n, a: f"sparse_xent({a[0]}, {a[1]})",
}

SUPPORTED = frozenset(ELEMENTWISE) | frozenset(ARRAY)


def sparse_xent(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-example loss and its gradient wrt the logits (as the op's two outputs)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=-1, keepdims=True)
    rows = np.arange(labels.shape[0])
    loss = (np.log(s[:, 0]) - z[rows, labels]).astype(logits.dtype)
    grad = e / s
    grad[rows, labels] -= 1
    return loss, grad.astype(logits.dtype)
