"""Collectives on tensors and variables: the NumPy world of ``_mpi`` with minitf's types.

Gradients are all-reduced fused: every gradient of one dtype is packed into one flat buffer,
reduced in place with one MPI call and unpacked as views (Horovod's tensor fusion), so a model
with many small weights pays one latency per step instead of one per weight, and one copy of
its gradients. Inside ``tf.function`` packing and MPI call are one ``tf.numpy_function``, so a
traced step all-reduces each time it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..framework.context import init_scope
from ..framework.execute import convert_to_tensor
from ..framework.tensor import Tensor, is_symbolic
from ..framework.variables import Variable
from ..ops import array_ops, script_ops
from ._mpi import world


def to_numpy(x: Any, what: str = "tensor") -> np.ndarray:
    """An eager tensor, variable or array as a NumPy array; a symbolic tensor is refused."""
    if is_symbolic(x):
        raise TypeError(f"minitf.distribute: the {what} is symbolic (inside tf.function or a "
                        "graph); only all-reduce runs in a graph: call this outside tf.function")
    if isinstance(x, Tensor | Variable):
        return np.asarray(x.numpy())
    return np.asarray(x)


def allreduce_fused(values: Sequence[Any], average: bool) -> list[Tensor]:
    """The sum (or mean) over all workers of each value, one MPI call per dtype."""
    w = world()
    if w.size == 1:  # nothing to exchange: works inside tf.function too
        return [convert_to_tensor(v) for v in values]
    tensors = [convert_to_tensor(v) for v in values]
    if any(is_symbolic(t) for t in tensors):
        return _allreduce_in_graph(tensors, average)
    arrays = [np.asarray(t) for t in tensors]  # the tensors' own buffers, only read
    out: list[np.ndarray | None] = [None] * len(arrays)
    for dtype in dict.fromkeys(a.dtype for a in arrays):
        idx = [i for i, a in enumerate(arrays) if a.dtype == dtype]
        flat, at = _reduce_flat([arrays[i] for i in idx], average), 0
        for i in idx:
            n = arrays[i].size
            out[i] = flat[at:at + n].reshape(arrays[i].shape)
            at += n
    return [convert_to_tensor(a) for a in out]


def _reduce_flat(arrays: Sequence[np.ndarray], average: bool) -> np.ndarray:
    """The arrays (one dtype) packed into one new flat buffer and summed over the workers
    (``World.allreduce_sum_packed``: through the node's shared memory, or MPI's in-place
    all-reduce), then divided in place by the number of workers when ``average``.

    The packing is the only copy of the gradients: no concat op before and no send/receive
    buffer pair; the caller's slices of the result are views.
    """
    w = world()
    flat = w.allreduce_sum_packed(arrays)
    if not average:
        return flat
    if flat.dtype.kind in "fc":
        return np.divide(flat, w.size, out=flat)  # the same rounding as flat / size
    return (flat / w.size).astype(flat.dtype)  # integers: the mean truncated, as before


def _allreduce_in_graph(values: list[Tensor], average: bool) -> list[Tensor]:
    """``allreduce_fused`` as graph ops: per dtype one ``numpy_function`` that packs, reduces
    and scales (``_reduce_flat``), then views of its result reshaped."""
    out: list[Tensor | None] = [None] * len(values)
    for dtype in dict.fromkeys(v.dtype for v in values):
        idx = [i for i, v in enumerate(values) if v.dtype == dtype]
        sizes = [values[i].shape.num_elements() for i in idx]
        if None in sizes:
            raise ValueError("minitf.distribute: all-reduce in a graph needs fully known shapes, "
                             f"got {[str(values[i].shape) for i in idx]}")

        def reduce(*arrays: np.ndarray) -> np.ndarray:
            return _reduce_flat(arrays, average)

        total = script_ops.numpy_function(reduce, [values[i] for i in idx], dtype,
                                          shape=[sum(sizes)])
        at = 0
        for i, n in zip(idx, sizes):
            out[i] = array_ops.reshape(array_ops.slice(total, [at], [n]), values[i].shape)
            at += n
    return out


def allreduce_variables(variables: Sequence[Variable]) -> None:
    """Give every variable the sum of its values over the workers (one fused call)."""
    if world().size == 1 or not variables:
        return
    with init_scope():
        for v, total in zip(variables, allreduce_fused(variables, average=False)):
            v.assign(total)


def broadcast_variables(variables: Sequence[Variable], root_rank: int = 0) -> None:
    """Give every variable rank ``root_rank``'s value, one MPI call per variable."""
    w = world()
    if w.size == 1:
        return
    with init_scope():  # assign now, also while tf.function traces (not an op of the graph)
        for v in variables:
            v.assign(w.broadcast(to_numpy(v, "variable"), root_rank))
