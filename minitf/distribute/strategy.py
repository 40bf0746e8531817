"""``tf.distribute.MultiWorkerMirroredStrategy`` on MPI: synchronous data parallelism.

Every worker holds the whole model; each global batch is split between the workers; the
gradients are all-reduced (fused into one buffer per dtype) before every update, so all
workers apply the same update and keep identical weights.

Variables created in ``scope()`` (or inside ``run``) take rank 0's value at creation, as in
TensorFlow; a model built later by ``fit`` is synchronized before its first step. Where minitf
differs: the per-batch loss ``fit`` prints is rank 0's share's (the epoch's logs are global).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..framework import context, nest
from ..framework.execute import convert_to_tensor
from ..framework.variables import Variable
from ..ops import random_ops
from . import collective
from ._mpi import world


class ReduceOp(enum.Enum):
    """How ``strategy.reduce`` combines the workers' values."""

    SUM = "SUM"
    MEAN = "MEAN"


class ClusterResolver:
    """Where this worker is: ``task_type`` ``"worker"``, ``task_id`` its MPI rank."""

    def __init__(self, task_id: int, num_workers: int) -> None:
        self.task_type = "worker"
        self.task_id = task_id
        self.num_workers = num_workers

    def cluster_spec(self) -> dict[str, list[str]]:
        return {"worker": [f"rank:{i}" for i in range(self.num_workers)]}


def share(n: int, rank: int, size: int) -> slice:
    """Worker ``rank``'s contiguous share of a batch of ``n`` samples
    (``AutoShardPolicy.DATA``); a batch smaller than ``size`` is given whole to every worker,
    so no worker steps on nothing."""
    return slice(0, n) if n < size else slice(n * rank // size, n * (rank + 1) // size)


def shard(a: Any, rank: int, size: int) -> Any:
    """Worker ``rank``'s share (``share``) of a batch: an array, or a structure of arrays
    (a model's several inputs) each cut alike along the samples."""
    if a is None:
        return None
    cut = share(len(nest.flatten(a)[0]), rank, size)
    return nest.map_structure(lambda v: v[cut], a)


class _ShardedFitData:
    """``fit``'s batches, each cut to this worker's share (the steps stay the same); after the
    last batch of an epoch the metrics hold the global batches' values."""

    def __init__(self, data: Any, strategy: MultiWorkerMirroredStrategy, model: Any,
                 prepare: bool = True) -> None:
        self._data, self._strategy, self._owner = data, strategy, model
        self._model = model if prepare else None
        self._rank, self._size = strategy._world.rank, strategy._world.size
        self.steps = data.steps

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)

    def batches(self) -> Iterator[tuple[Any, Any]]:
        self._same_generator()
        # the adapter cuts the share out of each batch before gathering (shuffled) samples
        for xb, yb in self._data.batches(lambda n: share(n, self._rank, self._size)):
            if self._model is not None:  # a model built in fit: rank 0's weights first
                self._model._prepare(xb, yb)
                self._strategy._sync(self._model.weights)
                self._model = None
            yield xb, yb
        # Keras' metric states are sums (total, count, ...): summed over the workers, the
        # epoch's logs and History are the global batches' (every rank gets them)
        collective.allreduce_variables([v for m in self._owner.metrics for v in m.variables])


    def _same_generator(self) -> None:
        """Rank 0's global generator on every rank before each epoch, so the shuffled order,
        hence the global batches, are the same on all workers and the shards partition them
        (op-seeded generators are left as they are)."""
        seed = random_ops.get_global_generator().integers(2**63)
        seed = self._strategy._world.broadcast(np.array(seed, np.int64), 0)
        state = random_ops.get_state()
        state["bit_generator"] = np.random.default_rng(int(seed)).bit_generator.state
        random_ops.set_state(state)


class DistributedDataset:
    """``strategy.experimental_distribute_dataset``: the global batches of ``dataset``, each
    cut to this worker's share."""

    def __init__(self, dataset: Any, rank: int, size: int) -> None:
        self._dataset, self._rank, self._size = dataset, rank, size

    def __iter__(self) -> Iterator[Any]:
        for item in self._dataset:
            yield nest.map_structure(
                lambda t: convert_to_tensor(shard(collective.to_numpy(t), self._rank,
                                                  self._size)), item)


class StrategyBase:
    """What every strategy shares: ``scope()``."""

    @contextlib.contextmanager
    def scope(self) -> Iterator[Any]:
        """Optimizers (and models compiled) inside it all-reduce their gradients."""
        previous, context.state.strategy = context.state.strategy, self
        try:
            yield self
        finally:
            context.state.strategy = previous


