"""Collectives on tensors and variables: the NumPy world of ``_mpi`` with minitf's types.

Gradients are all-reduced fused: every gradient of one dtype is packed into one flat buffer,
reduced with one MPI call and unpacked (Horovod's tensor fusion), so a model with many small
weights pays one latency per step instead of one per weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..framework.execute import convert_to_tensor
from ..framework.tensor import Tensor, is_symbolic
from ..framework.variables import Variable
from ._mpi import world


def to_numpy(x: Any, what: str = "tensor") -> np.ndarray:
    """An eager tensor, variable or array as a NumPy array; a symbolic tensor is refused."""
    if is_symbolic(x):
        raise TypeError(f"minitf.distribute: the {what} is symbolic (inside tf.function or a "
                        "graph); MPI collectives run eagerly: call them outside tf.function, or "
                        "compile(..., run_eagerly=True)")
    if isinstance(x, Tensor | Variable):
        return np.asarray(x.numpy())
    return np.asarray(x)


def allreduce_fused(values: Sequence[Any], average: bool) -> list[Tensor]:
    """The sum (or mean) over all workers of each value, one MPI call per dtype."""
    w = world()
    if w.size == 1:  # nothing to exchange: works inside tf.function too
        return [convert_to_tensor(v) for v in values]
    arrays = [to_numpy(v, "gradient") for v in values]
    out: list[np.ndarray | None] = [None] * len(arrays)
    for dtype in dict.fromkeys(a.dtype for a in arrays):
        idx = [i for i, a in enumerate(arrays) if a.dtype == dtype]
        flat = w.allreduce_sum(np.concatenate([arrays[i].ravel() for i in idx]))
        if average:
            flat = (flat / w.size).astype(dtype, copy=False)
        at = 0
        for i in idx:
            n = arrays[i].size
            out[i] = flat[at:at + n].reshape(arrays[i].shape)
            at += n
    return [convert_to_tensor(a) for a in out]


def broadcast_variables(variables: Sequence[Variable], root_rank: int = 0) -> None:
    """Give every variable rank ``root_rank``'s value, one MPI call per variable."""
    w = world()
    if w.size == 1:
        return
    for v in variables:
        v.assign(w.broadcast(to_numpy(v, "variable"), root_rank))
