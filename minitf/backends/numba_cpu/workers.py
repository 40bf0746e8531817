"""Splitting a batch of images over the cores, for the convolution kernels.

A convolution alternates memory-bound copies (im2col, pooling, col2im: one core) with BLAS
products (all cores). Left to themselves, BLAS's threads wait while a copy runs and the copy
leaves the other cores idle. Instead ``run_split`` gives each core a contiguous part of the
batch and one worker thread that runs that part's copies and products with single-threaded
BLAS (OpenBLAS's per-thread setting), so every core is busy all the time. Measured (second
MNIST conv layer + pooling, batch 64, 2 cores, interleaved): 3.7 ms with one thread and
two-threaded BLAS, 2.6 ms split over two workers.

Without OpenBLAS's ``openblas_set_num_threads_local`` (another BLAS, an old OpenBLAS) each
worker's products would start threads of their own, so everything then runs in the calling
thread as before. ``NUMBA_NUM_THREADS`` caps the number of workers.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numba

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
_state: dict[str, ThreadPoolExecutor | None] = {"pool": None}


def _single_threaded_blas() -> None:
    if _SET_LOCAL is not None:
        _SET_LOCAL(1)


def _pool() -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(WORKERS, thread_name_prefix="minitf-conv",
                                                initializer=_single_threaded_blas)
        return _state["pool"]


def _forget_pool() -> None:  # a forked child has the pool object but none of its threads
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_split(n: int, work: Callable[[int, int], T]) -> list[T]:
    """``work(lo, hi)`` for contiguous parts ``[lo, hi)`` of ``range(n)``, one part per worker,
    in parallel; the results in order. ``work`` must only write what belongs to its part."""
    parts = min(WORKERS, n)
    if parts <= 1:
        return [work(0, n)]
    bounds = [n * i // parts for i in range(parts + 1)]
    pool = _pool()
    futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(parts)]
    return [f.result() for f in futures]