class MultiWorkerMirroredStrategy(StrategyBase):
    """Synchronous training on every process of the MPI job (``mpiexec -n 2 python train.py``);
    a 1-worker strategy when the script was not started by an MPI launcher."""

    def __init__(self, cluster_resolver: Any = None, communication_options: Any = None) -> None:
        self._world = world()
        self.cluster_resolver = ClusterResolver(self._world.rank, self._world.size)
        self._in_run = False
        self._broadcast: set[int] = set()

    # -- the strategy's TF API ---------------------------------------------------------------------
    @property
    def num_replicas_in_sync(self) -> int:
        return self._world.size

    @property
    def _is_chief(self) -> bool:
        return self._world.rank == 0

    def experimental_distribute_dataset(self, dataset: Any, options: Any = None
                                        ) -> DistributedDataset:
        """``dataset`` batched by the global batch size, each batch cut to this worker's share."""
        return DistributedDataset(dataset, self._world.rank, self._world.size)

    def run(self, fn: Callable, args: tuple = (), kwargs: dict | None = None) -> Any:
        """``fn(*args, **kwargs)`` on this worker's replica; inside it, ``apply_gradients``
        sums the gradients over the workers (scale the loss with
        ``tf.nn.compute_average_loss``, as in TensorFlow)."""
        previous, context.state.strategy = context.state.strategy, self
        self._in_run = True
        try:
            return fn(*args, **(kwargs or {}))
        finally:
            self._in_run = False
            context.state.strategy = previous

    def reduce(self, reduce_op: ReduceOp | str, value: Any, axis: int | None = None) -> Any:
        """The workers' ``value`` summed or averaged (over ``axis`` too when given: the mean
        then weights each worker by its number of elements along ``axis``)."""
        op = ReduceOp(reduce_op.value if isinstance(reduce_op, ReduceOp) else reduce_op.upper())
        a = collective.to_numpy(value, "value")
        count = 1.0
        if axis is not None:
            count = float(a.shape[axis])
            a = a.sum(axis=axis)
        total = self._world.allreduce_sum(np.asarray(a))
        if op is ReduceOp.MEAN:
            n = self._world.allreduce_sum(np.array(count)) if axis is not None else self._world.size
            total = (total / n).astype(total.dtype, copy=False)
        return convert_to_tensor(total)

    # -- the hooks of Optimizer.apply_gradients and Model.fit --------------------------------------
    def _reduce_gradients(self, pairs: list[tuple[Any, Variable]]) -> list[tuple[Any, Variable]]:
        """Rank 0's variables on every worker (once), then the gradients all-reduced: summed
        inside ``run`` (the loss is scaled by the global batch), averaged in ``fit``."""
        if self._world.size == 1:
            return pairs
        self._sync([v for _, v in pairs])
        grads = collective.allreduce_fused([g for g, _ in pairs], average=not self._in_run)
        return list(zip(grads, [v for _, v in pairs]))

    def _distribute_fit_data(self, model: Any, data: Any) -> Any:
        if self._world.size == 1:
            return data
        return _ShardedFitData(data, self, model)

    def _distribute_eval_data(self, model: Any, data: Any) -> Any:
        """``evaluate``'s batches cut to this worker's share, the metric states summed over the
        workers at the end. A batch smaller than the number of workers is evaluated whole by
        every worker (minitf differs: it then counts once per worker in the metrics)."""
        if self._world.size == 1:
            return data
        return _ShardedFitData(data, self, model, prepare=False)

    def _predict_batch(self, fn: Callable, xb: Any) -> np.ndarray:
        """``predict`` on one global batch: this worker's share, then every share, in order."""
        n = len(nest.flatten(xb)[0])
        if self._world.size == 1 or n < self._world.size:
            return np.asarray(fn(xb))
        return self._world.allgather(np.asarray(fn(shard(xb, self._world.rank,
                                                         self._world.size))))

    def _worker_callbacks(self, callbacks: Any) -> Any:
        """Only rank 0 writes checkpoints (ModelCheckpoint) and draws plots (LivePlot); the
        other callbacks run everywhere: EarlyStopping decides alike on the global logs."""
        if self._is_chief or not callbacks:
            return callbacks
        from ..keras.callbacks import LivePlot, ModelCheckpoint

        return [c for c in callbacks if not isinstance(c, ModelCheckpoint | LivePlot)]

    def _on_variable_created(self, v: Variable) -> None:
        self._sync([v])

    def _sync(self, variables: list[Variable]) -> None:
        """Rank 0's value for each variable not broadcast yet (all ranks create the same
        variables in the same order, as in any SPMD program)."""
        fresh = [v for v in variables if id(v) not in self._broadcast]
        if fresh and self._world.size > 1:
            collective.broadcast_variables(fresh, 0)
        self._broadcast.update(id(v) for v in fresh)
