"""Pipeline model parallelism over the MPI ranks, GPipe's schedule.

Rank ``r`` owns a contiguous stage of a Sequential model's layers. A batch is split into
micro-batches: each stage runs the forward pass of every micro-batch and sends its activations
to the next rank, then the backward passes in reverse order, sending the gradients of its
inputs back; each stage sums its weights' gradients over the micro-batches and applies them
once. The result is one process's step on the whole batch (the loss is the mean over it). While
rank 1 works on micro-batch m, rank 0 already computes m + 1: the stages overlap except for
the pipeline's fill and drain (the "bubble", (S - 1) / (M + S - 1) of the time for S stages
and M micro-batches).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..framework.backprop import GradientTape
from ..framework.execute import convert_to_tensor
from . import collective
from ._mpi import world


class PipelineModel:
    """A Sequential ``model`` split into one stage per rank (layers divided as evenly as
    possible, or at ``boundaries``: the first layer index of each stage after the first).
    Every rank builds the whole model; rank 0's initial weights are broadcast to all."""

    def __init__(self, model: Any, loss: Any, optimizer: Any, micro_batches: int = 4,
                 boundaries: list[int] | None = None) -> None:
        self._w = world()
        layers = list(model.layers)
        s = self._w.size
        if len(layers) < s:
            raise ValueError(f"PipelineModel: {len(layers)} layers cannot fill {s} stages")
        cuts = boundaries or [len(layers) * i // s for i in range(1, s)]
        if len(cuts) != s - 1:
            raise ValueError(f"PipelineModel: {s} ranks need {s - 1} boundaries, got {cuts}")
        bounds = [0, *cuts, len(layers)]
        self.layers = layers[bounds[self._w.rank]:bounds[self._w.rank + 1]]
        self.loss, self.optimizer, self.micro_batches = loss, optimizer, int(micro_batches)
        collective.broadcast_variables(model.weights, 0)
        self.variables = [v for layer in self.layers for v in layer.trainable_weights]

    @property
    def first(self) -> bool:
        return self._w.rank == 0

    @property
    def last(self) -> bool:
        return self._w.rank == self._w.size - 1

    def train_step(self, x: Any, y: Any) -> float:
        """One GPipe step on the batch ``(x, y)`` (every rank passes the same batch; only rank
        0 reads x and the last rank y); returns the batch's mean loss on every rank."""
        w, r = self._w, self._w.rank
        xs = np.array_split(np.asarray(x), self.micro_batches)
        ys = np.array_split(np.asarray(y), self.micro_batches)
        n = len(np.asarray(x))
        saved, total = [], 0.0
        for m in range(self.micro_batches):  # all forwards
            inp = convert_to_tensor(xs[m] if self.first else w.recv_array(r - 1, m))
            with GradientTape() as tape:
                tape.watch(inp)
                h = inp
                for layer in self.layers:
                    h = layer(h, training=True)
                if self.last:  # the micro-batch's share of the batch mean
                    h = self.loss(ys[m], h) * (len(ys[m]) / n)
                    total += float(h.numpy())
            if not self.last:
                w.send_array(h.numpy(), r + 1, m)
            saved.append((tape, inp, h))
        sums: list[Any] = [None] * len(self.variables)
        for m in reversed(range(self.micro_batches)):  # all backwards
            tape, inp, h = saved[m]
            upstream = None if self.last else convert_to_tensor(w.recv_array(r + 1, m))
            grads = tape.gradient(h, [inp, *self.variables], output_gradients=upstream)
            if not self.first:
                w.send_array(grads[0].numpy(), r - 1, m)
            sums = [g if s is None else s + g for s, g in zip(sums, grads[1:])]
        self.optimizer.apply_gradients(zip(sums, self.variables))
        return float(self._w.broadcast(np.array(total), self._w.size - 1))
