"""``tf.norm``: vector and matrix norms, composed of element-wise ops and reductions (their
gradients come from those ops), except the matrix 2-norm: one op, an SVD on the host."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, tf_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape, fmt
from . import _rules
from .array_ops import identity, reshape, squeeze, transpose
from .math_ops import abs as _abs
from .math_ops import pow as _pow
from .math_ops import sqrt, square
from .reduction_ops import reduce_max, reduce_sum

_EUCLID = ("euclidean", "fro")

# -- the matrix 2-norm: one op (an SVD on the host), its gradient u1 v1^T ---------------------------


def _spectral_infer(shapes, dtypes, attrs):
    (shape,), (d,) = shapes, dtypes
    _rules.require(d, "f", "the matrix 2-norm")
    if len(shape) < 2:
        raise ShapeError(f"the matrix 2-norm needs at least 2 axes, got shape {fmt(shape)}")
    return [(TensorShape(list(shape)[:-2]), d)]


def _spectral_forward(rt, x):
    return np.linalg.norm(np.asarray(x, np.float64), 2, axis=(-2, -1)).astype(x.dtype)


def _spectral_grad_forward(rt, g, x):
    u, _, vh = np.linalg.svd(np.asarray(x, np.float64))
    outer = u[..., :, :1] * vh[..., :1, :]  # d sigma_max / dx = u1 v1^T
    return (np.asarray(g, np.float64)[..., None, None] * outer).astype(x.dtype)


def _spectral_grad_grad(op, gg):
    from .array_ops import ones_like

    g, x = op.inputs
    outer = execute("MatrixSpectralNormGrad", [ones_like(g), x])
    return [reduce_sum(gg * outer, [-2, -1]), None]


defop("MatrixSpectralNorm", _spectral_infer, _spectral_forward,
      lambda op, g: [execute("MatrixSpectralNormGrad", [g, op.inputs[0]])],
      doc="The largest singular value of each matrix (the last two axes).")
defop("MatrixSpectralNormGrad", lambda shapes, dtypes, attrs: [(shapes[1], dtypes[1])],
      _spectral_grad_forward, _spectral_grad_grad,
      doc="g * u1 v1^T, the gradient of the matrix 2-norm (linear in g; none for x again).")


def _vector_norm(x: Tensor, ord: Any, axis: Any, keepdims: bool) -> Tensor:  # noqa: A002
    if ord in _EUCLID or ord == 2:
        return sqrt(reduce_sum(square(x), axis, keepdims))
    if ord == 1:
        return reduce_sum(_abs(x), axis, keepdims)
    if ord == np.inf:
        return reduce_max(_abs(x), axis, keepdims)
    p = float(ord)
    return _pow(reduce_sum(_pow(_abs(x), p), axis, keepdims), 1.0 / p)


def _matrix_norm(x: Tensor, ord: Any, axes: tuple[int, int], keepdims: bool) -> Tensor:  # noqa: A002
    rows, cols = axes
    if ord in _EUCLID:
        return sqrt(reduce_sum(square(x), axes, keepdims))
    if ord == 1:  # the largest column sum
        col_sums = reduce_sum(_abs(x), rows, keepdims=True)
        out = reduce_max(col_sums, cols, keepdims=True)
    elif ord == np.inf:  # the largest row sum
        row_sums = reduce_sum(_abs(x), cols, keepdims=True)
        out = reduce_max(row_sums, rows, keepdims=True)
    elif ord == 2:  # the largest singular value
        rank = len(x.shape)
        rest = [a for a in range(rank) if a not in axes]
        out = execute("MatrixSpectralNorm", [transpose(x, [*rest, rows, cols])])
        if not keepdims:
            return out
        return reshape(out, [1 if a in axes else x.shape[a] for a in range(rank)])
    else:
        raise ValueError(f"norm: matrix ord {ord!r} is not supported; use 'euclidean', "
                         "'fro', 1, 2 or np.inf")
    return out if keepdims else squeeze(out, axis=list(axes))


@tf_export("norm", "linalg.norm")
def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None,  # noqa: A002 - TF's name
         keepdims: bool | None = None, name: str | None = None) -> Tensor:
    """The ``ord``-norm of ``tensor``: a vector norm over all values (``axis=None``) or along
    one axis, or a matrix norm over two axes (``axis=(rows, cols)``).

    ``ord``: ``'euclidean'`` (default; Frobenius for matrices), ``'fro'``, 1, 2, ``np.inf`` or
    any p > 0 for vectors; ``'euclidean'``, ``'fro'``, 1, 2 (the largest singular value) and
    ``np.inf`` for matrices.
    """
    x = convert_to_tensor(tensor)
    keepdims = bool(keepdims)
    axes = None if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    is_matrix = axes is not None and len(axes) == 2
    if isinstance(ord, str):
        if ord not in _EUCLID:
            raise ValueError(f"norm: ord must be 'euclidean', 'fro', 1, 2, np.inf or a number "
                             f"> 0, got {ord!r}")
        if ord == "fro" and axes is not None and not is_matrix:
            raise ValueError("norm: 'fro' is a matrix norm; give axis as a pair of axes")
    elif not (isinstance(ord, int | float) and ord > 0):
        raise ValueError(f"norm: ord must be 'euclidean', 'fro', 1, 2, np.inf or a number > 0, "
                         f"got {ord!r}")
    if axes is not None and len(axes) not in (1, 2):
        raise ValueError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}")
    if not x.dtype.is_floating:
        raise TypeError(f"norm: input must be a float tensor, got {x.dtype.name}")
    if is_matrix:
        rank = len(x.shape)
        pair = tuple(_rules.norm_axis(int(a), rank) for a in axes)
        if pair[0] == pair[1]:
            raise ValueError(f"norm: the two axes must differ, got {axis!r}")
        out = _matrix_norm(x, ord, pair, keepdims)
    else:
        out = _vector_norm(x, ord, axes, keepdims)
    return identity(out, name=name) if name else out
