"""``tf.distribute.MirroredStrategy``: synchronous data parallelism over this process's devices.

One replica per device ('/CPU:0', '/GPU:0'); ``run`` calls the step once per replica, each
under ``tf.device`` of its device and with its share of the global batch, and the replicas'
``apply_gradients`` calls become one update with the gradients **summed** over the replicas
(the same all-reduce semantics as ``MultiWorkerMirroredStrategy.run``: scale the loss with
``tf.nn.compute_average_loss``). Where minitf differs: replicas run one after another, not in
parallel threads; every variable has one copy (no per-device mirrors), so the replicas see the
same values by construction; ``fit`` under this strategy runs each global batch on one replica
(the same update); ``run`` is eager only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..framework import context, nest
from ..framework import device as _device
from ..framework.execute import convert_to_tensor
from ..framework.variables import Variable
from . import collective
from .strategy import ReduceOp, StrategyBase, shard


class PerReplica:
    """One value per replica (what ``run`` returns and a distributed dataset yields)."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = tuple(values)

    def __repr__(self) -> str:
        return f"PerReplica({self.values!r})"


class _MirroredDataset:
    """The global batches of a dataset, each leaf a ``PerReplica`` of contiguous shares."""

    def __init__(self, dataset: Any, n: int) -> None:
        self._dataset, self._n = dataset, n

    def __iter__(self) -> Iterator[Any]:
        for item in self._dataset:
            yield nest.map_structure(lambda t: PerReplica(tuple(
                convert_to_tensor(shard(collective.to_numpy(t), r, self._n))
                for r in range(self._n))), item)


class MirroredStrategy(StrategyBase):
    """Data parallelism over ``devices`` of this process (default: ``['/CPU:0']``; minitf
    differs: TensorFlow defaults to every GPU)."""

    def __init__(self, devices: list[str] | None = None, cross_device_ops: Any = None) -> None:
        devices = list(devices) if devices is not None else ["/CPU:0"]
        if not devices:
            raise ValueError("MirroredStrategy: devices is empty; name at least one, e.g. "
                             "['/CPU:0']")
        parsed = [_device.parse(d) for d in devices]  # names a bad device string
        if len(set(parsed)) != len(parsed):
            raise ValueError(f"MirroredStrategy: devices {devices} name a device twice")
        self.extended_devices = tuple(f"/{k}:{i}" for k, i in parsed)
        self._replica: int | None = None
        self._pending: list[list[tuple[Any, Variable]]] = []

    @property
    def num_replicas_in_sync(self) -> int:
        return len(self.extended_devices)

    @property
    def _is_chief(self) -> bool:
        return True

    def experimental_distribute_dataset(self, dataset: Any, options: Any = None
                                        ) -> _MirroredDataset:
        """``dataset``'s global batches with each tensor a ``PerReplica`` of contiguous shares."""
        return _MirroredDataset(dataset, self.num_replicas_in_sync)

    def run(self, fn: Callable, args: tuple = (), kwargs: dict | None = None) -> PerReplica:
        """``fn`` once per replica on its device; ``PerReplica`` arguments give each replica
        its own value. The optimizer update happens once, after the last replica's gradients."""
        kwargs = kwargs or {}
        previous, context.state.strategy = context.state.strategy, self
        self._pending = []
        out = []
        try:
            for r, dev in enumerate(self.extended_devices):
                self._replica = r
                pick = (lambda a, r=r: a.values[r] if isinstance(a, PerReplica) else a)
                with _device.device(dev):
                    out.append(fn(*[pick(a) for a in args],
                                  **{k: pick(v) for k, v in kwargs.items()}))
        finally:
            self._replica, self._pending = None, []
            context.state.strategy = previous
        return PerReplica(tuple(out))

    def reduce(self, reduce_op: ReduceOp | str, value: Any, axis: int | None = None) -> Any:
        """The replicas' values (a ``PerReplica``, or one value for all) summed or averaged,
        over ``axis`` too when given."""
        op = ReduceOp(reduce_op.value if isinstance(reduce_op, ReduceOp) else reduce_op.upper())
        values = value.values if isinstance(value, PerReplica) else \
            (value,) * self.num_replicas_in_sync
        arrays = [collective.to_numpy(v, "value") for v in values]
        count = float(len(arrays))
        if axis is not None:
            count = float(sum(a.shape[axis] for a in arrays))
            arrays = [a.sum(axis=axis) for a in arrays]
        total = np.sum(arrays, axis=0).astype(arrays[0].dtype, copy=False)
        if op is ReduceOp.MEAN:
            total = (total / count).astype(total.dtype, copy=False)
        return convert_to_tensor(total)

    # -- the hooks of Optimizer.apply_gradients and Model.fit --------------------------------------
    def _reduce_gradients(self, pairs: list[tuple[Any, Variable]]) -> list[tuple[Any, Variable]]:
        """Outside ``run``: unchanged. Inside: held back (an empty list: no update yet) until
        the last replica, whose call gets the gradients summed over every replica."""
        if self._replica is None or self.num_replicas_in_sync == 1:
            return pairs
        self._pending.append(pairs)
        if self._replica < self.num_replicas_in_sync - 1:
            return []
        variables = [v for _, v in pairs]
        for held in self._pending:
            if [id(v) for _, v in held] != [id(v) for v in variables]:
                raise ValueError("MirroredStrategy.run: the replicas applied gradients to "
                                 "different variables; every replica must run the same step")
        summed = [np.sum([collective.to_numpy(h[i][0], "gradient") for h in self._pending],
                         axis=0) for i in range(len(variables))]
        self._pending = []
        return [(convert_to_tensor(g.astype(v.dtype.np, copy=False)), v)
                for g, v in zip(summed, variables)]

    def _distribute_fit_data(self, model: Any, data: Any) -> Any:
        return data

    def _worker_callbacks(self, callbacks: Any) -> Any:
        return callbacks

    def _on_variable_created(self, v: Variable) -> None:
        pass
