"""``tf.distribute``: data-parallel training on MPI (``mpiexec -n 2 python train.py``).

Reached lazily (``tf.distribute`` imports this package on first use); mpi4py is imported only
when an MPI launcher started the process. ``minitf.distribute.hvd`` is the Horovod-style API.
"""

from __future__ import annotations

from typing import Any

from ..framework import context
from .mirrored import MirroredStrategy, PerReplica
from .strategy import ClusterResolver, MultiWorkerMirroredStrategy, ReduceOp


def get_strategy() -> Any:
    """The strategy whose ``scope()`` (or ``run``) is active, else None (minitf differs: TF
    returns a default strategy object)."""
    return context.state.strategy


def has_strategy() -> bool:
    """Whether a strategy's ``scope()`` is active."""
    return context.state.strategy is not None


__all__ = ["ClusterResolver", "MirroredStrategy", "MultiWorkerMirroredStrategy", "PerReplica",
           "ReduceOp", "get_strategy", "has_strategy"]
