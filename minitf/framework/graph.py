"""TF1 computation graphs: ``Graph``, ``Operation``, the default graph, name scopes.

A Graph only *describes* a computation: operations (nodes) joined by tensors (edges). It never
holds values; a Session evaluates it. Graphs are append-only, so a Session can cache the
execution plan of a (fetches, feeds) pair for ever.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from . import context as _ctx
from .api_export import tf_export
from .registry import OpDef
from .tensor import Tensor


@tf_export("Operation")
class Operation:
    """A node of a Graph: an op type applied to input tensors, producing output tensors."""

    def __init__(
        self,
        graph: Graph,
        opdef: OpDef,
        name: str,
        inputs: Sequence[Tensor],
        attrs: dict[str, Any],
        out_specs: Sequence[tuple[Any, Any]],
        control_inputs: Sequence[Operation] = (),
    ) -> None:
        self.graph = graph
        self.opdef = opdef
        self.type = opdef.type
        self.name = name
        self.inputs = list(inputs)
        self.attrs = attrs
        self.control_inputs = list(control_inputs)
        self.outputs = [Tensor(self, i, s, d) for i, (s, d) in enumerate(out_specs)]
        self._id = len(graph._ops)  # creation order is a topological order

    def get_attr(self, name: str) -> Any:
        return self.attrs[name]

    def run(self, feed_dict: dict | None = None, session: Any = None) -> None:
        """Run this op in ``session`` (default: the enclosing ``with tf.Session()``)."""
        (session or _ctx.default_session()).run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"


@tf_export("Graph")
class Graph:
    """A TF1 dataflow graph. Make it current with ``with g.as_default():``."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._name_counts: dict[str, int] = {}
        self._name_stack: list[str] = []
        self._control_stack: list[list[Operation]] = []
        self._collections: dict[str, list[Any]] = {}
        self._captures: dict[int, tuple[Any, Tensor]] = {}  # id(eager obj) -> (obj, tensor)
        self._finalized = False

    # -- building ------------------------------------------------------------------------------
    def _add_op(
        self,
        opdef: OpDef,
        inputs: Sequence[Tensor],
        attrs: dict[str, Any],
        out_specs: Sequence[tuple[Any, Any]],
        name: str,
    ) -> Operation:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        control = [op for frame in self._control_stack for op in frame]
        op = Operation(self, opdef, name, inputs, attrs, out_specs, control)
        self._ops.append(op)
        self._by_name[name] = op
        return op

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``name`` inside the current name scope, made unique with ``_1``, ``_2``, ..."""
        full = "/".join([*self._name_stack, name]) if self._name_stack else name
        key = full.lower()
        n = self._name_counts.get(key, 0)
        if mark_as_used:
            self._name_counts[key] = n + 1
        if n == 0:
            return full
        candidate = f"{full}_{n}"
        while candidate.lower() in self._name_counts:
            n += 1
            candidate = f"{full}_{n}"
        if mark_as_used:
            self._name_counts[candidate.lower()] = 1
        return candidate

    def unique_name_absolute(self, full: str) -> str:
        """Like ``unique_name`` but ``full`` is already scoped (ignores the name stack)."""
        saved, self._name_stack = self._name_stack, []
        try:
            return self.unique_name(full)
        finally:
            self._name_stack = saved

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        if not name:
            saved, self._name_stack = self._name_stack, []
            try:
                yield ""
            finally:
                self._name_stack = saved
            return
        if name.endswith("/"):  # an absolute scope, as TF allows
            scope = name[:-1]
        else:
            scope = self.unique_name(name)
        saved, self._name_stack = self._name_stack, scope.split("/")
        try:
            yield scope + "/"
        finally:
            self._name_stack = saved

    @contextlib.contextmanager
    def control_dependencies(self, ops: Sequence[Any] | None) -> Iterator[None]:
        if ops is None:  # clears dependencies, as in TF
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        frame = [o.op if isinstance(o, Tensor) else o for o in ops]
        self._control_stack.append(frame)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Make this graph the one new ops go into (graph mode) inside the ``with`` block."""
        _stack().append(self)
        try:
            yield self
        finally:
            _stack().pop()

    def finalize(self) -> None:
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    # -- looking things up -------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The graph has no operation named {name!r}") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        m = re.fullmatch(r"(.+):(\d+)", name)
        if not m:
            raise ValueError(f"A tensor name looks like 'op_name:0', got {name!r}")
        op = self.get_operation_by_name(m.group(1))
        i = int(m.group(2))
        if i >= len(op.outputs):  # TF: "... the operation only has N outputs"
            raise ValueError(
                f"The name {name!r} refers to a Tensor which does not exist. The operation "
                f"'{op.name}' (type {op.type}) exists but only has {len(op.outputs)} outputs"
                + (f": {', '.join(t.name for t in op.outputs)}" if op.outputs else ""))
        return op.outputs[i]

    def add_to_collection(self, key: str, value: Any) -> None:
        self._collections.setdefault(key, []).append(value)

    def get_collection(self, key: str) -> list[Any]:
        return list(self._collections.get(key, []))

    def __repr__(self) -> str:
        return f"<minitf.Graph with {len(self._ops)} ops>"


