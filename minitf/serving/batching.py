"""Server-side dynamic batching: concurrent requests for one signature merged into one call.

Requests with the same servable, signature and per-example shapes queue together. A queue is
run when it holds ``max_batch_size`` examples or its oldest request has waited
``batch_timeout_micros``; at most ``num_batch_threads`` batches run at once, and while all are
busy the queues keep filling, so batches grow with the load. Results are split back by rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from .config import BatchingParameters
from .servable import Arrays


@dataclass
class _Queue:
    run: Callable[[Arrays], Arrays]
    items: list = field(default_factory=list)  # (inputs, rows, future)
    rows: int = 0
    timer: asyncio.TimerHandle | None = None
    due: bool = False


def _run_batch(run: Callable[[Arrays], Arrays], items: list) -> list[Arrays]:
    """Merge, run once, split: one result dict per request."""
    if len(items) == 1:
        return [run(items[0][0])]
    merged = {k: np.concatenate([inputs[k] for inputs, _, _ in items]) for k in items[0][0]}
    out = run(merged)
    results, start = [], 0
    for _, rows, _ in items:
        results.append({k: v[start:start + rows] for k, v in out.items()})
        start += rows
    return results


class Batcher:
    """Queues requests on the event loop and runs merged batches on ``executor``."""

    def __init__(self, params: BatchingParameters, executor: Executor) -> None:
        self.params = params
        self.executor = executor
        self._queues: dict[Hashable, _Queue] = {}
        self._running = 0

    def submit(self, key: Hashable, run: Callable[[Arrays], Arrays], inputs: Arrays,
               rows: int) -> asyncio.Future:
        """A future of ``run(inputs)``, computed as part of a batch; ``key`` groups compatible
        requests (same servable, signature, dtypes and per-example shapes). Call it on the
        event loop; cancelling the future drops the request from its batch's results."""
        loop = asyncio.get_running_loop()
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = _Queue(run)
        fut = loop.create_future()
        q.items.append((inputs, rows, fut))
        q.rows += rows
        if q.rows >= self.params.max_batch_size:
            self._due(key)
        elif q.timer is None:
            q.timer = loop.call_later(self.params.batch_timeout_micros / 1e6, self._due, key)
        return fut

    def _due(self, key: Hashable) -> None:
        q = self._queues.get(key)
        if q is None:
            return
        if q.timer is not None:
            q.timer.cancel()
            q.timer = None
        q.due = True
        self._dispatch()

    def _dispatch(self) -> None:
        """Start due queues while batch threads are free."""
        while self._running < self.params.num_batch_threads:
            key = next((k for k, q in self._queues.items() if q.due), None)
            if key is None:
                return
            q = self._queues[key]
            take, rows = [], 0
            while q.items and (not take or rows + q.items[0][1] <= self.params.max_batch_size):
                item = q.items.pop(0)
                take.append(item)
                rows += item[1]
            q.rows -= rows
            if not q.items:
                del self._queues[key]
            elif q.rows < self.params.max_batch_size:
                q.due = False  # the rest waits for its own timeout (or a full batch)
                q.timer = asyncio.get_running_loop().call_later(
                    self.params.batch_timeout_micros / 1e6, self._due, key)
            self._start(q.run, take)

    def _start(self, run: Callable[[Arrays], Arrays], items: list) -> None:
        self._running += 1
        loop = asyncio.get_running_loop()
        task = loop.run_in_executor(self.executor, _run_batch, run, items)

        def done(t: asyncio.Future) -> None:
            self._running -= 1
            exc = t.exception() if not t.cancelled() else asyncio.CancelledError()
            for i, (_, _, fut) in enumerate(items):
                if fut.done():
                    continue  # the client went away
                if exc is not None:
                    fut.set_exception(exc)
                else:
                    fut.set_result(t.result()[i])
            self._dispatch()

        task.add_done_callback(done)
