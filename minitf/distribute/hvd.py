"""A Horovod-style API on MPI: ``import minitf.distribute.hvd as hvd``.

Launch with ``mpiexec -n 2 python train.py``; without a launcher every call works on a
1-process world. As in Horovod, ``allreduce`` averages by default, each worker reads its own
shard of the data (``dataset.shard(hvd.size(), hvd.rank())``), and only the collectives
synchronize the workers. ``allreduce``, ``DistributedGradientTape`` and
``DistributedOptimizer`` also work inside ``tf.function`` (fit's traced step); ``allgather``,
``broadcast`` and ``broadcast_variables`` run eagerly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..framework import nest
from ..framework.backprop import GradientTape
from ..framework.execute import convert_to_tensor
from ..framework.tensor import Tensor
from ..keras.callbacks import Callback
from . import collective
from ._mpi import world

Average = "Average"
Sum = "Sum"


def init() -> None:
    """Start MPI (when launched by mpiexec/srun) and make any uncaught error abort the job."""
    world()


def rank() -> int:
    """This worker's index in the job, 0 .. size() - 1."""
    return world().rank


def size() -> int:
    """The number of workers."""
    return world().size


def local_rank() -> int:
    """This worker's index among the workers on its machine."""
    return world().local_rank


def _op(average: bool | None, op: str | None) -> bool:
    if average is not None and op is not None:
        raise ValueError("hvd.allreduce: pass either average= or op=, not both")
    if op is not None and op not in (Average, Sum):
        raise ValueError(f"hvd.allreduce: op must be hvd.Average or hvd.Sum, got {op!r}")
    return op != Sum if average is None else bool(average)


def allreduce(tensor: Any, average: bool | None = None, name: str | None = None,
              op: str | None = None) -> Tensor:
    """The mean (default, ``op=hvd.Average``) or sum (``op=hvd.Sum``) of ``tensor`` over all
    workers, the same on every worker."""
    return collective.allreduce_fused([tensor], _op(average, op))[0]


def allgather(tensor: Any, name: str | None = None) -> Tensor:
    """Every worker's ``tensor`` concatenated along axis 0 in rank order (first dims may
    differ)."""
    return convert_to_tensor(world().allgather(collective.to_numpy(tensor)))


def broadcast(tensor: Any, root_rank: int, name: str | None = None) -> Tensor:
    """Worker ``root_rank``'s value of ``tensor`` on every worker."""
    return convert_to_tensor(world().broadcast(collective.to_numpy(tensor), root_rank))


def broadcast_variables(variables: Iterable[Any], root_rank: int) -> None:
    """Assign worker ``root_rank``'s value to each variable on every worker."""
    collective.broadcast_variables(list(variables), root_rank)


class _Reducer:
    """What an optimizer calls on its gradients before applying them (see
    ``Optimizer.apply_gradients``): the Horovod flavour, no data sharding by fit."""

    def __init__(self, average: bool) -> None:
        self.average = average

    @property
    def _is_chief(self) -> bool:
        return world().rank == 0

    def _distribute_fit_data(self, model: Any, data: Any) -> Any:
        return data  # Horovod users shard their data themselves

    def _worker_callbacks(self, callbacks: Any) -> Any:
        return callbacks  # ... and write checkpoints only `if hvd.rank() == 0`

    def _reduce_gradients(self, pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        grads = collective.allreduce_fused([g for g, _ in pairs], self.average)
        return list(zip(grads, [v for _, v in pairs]))


class DistributedGradientTape:
    """Wraps a ``tf.GradientTape``: ``gradient()`` returns the gradients all-reduced over the
    workers (averaged unless ``op=hvd.Sum``)."""

    def __init__(self, gradtape: GradientTape, op: str = Average, **kwargs: Any) -> None:
        self._tape = gradtape
        self._average = _op(None, op)

    def __getattr__(self, name: str) -> Any:  # watch, stop_recording, ...: the wrapped tape's
        return getattr(self._tape, name)

    def __enter__(self) -> DistributedGradientTape:
        self._tape.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._tape.__exit__(*exc)

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None) -> Any:
        grads = self._tape.gradient(target, sources, output_gradients=output_gradients)
        flat = nest.flatten(grads)
        kept = [i for i, g in enumerate(flat) if g is not None]
        reduced = collective.allreduce_fused([flat[i] for i in kept], self._average)
        for i, g in zip(kept, reduced):
            flat[i] = g
        return nest.pack_sequence_as(grads, flat)


def DistributedOptimizer(optimizer: Any, op: str = Average, **kwargs: Any) -> Any:  # noqa: N802
    """``optimizer``, changed in place to all-reduce its gradients before each update (averaged
    unless ``op=hvd.Sum``); returned for ``model.compile(optimizer=hvd.DistributedOptimizer(...))``.
    """
    optimizer._distribute_strategy = _Reducer(_op(None, op))
    return optimizer


class BroadcastGlobalVariablesCallback(Callback):
    """Broadcasts the model's variables from ``root_rank`` when training begins (if the model
    is built), and the model's and the optimizer's after the first batch (when both exist), so
    every worker continues from the same state. (Horovod broadcasts only after the first
    batch.)"""

    def __init__(self, root_rank: int = 0, *args: Any) -> None:
        super().__init__()
        self.root_rank = root_rank
        self.broadcast_done = False

    def on_train_begin(self, logs: Any = None) -> None:
        if self.model.built:
            broadcast_variables(self.model.weights, self.root_rank)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.broadcast_done:
            return
        variables = list(self.model.weights)
        if self.model.optimizer is not None:
            variables += list(self.model.optimizer.variables)
        broadcast_variables(variables, self.root_rank)
        self.broadcast_done = True
