"""``tf.function``: trace a Python function into a Graph once, then replay the cached plan.

Calling a traced function costs only the kernels: the Python code, the op dispatch and the
shape checks ran once, when the function was traced for that input signature (the shapes and
dtypes of its tensor arguments). Eager variables the function uses are captured by reference,
so assignments inside it update the real variables. Variables created while tracing are lifted
out of the graph and created eagerly (TF's ``init_scope``), so lazily built layers work.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import graph as _graph
from .graph import Graph
from .session import Session
from .tensor import EagerTensor, Tensor

_tracing_depth = 0


def is_tracing() -> bool:
    return _tracing_depth > 0


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """Leave any graph being built: code inside runs eagerly (used to create variables)."""
    global _tracing_depth
    stack = _graph._stack()
    saved = list(stack)
    stack.clear()
    disabled, _graph._eager_disabled = _graph._eager_disabled, False
    depth, _tracing_depth = _tracing_depth, 0  # not tracing inside: Variable() must not recurse
    try:
        yield
    finally:
        stack.extend(saved)
        _graph._eager_disabled = disabled
        _tracing_depth = depth


class ConcreteFunction:
    """One traced graph of a function for one input signature, with its cached plan."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        global _tracing_depth
        self.graph = Graph()
        self._arg_slots: list[int] = []  # positions in the flat argument list that are tensors
        flat: list[Any] = []
        self._structure = _flatten((list(args), kwargs), flat)
        self._inputs: list[Tensor] = []
        graph_args: list[Any] = []
        _tracing_depth += 1
        try:
            with self.graph.as_default():
                from ..ops.array_ops import placeholder

                for i, a in enumerate(flat):
                    if _is_tensor_arg(a):
                        arr = _as_array(a)
                        p = placeholder(arr.dtype, arr.shape, name=f"arg{i}")
                        self._inputs.append(p)
                        self._arg_slots.append(i)
                        graph_args.append(p)
                    else:
                        graph_args.append(a)
                pos, kw = _rebuild(self._structure, iter(graph_args))
                out = fn(*pos, **kw)
        finally:
            _tracing_depth -= 1
        self._out_flat: list[Any] = []
        self._out_structure = _flatten(out, self._out_flat)
        fetches = [o for o in self._out_flat if isinstance(o, Tensor | _graph.Operation)]
        side_effects = [op for op in self.graph.get_operations() if op.opdef.stateful
                        and op.type != "ReadVariableOp" and op.type != "Placeholder"]
        self._session = Session(graph=self.graph)
        self._session._profile_source = "tf.function"  # how tf.profiler labels its kernels
        self._fetches = fetches + side_effects  # assignments run even if not returned
        self._n_out = len(fetches)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flat: list[Any] = []
        _flatten((list(args), kwargs), flat)
        feed = {p: _as_array(flat[i]) for p, i in zip(self._inputs, self._arg_slots)}
        values = iter(self._session.run(self._fetches, feed)[: self._n_out])
        leaves = []
        for o in self._out_flat:
            if isinstance(o, Tensor):
                leaves.append(EagerTensor(np.asarray(next(values))))
            elif isinstance(o, _graph.Operation):
                leaves.append(next(values))  # an op returns None, as in TF
            else:
                leaves.append(o)  # Python values returned as they were at tracing time
        return _rebuild(self._out_structure, iter(leaves))


class Function:
    """The object ``@tf.function`` returns: traces per input signature, then replays."""

    def __init__(self, fn: Callable, input_signature: Any = None, **unused: Any) -> None:
        self._fn = fn
        self._concrete: dict[tuple, ConcreteFunction] = {}
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if is_tracing() or _graph.active_graph() is not None:
            return self._fn(*args, **kwargs)  # inside a graph already: just build the ops
        key = _signature((args, kwargs))
        cf = self._concrete.get(key)
        if cf is None:
            cf = self._concrete[key] = ConcreteFunction(self._fn, args, kwargs)
        return cf(*args, **kwargs)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        key = _signature((args, kwargs))
        if key not in self._concrete:
            self._concrete[key] = ConcreteFunction(self._fn, args, kwargs)
        return self._concrete[key]

    @property
    def python_function(self) -> Callable:
        return self._fn

    def experimental_get_tracing_count(self) -> int:
        return len(self._concrete)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:  # methods: bind per instance
        if obj is None:
            return self
        bound = obj.__dict__.get(f"__tf_function_{id(self)}")
        if bound is None:
            bound = Function(self._fn.__get__(obj, objtype))
            obj.__dict__[f"__tf_function_{id(self)}"] = bound
        return bound


def function(func: Callable | None = None, input_signature: Any = None, **kwargs: Any) -> Any:
    """Decorator: compile ``func`` into a graph per input signature and replay it."""
    if func is None:
        return lambda f: Function(f, input_signature, **kwargs)
    return Function(func, input_signature, **kwargs)


def _flatten(x: Any, flat: list) -> Any:
    """Structure of nested lists/tuples/dicts; leaves (anything else, None too) go to ``flat``."""
    if isinstance(x, dict):
        return (dict, [(k, _flatten(v, flat)) for k, v in x.items()])
    if isinstance(x, list | tuple) and not hasattr(x, "_fields"):
        return (type(x), [_flatten(v, flat) for v in x])
    flat.append(x)
    return None


def _rebuild(structure: Any, leaves: Iterator[Any]) -> Any:
    if structure is None:
        return next(leaves)
    kind, items = structure
    if kind is dict:
        return {k: _rebuild(s, leaves) for k, s in items}
    return kind(_rebuild(s, leaves) for s in items)


def _is_tensor_arg(a: Any) -> bool:
    return isinstance(a, EagerTensor | np.ndarray)


def _as_array(a: Any) -> np.ndarray:
    return a.numpy() if isinstance(a, EagerTensor) else np.asarray(a)


def _signature(args: Any) -> tuple:
    """Tensors and arrays by (shape, dtype); anything else by value (a new value retraces)."""
    flat: list[Any] = []
    _flatten(args, flat)
    key = []
    for a in flat:
        if _is_tensor_arg(a):
            arr = _as_array(a)
            key.append(("T", arr.shape, arr.dtype.str))
        elif hasattr(a, "_graph_tensor"):
            key.append(("V", id(a)))
        else:
            try:
                hash(a)
                key.append(("P", a))
            except TypeError:
                key.append(("O", id(a)))
    return tuple(key)
