"""Splitting a batch over the cores ourselves, with single-threaded BLAS, for the convolution
kernels.

A convolution alternates memory-bound copies (im2col, pooling, col2im: one core) with BLAS
products (all cores). Left to themselves, BLAS's threads wait while a copy runs, and the copy
leaves the other cores idle; worse, OpenBLAS's threads keep spinning for a while after each
product and take a core from whatever runs next. Instead ``run_split`` cuts the batch into
chunks of a few images that the calling thread and one worker thread per further core take in
turn, each running its chunk's copies and products with BLAS single-threaded, so every core is
busy with the kernel's own work. Measured (second MNIST conv layer + pooling, batch 64,
2 cores, interleaved): 3.7 ms in one thread with two-threaded BLAS, 2.6 ms on two threads.

``single_threaded_blas`` sets OpenBLAS to one thread while minitf's kernels run and restores
the caller's setting after: ``openblas_set_num_threads_local`` acts on the whole process in the
OpenBLAS NumPy ships (0.3.31 here), so everything else (minitf's MatMul, NumPy code of the user's)
keeps BLAS's threads: for small products they are faster than handing work to these workers
(the MNIST MLP's step: 0.57 ms with BLAS's threads, 0.62 ms single-threaded, 1.3 ms split
over the workers, interleaved). Without that function (another BLAS, an old OpenBLAS) nothing
is split and BLAS keeps its own threads. ``NUMBA_NUM_THREADS`` caps the number of workers.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

import numba
import numpy as np

T = TypeVar("T")


def _openblas_local_setter() -> Any:
    """``openblas_set_num_threads_local`` of the OpenBLAS NumPy loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux
        return None
    for path in sorted(paths):
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
        return fn
    return None


def _count() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, numba.config.NUMBA_NUM_THREADS))


_SET_LOCAL = _openblas_local_setter()
WORKERS = _count() if _SET_LOCAL is not None else 1
"""How many parts ``run_split`` cuts a batch into (1: no split)."""

_lock = threading.Lock()
_state: dict[str, Any] = {"pool": None, "depth": 0, "saved": 0}


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS runs on one thread inside (nested and concurrent uses count: the first to enter
    saves the setting, the last to leave restores it)."""
    if _SET_LOCAL is None:
        yield
        return
    with _lock:
        if _state["depth"] == 0:
            _state["saved"] = _SET_LOCAL(1)
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _SET_LOCAL(_state["saved"])


def _pool() -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(max(1, WORKERS - 1),
                                                thread_name_prefix="minitf-worker")
        return _state["pool"]


def _forget_pool() -> None:  # a forked child has the pool object but none of its threads
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_split(n: int, work: Callable[[int, int], T], parts: int | None = None,
              step: int | None = None) -> list[T]:
    """``work(lo, hi)`` over ``range(n)`` in parallel with single-threaded BLAS; the results
    in order. Without ``step``: one contiguous part per worker (or ``parts``). With ``step``:
    chunks of ``step`` items that the calling thread and the workers take one at a time
    until none is left, so a thread that is slowed down (the VM, the OS) takes fewer; the
    results stay in chunk order whoever computed them. ``work`` must only write what
    belongs to its range."""
    if step is None:
        parts = min(WORKERS if parts is None else parts, n)
        bounds = [n * i // max(1, parts) for i in range(max(1, parts) + 1)]
    else:
        bounds = list(range(0, n, max(1, step))) + [n]
        parts = min(WORKERS, len(bounds) - 1)
    chunks = len(bounds) - 1
    if chunks <= 0:
        bounds, chunks = [0, n], 1
    results: list[Any] = [None] * chunks
    taken = itertools.count()  # next() is atomic under the GIL

    def loop() -> None:
        while (i := next(taken)) < chunks:
            results[i] = work(bounds[i], bounds[i + 1])

    with single_threaded_blas():
        if parts <= 1:
            loop()
            return results
        pool = _pool()
        # the calling thread takes chunks too: one hand-off fewer, no idle wait
        futures = [pool.submit(loop) for _ in range(parts - 1)]
        try:
            loop()
        finally:
            wait(futures)  # never return (or raise) while a worker still writes
        for f in futures:
            f.result()  # a worker's exception
    return results


def balanced(n: int, most: int) -> int:
    """Items per chunk for a batch of ``n``: at most ``most``, at least four chunks per worker
    for ``run_split`` to even out, and chunks of equal size (no small, inefficient last
    product). Measured against one fixed half per worker (MNIST CNN, interleaved, 12 rounds
    of 50 steps): training step min/median 10.65/11.97 vs 10.96/12.26 ms."""
    step = max(1, min(most, -(-n // (4 * WORKERS))))
    return -(-n // -(-n // step)) if n else 1


# Products below this many multiply-adds run in the calling thread: handing a part to a
# worker costs ~50 us. The MNIST CNN's dense products (13 M each) were faster split in
# isolation (278 -> 234 us) but not in training steps (12.5-12.8 ms unsplit vs 13.1-13.5 ms
# split, separate processes alternating), so they stay below the threshold.
SPLIT_MIN_MACS = 16_000_000


def matmul(a: Any, b: Any, out: Any) -> Any:
    """``np.matmul(a, b, out=out)`` for 2-D ``a`` and ``b`` with single-threaded BLAS. A large
    product is split over the workers along the larger operand (row blocks of ``a`` or column
    blocks of ``b``), so that each worker reads only its share of it."""
    m, n = a.shape[0], b.shape[1]
    if m * a.shape[1] * n < SPLIT_MIN_MACS:
        with single_threaded_blas():
            np.matmul(a, b, out=out)
    elif a.size >= b.size:
        run_split(m, lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]))
    else:
        run_split(n, lambda lo, hi: np.matmul(a, b[:, lo:hi], out=out[:, lo:hi]))
    return out
