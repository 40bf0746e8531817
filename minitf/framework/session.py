"""``tf.Session``: runs (part of) a Graph and owns the values of its variables.

``sess.run(fetches, feed_dict)`` works out which operations the fetches need (stopping at fed
tensors), orders them, and turns them into a flat *execution plan*: a list of
(kernel, input slots, output slots). The plan is cached per (fetches, feeds) signature, so a
training loop pays for the graph walk once and then only for the kernels.
``sess.make_callable(fetches, feed_list)`` (TF's API) resolves the fetches, feeds and plan once
and returns a function of the feed values: ``tf.function`` runs its traced graph that way.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..backends import get_backend
from . import context as _ctx
from . import device as _device
from . import nest
from .api_export import tf_export
from .errors import FailedPreconditionError, InvalidArgumentError, OpError
from .execute import run_op_error
from .graph import Graph, Operation, get_default_graph
from .tensor import EagerTensor, Tensor, is_symbolic
from .tensor_shape import fmt


class _Plan:
    __slots__ = ("steps", "locks", "nslots", "feed_slots", "fetch_slots")

    def __init__(self, steps: list, nslots: int, feed_slots: list, fetch_slots: list,
                 locks: list | None = None) -> None:
        self.steps = steps  # [(forward, attrs, in_slots, out_slots, num_outputs, op)]
        self.locks = locks or [None] * len(steps)  # per step: the variable's write lock or None
        self.nslots = nslots
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots  # slot index, or None for an operation (fetches None)


class _SessionRuntime:
    """The runtime ops see during ``Session.run``: graph variables live in the session."""

    __slots__ = ("sess", "be")

    def __init__(self, sess: Session) -> None:
        self.sess = sess
        self.be = None  # the backend, looked up once per run (set in _execute)

    def read(self, var: Any) -> np.ndarray:
        if var._graph is None:  # an eager variable captured by reference
            return var._value
        try:
            return self.sess._values[id(var)]
        except KeyError:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {var.name[:-2]}: run "
                "sess.run(tf.global_variables_initializer()) (or var.initializer) first"
            ) from None

    def write(self, var: Any, value: np.ndarray) -> None:
        if var._graph is None:
            var._value = value
        else:
            self.sess._values[id(var)] = value


@tf_export("Session")
class Session:
    """Runs graph ``graph`` (default: the default graph). Use it as a context manager."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None) -> None:
        self.graph = graph if graph is not None else get_default_graph()
        self._values: dict[int, np.ndarray] = {}
        self._plans: dict[tuple, _Plan] = {}
        self._eager_fetches: dict[int, _EagerValue] = {}  # one per eager variable: stable ids
        self._rt = _SessionRuntime(self)
        self._closed = False
        self._contexts: list[Any] = []

    # -- context management -------------------------------------------------------------------
    def __enter__(self) -> Session:
        cm = self.graph.as_default()
        cm.__enter__()
        self._contexts.append(cm)
        _session_stack().append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _session_stack().pop()
        self._contexts.pop().__exit__(*exc)
        self.close()

    def as_default(self) -> Any:
        return _DefaultSession(self)

    def close(self) -> None:
        self._closed = True
        self._values.clear()
        self._plans.clear()
        self._eager_fetches.clear()

    # -- running -----------------------------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Mapping | None = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Evaluate ``fetches`` (a tensor, op, variable, name, or a nested list/tuple/dict of
        them), with ``feed_dict`` mapping placeholders (or any tensor) to values."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        flat = nest.flatten(fetches)
        targets = [self._as_target(f) for f in flat]
        feeds = self._prepare_feeds(feed_dict or {})
        key = (tuple(id(t) for t in targets), tuple(id(t) for t, _ in feeds))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_plan(targets, [t for t, _ in feeds])
        values = self._execute(plan, [v for _, v in feeds])
        return nest.pack_sequence_as(fetches, values)

    def _as_target(self, f: Any) -> Any:
        if type(f) is Tensor and f.op is not None and f.op.graph is self.graph:
            return f  # the common case first: a tensor of this graph
        if f is None:
            raise TypeError("Fetch argument None has invalid type NoneType")
        if isinstance(f, EagerTensor):
            return f  # eager tensors already have their value: returned as is
        if isinstance(f, str):
            f = (self.graph.get_tensor_by_name(f) if ":" in f
                 else self.graph.get_operation_by_name(f))
        if hasattr(f, "_graph_tensor"):  # a Variable
            if f._graph is None and f._graph_tensors.get(id(self.graph)) is None:
                ev = self._eager_fetches.get(id(f))
                if ev is None:  # reused, so the plan cache sees the same fetch each run
                    ev = self._eager_fetches[id(f)] = _EagerValue(f)
                return ev
            return f._graph_tensor(self.graph)
        if isinstance(f, _NoOpResult):
            return f
        if isinstance(f, Tensor | Operation):
            if f.graph is not self.graph:
                raise ValueError(f"Fetch {f!r} is not an element of this session's graph")
            return f
        raise TypeError(
            f"Fetch argument {f!r} has invalid type {type(f).__name__}: fetch tensors, "
            "operations, variables or their names"
        )

    def make_callable(self, fetches: Any, feed_list: Any = None,
                      accept_options: bool = False) -> Any:
        """A function of the values of ``feed_list`` (positional, in order) that returns what
        ``self.run(fetches, feed_dict)`` would: TF's ``Session.make_callable``. The fetches,
        feeds and execution plan are resolved once, so each call pays only the feed checks
        and the kernels (``tf.function`` runs its traced graph this way)."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if accept_options:
            raise ValueError("minitf's make_callable does not take RunOptions "
                             "(accept_options must be False)")
        targets = [self._as_target(f) for f in nest.flatten(fetches)]
        feeds = [self._feed_tensor(k) for k in nest.flatten(feed_list or [])]
        plan = self._make_plan(targets, feeds)
        # per feed: its NumPy dtype, and the shapes already checked against its static shape
        checks = [(t, t.dtype.np, set()) for t in feeds]
        flat_fetches = type(fetches) is list and nest._flat_leaves(fetches)

        def run(*feed_values: Any) -> Any:
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(feed_values) != len(checks):
                raise TypeError(f"This callable takes {len(checks)} feed values "
                                f"(feed_list), got {len(feed_values)}")
            arrays = []
            for (t, np_dtype, seen), v in zip(checks, feed_values):
                if type(v) is np.ndarray and v.dtype == np_dtype and v.shape in seen:
                    arrays.append(v)  # checked before: same dtype and an accepted shape
                    continue
                arr = self._feed_value(t, v)
                if len(seen) < 64:
                    seen.add(arr.shape)
                arrays.append(arr)
            values = self._execute(plan, arrays)
            return values if flat_fetches else nest.pack_sequence_as(fetches, values)

        return run

    def _prepare_feeds(self, feed_dict: Mapping) -> list[tuple[Tensor, np.ndarray]]:
        feeds = []
        for k, v in feed_dict.items():
            # the common case first: a placeholder (tensor) of this graph
            fast = type(k) is Tensor and k.op is not None and k.op.graph is self.graph
            t = k if fast else self._feed_tensor(k)
            feeds.append((t, self._feed_value(t, v)))
        return feeds

    def _feed_tensor(self, k: Any) -> Tensor:
        """The graph tensor a feed key (a tensor, a variable or a tensor name) stands for."""
        t = self.graph.get_tensor_by_name(k) if isinstance(k, str) else k
        if hasattr(t, "_graph_tensor"):
            t = t._graph_tensor(self.graph)
        if not is_symbolic(t):
            raise TypeError(f"Cannot feed {t!r}: feed_dict keys must be graph tensors")
        if t.graph is not self.graph:
            raise ValueError(f"Cannot feed '{t.name}': it belongs to another graph")
        return t

    @staticmethod
    def _feed_value(t: Tensor, v: Any) -> np.ndarray:
        """``v`` as an array of ``t``'s dtype, checked against ``t``'s static shape."""
        arr = np.asarray(v.numpy() if isinstance(v, EagerTensor) else v)
        if arr.dtype != t.dtype.np:
            if arr.dtype.kind == "f" and t.dtype.is_integer:
                raise InvalidArgumentError(
                    f"Cannot feed a {arr.dtype} value to tensor '{t.name}' of dtype "
                    f"{t.dtype.name}"
                )
            arr = arr.astype(t.dtype.np)
        if not t.shape.is_compatible_with(arr.shape):
            raise InvalidArgumentError(
                f"Cannot feed value of shape {fmt(arr.shape)} for Tensor '{t.name}', "
                f"which has shape {fmt(t.shape)}"
            )
        return arr

    def _make_plan(self, targets: list, fed: list[Tensor]) -> _Plan:
        fed_ids = {id(t) for t in fed}
        needed: dict[int, Operation] = {}
        graph_targets = [t for t in targets if is_symbolic(t) or isinstance(t, Operation)]
        stack = [t.op if isinstance(t, Tensor) else t for t in graph_targets
                 if not (isinstance(t, Tensor) and id(t) in fed_ids)]
        while stack:
            op = stack.pop()
            if id(op) in needed:
                continue
            needed[id(op)] = op
            for t in op.inputs:
                if id(t) not in fed_ids:
                    stack.append(t.op)
            stack.extend(op.control_inputs)
        ops = sorted(needed.values(), key=lambda o: o._id)
        slots: dict[int, int] = {}
        for t in fed:
            slots[id(t)] = len(slots)
        steps, locks = [], []
        for op in ops:
            if op.type == "Placeholder":
                t = op.outputs[0]
                raise InvalidArgumentError(
                    f"You must feed a value for placeholder tensor '{t.name}' with dtype "
                    f"{t.dtype.name} and shape {fmt(t.shape)}", op)
            ins = tuple(slots[id(t)] for t in op.inputs)
            outs = []
            for t in op.outputs:
                if id(t) not in slots:  # a fed output keeps its fed value
                    slots[id(t)] = len(slots)
                outs.append(slots[id(t)])
            # with a GPU in play each step runs where its op was placed (costs nothing later)
            fwd = _device.placed_forward(op) if _device.ACTIVE else op.opdef.forward
            writes = op.type != "ReadVariableOp" and "var" in op.attrs
            locks.append(_write_lock(op.attrs["var"]) if writes else None)
            steps.append((fwd, op.attrs, ins, tuple(outs), op.opdef.num_outputs, op))
        fetch_slots = []
        for t in targets:
            fetch_slots.append(slots[id(t)] if is_symbolic(t) else t)
        return _Plan(steps, len(slots), [slots[id(t)] for t in fed], fetch_slots, locks)

    def _execute(self, plan: _Plan, feed_values: list[np.ndarray]) -> list[Any]:
        vals: list[Any] = [None] * plan.nslots
        for slot, v in zip(plan.feed_slots, feed_values):
            vals[slot] = v
        rt = self._rt
        rt.be = get_backend()
        profiler = _ctx.state.profiler
        steps = plan.steps if profiler is None else profiler.timed_steps(plan, self)
        for (forward, attrs, ins, outs, nout, op), lock in zip(steps, plan.locks):
            args = [vals[i] for i in ins]
            try:
                if lock is None:
                    res = forward(rt, *args, **attrs)
                else:  # a read-modify-write of a variable is atomic (see _write_lock)
                    with lock:
                        res = forward(rt, *args, **attrs)
            except (OpError, MemoryError):
                raise
            except Exception as e:  # a kernel failed: say which node, with the real shapes
                raise run_op_error(op, args, e) from e
            if nout == 1:
                vals[outs[0]] = res
            elif nout > 1:
                for i, r in zip(outs, res):
                    vals[i] = r
        out = []
        for s in plan.fetch_slots:
            if isinstance(s, int):
                out.append(vals[s])
            elif isinstance(s, EagerTensor):
                out.append(s.numpy())
            elif isinstance(s, _EagerValue):
                out.append(s.var._value)
            else:
                out.append(None)  # operations fetch as None
        if _device.ACTIVE:  # fetched values come back to the host, as in TF
            out = [_device.to_host(v) for v in out]
        # a 0-d fetch is a NumPy scalar (numpy.float32, ...), as TF returns it
        return [v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v for v in out]


_LOCKS_GUARD = threading.Lock()


def _write_lock(var: Any) -> threading.Lock:
    """``var``'s write lock: ops that write it hold it, so a read-modify-write (``assign_add``,
    an optimizer step) is atomic under concurrent ``Session.run``, as TF's resource variables
    are (the lock is taken inline in ``_execute``: a wrapper per op cost 2-3 % of an MLP epoch)."""
    lock = var.__dict__.get("_write_lock")
    if lock is None:
        with _LOCKS_GUARD:
            lock = var.__dict__.setdefault("_write_lock", threading.Lock())
    return lock


@tf_export("InteractiveSession")
class InteractiveSession(Session):
    """A Session that makes itself the default on creation (for notebooks)."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None) -> None:
        super().__init__(target, graph, config)
        _session_stack().append(self)

    def close(self) -> None:
        stack = _session_stack()
        if self in stack:
            stack.remove(self)
        super().close()


class _EagerValue:
    """A fetch of an eager variable: its current value."""

    def __init__(self, var: Any) -> None:
        self.var = var


class _NoOpResult:
    """What graph-free ``tf.group``/``tf.no_op``/initializers return: runs as nothing."""

    name = "NoOp"
    type = "NoOp"

    def run(self, feed_dict: Any = None, session: Any = None) -> None:
        return None

    def __repr__(self) -> str:
        return "<tf.Operation 'NoOp' (eager: nothing to run)>"


class _DefaultSession:
    def __init__(self, sess: Session) -> None:
        self.sess = sess

    def __enter__(self) -> Session:
        _session_stack().append(self.sess)
        return self.sess

    def __exit__(self, *exc: Any) -> None:
        _session_stack().pop()


def _session_stack() -> list[Session]:
    """This thread's default sessions (kept in the context)."""
    return _ctx.local.sessions


@tf_export("get_default_session")
def get_default_session() -> Session | None:
    """The Session of the innermost ``with tf.Session():`` (or ``as_default()``), or None."""
    return _ctx.default_session()