# -- the default graph --------------------------------------------------------------------------
_global_graph = Graph()


def _stack() -> list[Graph]:
    """This thread's stack of graphs entered with ``as_default()`` (kept in the context)."""
    return _ctx.local.graphs


@tf_export("get_default_graph")
def get_default_graph() -> Graph:
    """The graph entered with ``as_default()``, else the global default graph."""
    s = _stack()
    return s[-1] if s else _global_graph


def active_graph() -> Graph | None:
    """The graph new ops must go into, or ``None`` when executing eagerly."""
    s = _ctx.local.graphs
    if s:
        return s[-1]
    return _global_graph if _ctx.state.eager_disabled else None


@tf_export("reset_default_graph")
def reset_default_graph() -> None:
    """Replace the global default graph with an empty one (TF1's ``tf.reset_default_graph``)."""
    global _global_graph
    if _stack():
        raise AssertionError("Do not use tf.reset_default_graph() inside a graph's as_default()")
    _global_graph = Graph()


@tf_export("disable_eager_execution")
def disable_eager_execution() -> None:
    """TF1 behaviour: every op goes into the default graph (``tf.compat.v1`` style code)."""
    _ctx.state.eager_disabled = True


@tf_export("enable_eager_execution")
def enable_eager_execution() -> None:
    _ctx.state.eager_disabled = False


@tf_export("executing_eagerly")
def executing_eagerly() -> bool:
    return active_graph() is None


# -- name scopes that work in both modes ---------------------------------------------------------


@tf_export("name_scope")
class name_scope:  # noqa: N801 - TensorFlow's name
    """``with tf.name_scope('dense'):`` prefixes op and variable names with ``dense/``."""

    def __init__(self, name: str, default_name: str | None = None, values: Any = None) -> None:
        self._name = name or default_name
        self._cm: Any = None

    def __enter__(self) -> str:
        g = active_graph()
        if g is not None:
            self._cm = g.name_scope(self._name)
            return self._cm.__enter__()
        scope = _ctx.local.name_scope
        scope.append(self._name.rstrip("/"))
        return "/".join(scope) + "/"

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
        else:
            _ctx.local.name_scope.pop()


def eager_scoped_name(name: str) -> str:
    scope = _ctx.local.name_scope
    return "/".join([*scope, name]) if scope else name


@tf_export("control_dependencies")
def control_dependencies(ops: Sequence[Any] | None) -> Any:
    """In graph mode, ops created inside run only after ``ops``; eagerly it is a no-op."""
    g = active_graph()
    return g.control_dependencies(ops) if g is not None else contextlib.nullcontext()
