"""Splitting a batch over the cores ourselves, with single-threaded BLAS, for the convolution
kernels.

A convolution alternates memory-bound copies (im2col, pooling, col2im: one core) with BLAS
products (all cores). Left to themselves, BLAS's threads wait while a copy runs, and the copy
leaves the other cores idle; worse, OpenBLAS's threads keep spinning for a while after each
product and take a core from whatever runs next. Instead ``run_split`` gives each core a
contiguous part of the batch and one worker thread that runs that part's copies and products,
with BLAS single-threaded, so every core is busy with the kernel's own work. Measured (second
MNIST conv layer + pooling, batch 64, 2 cores, interleaved): 3.7 ms with one thread and
two-threaded BLAS, 2.6 ms split over two workers.

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


def run_split(n: int, work: Callable[[int, int], T], parts: int | None = None) -> list[T]:
    """``work(lo, hi)`` for contiguous parts ``[lo, hi)`` of ``range(n)``, one part per worker
    (or ``parts``), in parallel with single-threaded BLAS; the results in order. ``work`` must
    only write what belongs to its part."""
    parts = min(WORKERS if parts is None else parts, n)
    with single_threaded_blas():
        if parts <= 1:
            return [work(0, n)]
        bounds = [n * i // parts for i in range(parts + 1)]
        pool = _pool()
        # the calling thread takes the first part itself: one hand-off fewer, no idle wait
        futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(1, parts)]
        try:
            first = work(bounds[0], bounds[1])
        finally:
            wait(futures)  # never return (or raise) while a worker still writes
        return [first] + [f.result() for f in futures]


# Products below this many multiply-adds run in the calling thread: handing a part to a
# worker costs tens of microseconds, more than it saves on a small product.
SPLIT_MIN_MACS = 16_000_000


def matmul(a: Any, b: Any, out: Any) -> Any:
    """``np.matmul(a, b, out=out)`` for 2-D ``a`` and ``b`` with single-threaded BLAS, row
    blocks of ``a`` on the workers when the product is large."""
    m = a.shape[0]
    parts = WORKERS if m * a.shape[1] * b.shape[1] >= SPLIT_MIN_MACS and m >= 2 * WORKERS else 1
    run_split(m, lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]), parts)
    return out
