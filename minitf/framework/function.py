"""``tf.function``: trace a Python function into a Graph once, then replay the cached plan.

Calling a traced function costs only the kernels: the Python code, the op dispatch and the
shape checks ran once, when the function was traced for that input signature (the shapes and
dtypes of its tensor arguments). Eager variables the function uses are captured by reference,
so assignments inside it update the real variables. Variables created while tracing are lifted
out of the graph and created eagerly (TF's ``init_scope``), so lazily built layers work.

A call under a GradientTape is recorded on it as one op whose gradient is the traced backward
function (``function_call.py``), so tapes differentiate through ``tf.function`` calls. Options
and ``input_signature`` are checked in ``function_options.py``; ``jit_compile=True`` hands
each trace to the compiler that ``minitf/__init__.py`` installs (``minitf.compiler``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from . import context as _ctx
from . import function_call as _call
from . import function_options as _options
from . import graph as _graph
from . import nest
from .api_export import tf_export
from .context import init_scope, is_tracing
from .execute import execute
from .graph import Graph
from .session import Session
from .tensor import EagerTensor, Tensor
from .tensor_shape import TensorShape

_LOCAL = _ctx.local  # .tapes, read on every call

tf_export("init_scope")(init_scope)  # defined in context, which imports nothing from minitf

__all__ = ["ConcreteFunction", "Function", "function", "init_scope", "is_tracing"]


class ConcreteFunction:
    """One traced graph of a function for one input signature, with its cached plan."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        self.graph = Graph()
        self._arg_slots: list[int] = []  # positions in the flat argument list that are tensors
        structure = (list(args), kwargs)
        flat = nest.flatten(structure)
        names = _input_names(fn, args, kwargs)
        self._inputs: list[Tensor] = []
        graph_args: list[Any] = []
        with _call.no_tapes(), _ctx.tracing(), self.graph.as_default():
            for i, a in enumerate(flat):
                attrs = _placeholder_attrs(a)
                if attrs is not None:
                    p = execute("Placeholder", [], attrs, name=names[i])
                    self._inputs.append(p)
                    self._arg_slots.append(i)
                    graph_args.append(p)
                else:
                    graph_args.append(a)
            pos, kw = nest.pack_sequence_as(structure, graph_args)
            out = fn(*pos, **kw)
        self._out = out
        self._out_flat = nest.flatten(out)
        fetches = [o for o in self._out_flat if isinstance(o, Tensor | _graph.Operation)]
        side_effects = [op for op in self.graph.get_operations() if op.opdef.stateful
                        and op.type != "ReadVariableOp" and op.type != "Placeholder"]
        self._session = Session(graph=self.graph)
        self._session._profile_source = "tf.function"  # how tf.profiler labels its kernels
        self._fetches = fetches + side_effects  # assignments run even if not returned
        self._n_out = len(fetches)
        self._run: Callable[..., list] | None = None  # the session's callable, made on first use
        # per flat output: 0 a tensor, 1 an operation (returns None), 2 a Python value
        self._out_kinds = [0 if isinstance(o, Tensor) else 1 if isinstance(o, _graph.Operation)
                           else 2 for o in self._out_flat]
        self._graph_fn: _call.GraphFunction | None = None  # built when a tape sees a call
        self._compiled: Any = None  # set by Function when jit_compile=True

    @property
    def inputs(self) -> list[Tensor]:
        """The placeholders of the tensor arguments, in argument order."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[Any]:
        """The returned tensors and operations of the graph, flattened."""
        return [o for o in self._out_flat if isinstance(o, Tensor | _graph.Operation)]

    def experimental_get_compiler_ir(self, *args: Any, **kwargs: Any) -> Callable[..., str]:
        """``(stage="source") -> str``: the source ``jit_compile=True`` generates for this
        graph, or the IR after a pass (see ``minitf.compiler``); the arguments are ignored."""
        compiled = self._compiled or _options.compiler()(self)
        return compiled.ir

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call_flat(_flat_args(args, kwargs))

    def _call_flat(self, flat: list) -> Any:
        """Run the graph on the flattened arguments ``flat`` (``nest.flatten((args, kwargs))``)."""
        arrays = [_as_array(flat[i]) for i in self._arg_slots]
        if self._compiled is not None:
            values = iter(self._compiled(arrays))
        else:
            if self._run is None:  # the graph walk and fetch/feed lookups, once
                self._run = self._session.make_callable(self._fetches, self._inputs)
            values = iter(self._run(*arrays))
        leaves = []
        for o, kind in zip(self._out_flat, self._out_kinds):
            if kind == 0:
                leaves.append(EagerTensor(np.asarray(next(values))))
            elif kind == 1:
                leaves.append(next(values))  # an op returns None, as in TF
            else:
                leaves.append(o)  # Python values returned as they were at tracing time
        if _LOCAL.tapes:  # record the call as one op, differentiable by the tape
            self._record(flat, leaves)
        return nest.pack_sequence_as(self._out, leaves)

    def _record(self, flat: list, leaves: list) -> None:
        outs = [x for x, o in zip(leaves, self._out_flat) if isinstance(o, Tensor)]
        if self._graph_fn is None:
            tensors = [o for o in self._out_flat if isinstance(o, Tensor)]
            self._graph_fn = _call.GraphFunction(self.graph, self._inputs, tensors,
                                                 self._session)
        args = [flat[i] if isinstance(flat[i], EagerTensor) else EagerTensor(_as_array(flat[i]))
                for i in self._arg_slots]
        _call.record_call(self._graph_fn, args, outs)


class Function:
    """The object ``@tf.function`` returns: traces per input signature, then replays.

    With ``input_signature`` (a list of ``tf.TensorSpec``, one per positional argument) it
    traces once, with ``None`` dimensions left unknown, and rejects arguments that do not
    match; without, it traces once per shapes and dtypes of the tensor arguments (and per
    value of the other arguments).
    """

    def __init__(self, fn: Callable, input_signature: Any = None, **options: Any) -> None:
        _options.check_options(options)
        self._fn = fn
        self._options = options
        self._signature = (None if input_signature is None
                           else _options.check_signature(input_signature))
        self._params = _positional_params(fn)  # to bind keywords to input_signature
        self._concrete: dict[tuple, ConcreteFunction] = {}
        functools.update_wrapper(self, fn)

    @property
    def input_signature(self) -> tuple | None:
        return None if self._signature is None else tuple(self._signature)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if is_tracing() or _graph.active_graph() is not None:
            return self._fn(*args, **kwargs)  # inside a graph already: just build the ops
        if self._signature is not None:
            args, kwargs = self._bind(args, kwargs), {}
            return self.get_concrete_function()(*args)
        flat = _flat_args(args, kwargs)  # once: the cache key and the call use it
        key = _flat_signature(flat)
        cf = self._concrete.get(key)
        if cf is None:
            cf = self._concrete[key] = self._trace(args, kwargs)
        return cf._call_flat(flat)

    def _bind(self, args: tuple, kwargs: dict) -> list:
        return _options.bind(self._signature, self._params, args, kwargs)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        if self._signature is not None:  # one trace, of the signature itself
            if args or kwargs:
                self._bind(args, kwargs)  # the arguments must match it
            args, kwargs = tuple(self._signature), {}
        key = _signature((args, kwargs))
        if key not in self._concrete:
            self._concrete[key] = self._trace(args, kwargs)
        return self._concrete[key]

    def _trace(self, args: Any, kwargs: Any) -> ConcreteFunction:
        cf = ConcreteFunction(self._fn, args, kwargs)
        if self._options.get("jit_compile"):
            # Keras' compile(jit_compile=True) sets _jit_strict = False: stateless ops
            # without a lowering rule then run op by op inside the compiled step
            cf._compiled = _options.compiler()(cf, getattr(self, "_jit_strict", True))
        return cf

    def experimental_get_compiler_ir(self, *args: Any, **kwargs: Any) -> Callable[..., str]:
        """``(stage="source") -> str`` for the trace of these arguments (TF's method)."""
        return self.get_concrete_function(*args, **kwargs).experimental_get_compiler_ir()

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
            bound = Function(self._fn.__get__(obj, objtype), self._signature, **self._options)
            obj.__dict__[f"__tf_function_{id(self)}"] = bound
        return bound


@tf_export("function")
def function(func: Callable | None = None, input_signature: Any = None, **options: Any) -> Any:
    """Decorator: compile ``func`` into a graph per input signature and replay it.

    minitf honours ``input_signature`` and ``autograph=False``; TF's other options are
    accepted at their default values only: any other value raises a ValueError (an unknown
    option a TypeError), see ``function_options.py``.
    """
    _options.check_options(options)  # fail at the decorator, not at the first call
    if func is None:
        return lambda f: Function(f, input_signature, **options)
    return Function(func, input_signature, **options)


def _positional_params(fn: Callable) -> list[str]:
    try:
        return [p.name for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _input_names(fn: Callable, args: tuple, kwargs: dict) -> list[str]:
    """A placeholder name per flat argument: its parameter's (or keyword's) name, as TF names
    them; ``arg{i}`` where there is none."""
    params = _positional_params(fn)
    names: list[str | None] = []
    for k, a in enumerate(args):
        names += [params[k] if k < len(params) else None] * len(nest.flatten(a))
    for key in sorted(kwargs):  # nest.flatten orders a dict by key
        names += [key] * len(nest.flatten(kwargs[key]))
    return [n or f"arg{i}" for i, n in enumerate(names)]


def _placeholder_attrs(a: Any) -> dict | None:
    """The placeholder standing for a tensor argument (or a TensorSpec of input_signature,
    whose None dimensions stay unknown); None for any other argument."""
    if _options.is_spec(a):
        return {"shape": a.shape, "dtype": a.dtype}
    if _is_tensor_arg(a):
        arr = _as_array(a)
        return {"shape": TensorShape(arr.shape), "dtype": _dtypes.as_dtype(arr.dtype)}
    return None


def _is_tensor_arg(a: Any) -> bool:
    return isinstance(a, EagerTensor | np.ndarray)


def _as_array(a: Any) -> np.ndarray:
    return a.numpy() if isinstance(a, EagerTensor) else np.asarray(a)


def _flat_args(args: tuple, kwargs: dict) -> list:
    """``nest.flatten((list(args), kwargs))``, through nest's fast path for a flat list."""
    return nest.flatten([*args, kwargs] if kwargs else list(args))


def _signature(args: Any) -> tuple:
    """Tensors and arrays by (shape, dtype); anything else by value (a new value retraces)."""
    return _flat_signature(nest.flatten(args))


def _flat_signature(flat: list) -> tuple:
    key = []
    for a in flat:
        if type(a) is np.ndarray:  # the common case first (fit feeds arrays)
            key.append(("T", a.shape, a.dtype.str))
        elif _is_tensor_arg(a):
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
