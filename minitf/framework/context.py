"""Execution state, in one place: which graph, tapes, scopes, profiler and backend are active.

In the spirit of DeZero's ``Config``/``using_config``: every module reads and changes this state
through this module instead of through each other's globals. Two objects hold it:

* :data:`state`, process-wide: the backend kernels run on, the recording ``tf.profiler``
  Profile, and whether ``tf.compat.v1.disable_eager_execution()`` was called (all three are
  global in TensorFlow too).
* :data:`local`, one per thread (a ``threading.local``): the graphs entered with
  ``as_default()``, the default sessions, the active GradientTapes, the ``tf.function`` tracing
  depth, the eager name scope and the ``tf.device`` scopes. TensorFlow keeps these per thread:
  a tape in one thread does not record another thread's ops.

This module imports nothing from minitf, so any module (backends included) may use it. The
hot path reads one attribute (``local.tapes``, ``state.profiler``), as cheap as the module
globals it replaces.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class _State:
    """Process-wide execution state."""

    __slots__ = ("backend", "profiler", "eager_disabled", "strategy")

    def __init__(self) -> None:
        self.backend: Any = None  # the Backend; created on first use (minitf.backends)
        self.profiler: Any = None  # the recording tf.profiler.Profile, or None
        self.eager_disabled = False  # True after tf.compat.v1.disable_eager_execution()
        self.strategy: Any = None  # the tf.distribute strategy in scope (minitf.distribute)


class _Local(threading.local):
    """Per-thread execution state (each thread starts with empty stacks)."""

    def __init__(self) -> None:
        self.graphs: list[Any] = []  # Graph.as_default() stack
        self.sessions: list[Any] = []  # default sessions (with Session(), as_default())
        self.tapes: list[Any] = []  # active GradientTapes, outermost first
        self.tracing_depth = 0  # > 0 while tf.function traces a Python function
        self.name_scope: list[str] = []  # eager tf.name_scope names
        self.devices: list[str | None] = []  # tf.device scopes ('CPU', 'GPU' or None)


state = _State()
local = _Local()


def default_session() -> Any:
    """The innermost default Session of this thread (``tf.get_default_session()``), or None."""
    s = local.sessions
    return s[-1] if s else None


def is_tracing() -> bool:
    """Whether ``tf.function`` is tracing a function in this thread."""
    return local.tracing_depth > 0


@contextlib.contextmanager
def tracing() -> Iterator[None]:
    """Mark the block as ``tf.function`` tracing (nests)."""
    local.tracing_depth += 1
    try:
        yield
    finally:
        local.tracing_depth -= 1


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """``tf.init_scope``: leave every graph being built; code inside runs eagerly.

    Used to create variables (and optimizer slots, metric state) while ``tf.function`` traces:
    inside, no graph is active, eager execution is on and nothing counts as tracing, so
    ``tf.Variable`` does not recurse into this scope again.
    """
    graphs = local.graphs
    saved = list(graphs)
    graphs.clear()
    disabled, state.eager_disabled = state.eager_disabled, False
    depth, local.tracing_depth = local.tracing_depth, 0
    try:
        yield
    finally:
        graphs.extend(saved)
        state.eager_disabled = disabled
        local.tracing_depth = depth


def set_profiler(profiler: Any) -> Any:
    """Make ``profiler`` (or None) the recording Profile; returns the one it replaces."""
    outer, state.profiler = state.profiler, profiler
    return outer
