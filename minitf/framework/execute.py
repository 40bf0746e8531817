"""One entry point for every op: ``execute(op_type, inputs, attrs)``.

If a graph is active (``with g.as_default()``, a Session's ``with`` block, or any input is a
symbolic tensor) the op is *added to the graph*; otherwise it *runs now* on the active backend
and, when a GradientTape is watching one of its inputs, is recorded on that tape. Either way the
same registry entry supplies the shape rule, the kernel and the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backends as _backends
from .. import dtypes as _dtypes
from . import context as _ctx
from . import device as _device
from . import registry
from .api_export import tf_export
from .errors import FailedPreconditionError, InvalidArgumentError, OpError, UnimplementedError
from .graph import Graph, Operation, active_graph
from .registry import ShapeError, describe
from .tape import EagerOp, record
from .tensor import EagerTensor, Tensor, is_symbolic

__all__ = ["EagerOp", "convert_to_tensor", "execute", "kernel_error", "run_op_error"]

# -- converting Python values ---------------------------------------------------------------------


def _np_value(value: Any, dtype: _dtypes.DType | None) -> np.ndarray:
    """A Python/NumPy value as an ndarray of a minitf dtype (TF's default: float32, int32).

    The result never shares memory with ``value``: a tensor is a snapshot of the array.
    """
    arr = _np_value_view(value, dtype)
    if isinstance(value, np.ndarray) and np.may_share_memory(arr, value):
        arr = arr.copy()
    return arr


def _np_value_view(value: Any, dtype: _dtypes.DType | None) -> np.ndarray:
    arr = np.asarray(value)  # [] is float64 here: an empty list converts to any dtype
    if dtype is not None:
        if arr.dtype.kind == "f" and dtype.is_integer and (arr.size or arr is value):
            raise TypeError(f"Cannot convert {_short(value)} to an integer tensor ({dtype.name})")
        if arr.dtype.kind == "c" and not dtype.is_complex:
            raise TypeError(f"Cannot convert complex {_short(value)} to {dtype.name}")
        if arr.dtype.kind in "iu" and dtype.is_integer and not np.can_cast(arr.dtype, dtype.np):
            _check_int_range(value, arr, dtype)
        with np.errstate(over="ignore"):  # 1e40 as float32 is inf, as in TF
            return arr.astype(dtype.np, copy=False)
    if arr.dtype == np.float64 and not isinstance(value, np.ndarray | np.generic):
        with np.errstate(over="ignore"):
            return arr.astype(np.float32)  # Python floats become float32, as in TF
    if arr.dtype == np.int64 and not isinstance(value, np.ndarray | np.generic):
        info = np.iinfo(np.int32)
        if arr.size == 0 or (info.min <= arr.min() and arr.max() <= info.max):
            return arr.astype(np.int32)  # Python ints become int32, as in TF
        return arr
    if arr.dtype == np.complex128 and not isinstance(value, np.ndarray | np.generic):
        return arr.astype(np.complex128)
    if arr.dtype.kind in "OUS":
        raise TypeError(f"Cannot convert {_short(value)} to a tensor: minitf has no string tensors")
    _dtypes.as_dtype(arr.dtype)  # raises a clear error for unsupported dtypes
    return arr


def _check_int_range(value: Any, arr: np.ndarray, dtype: _dtypes.DType) -> None:
    """Refuse integers that ``dtype`` cannot hold, as TF does (NumPy would wrap them)."""
    if not arr.size:
        return
    info = np.iinfo(dtype.np)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < info.min or hi > info.max:
        bad = lo if lo < info.min else hi
        raise TypeError(
            f"Cannot convert {_short(value)} to EagerTensor of dtype {dtype.name}: {bad} is "
            f"outside its range [{info.min}, {info.max}]"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


@tf_export("convert_to_tensor")
def convert_to_tensor(
    value: Any, dtype: Any = None, name: str | None = None, dtype_hint: Any = None
) -> Tensor:
    """``tf.convert_to_tensor``: Tensors pass through, Variables are read, anything else
    becomes a constant. ``dtype_hint`` is used for Python values when it fits."""
    dtype = _dtypes.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != dtype:
            raise TypeError(
                f"Expected a {dtype.name} tensor, got {value.dtype.name}; use tf.cast to convert"
            )
        return value
    if hasattr(value, "_as_tensor"):  # Variables and other tensor-likes
        t = value._as_tensor()
        if dtype is not None and t.dtype != dtype:
            raise TypeError(f"Expected {dtype.name}, got a {t.dtype.name} variable")
        return t
    if dtype is None and dtype_hint is not None and not isinstance(value, np.ndarray):
        hint = _dtypes.as_dtype(dtype_hint)
        kind = np.asarray(value).dtype.kind
        fits = (kind in "iub" and not hint.is_bool) or (kind == "f" and not hint.is_integer)
        fits = fits or (kind == "b" and hint.is_bool) or (kind == "c" and hint.is_complex)
        if fits:
            dtype = hint
    g = active_graph()
    arr = _np_value(value, dtype)
    if g is not None:
        return execute("Const", [], {"value": arr}, name=name or "Const")
    return EagerTensor(arr)


# -- the runtime an op's forward sees -------------------------------------------------------------


class EagerRuntime:
    """What ``forward(rt, ...)`` gets when ops run eagerly: the backend and variable storage."""

    @property
    def be(self):
        return _backends.get_backend()

    def read(self, var: Any) -> np.ndarray:
        if var._value is None:
            raise FailedPreconditionError(f"Variable '{var.name}' is not initialized")
        return var._value

    def write(self, var: Any, value: np.ndarray) -> None:
        var._value = value


EAGER = EagerRuntime()

# Read on every eager op: bound once here so the hot path pays one attribute load for each.
_STATE = _ctx.state  # .profiler: the recording tf.profiler.Profile, or None
_LOCAL = _ctx.local  # .tapes: this thread's active GradientTapes


# -- execute ------------------------------------------------------------------------------------------


def execute(
    op_type: str,
    inputs: Sequence[Any],
    attrs: dict[str, Any] | None = None,
    name: str | None = None,
    control_inputs: Sequence[Any] = (),
) -> Any:
    """Create (graph mode) or run (eager mode) one op; returns its output(s)."""
    opdef = registry.get(op_type)
    attrs = attrs if attrs is not None else {}
    g = active_graph()
    if g is None:
        for x in inputs:
            if is_symbolic(x):
                g = x.graph
                break
    if g is not None:
        return _build(g, opdef, inputs, attrs, name, control_inputs)
    return _run_eager(opdef, inputs, attrs, name)


def _graph_input(x: Any, g: Graph) -> Tensor:
    if is_symbolic(x):
        if x.graph is not g:
            raise ValueError(
                f"Tensor '{x.name}' belongs to another graph: an op can only join tensors of one "
                "graph (did you create it outside `with graph.as_default():`?)"
            )
        return x
    if hasattr(x, "_graph_tensor"):  # a Variable
        return x._graph_tensor(g)
    if isinstance(x, EagerTensor):  # capture the value as a constant of this graph
        hit = g._captures.get(id(x))
        if hit is None:
            with g.as_default(), g.name_scope(None):
                t = execute("Const", [], {"value": x._value}, name="Const")
            g._captures[id(x)] = (x, t)
            return t
        return hit[1]
    with g.as_default():
        return convert_to_tensor(x)


def _build(
    g: Graph,
    opdef: registry.OpDef,
    inputs: Sequence[Any],
    attrs: dict[str, Any],
    name: str | None,
    control_inputs: Sequence[Any],
) -> Any:
    tensors = [_graph_input(x, g) for x in inputs]
    if name and name.endswith("/"):  # an exact name, already reserved by the caller
        full_name = name[:-1]
    else:
        full_name = g.unique_name(name or opdef.type)
    specs = opdef.check(full_name, [t.shape for t in tensors], [t.dtype for t in tensors], attrs)
    op = g._add_op(opdef, tensors, attrs, specs, full_name)
    if _device.ACTIVE:  # a GPU may be in play: the op runs where the tf.device scope says
        op._device = _device.resolve()
    for c in control_inputs:
        op.control_inputs.append(c.op if isinstance(c, Tensor) else c)
    if _LOCAL.tapes:  # tapes also work while building a graph (tf.function)
        record(opdef, tensors, op.outputs, attrs, op)
    if opdef.num_outputs == 0:
        return op
    return op.outputs[0] if opdef.num_outputs == 1 else tuple(op.outputs)


def _run_eager(opdef: registry.OpDef, inputs: Sequence[Any], attrs: dict[str, Any],
               name: str | None = None) -> Any:
    tensors = [x if isinstance(x, EagerTensor) else convert_to_tensor(x) for x in inputs]
    shapes = [t._shape for t in tensors]
    dts = [t._dtype for t in tensors]
    specs = opdef.check(name or opdef.type, shapes, dts, attrs)
    try:
        profiler = _STATE.profiler
        if profiler is not None:  # tf.profiler is recording: it times the same dispatch
            result = profiler.run_eager(opdef, name, tensors, attrs)
        elif _device.ACTIVE:  # a GPU may be in play: placement picks the device
            result = _device.run_eager(opdef, EAGER, tensors, attrs)
        else:
            result = opdef.forward(EAGER, *[t._value for t in tensors], **attrs)
    except (OpError, MemoryError):
        raise
    except Exception as e:  # the same policy as Session.run: see kernel_error
        raise kernel_error(opdef.type, name, shapes, dts, e) from e
    if opdef.num_outputs == 0:
        return None
    results = (result,) if opdef.num_outputs == 1 else result
    outs = [_wrap(r, d) for r, (_, d) in zip(results, specs)]
    if _LOCAL.tapes:
        record(opdef, tensors, outs, attrs)
    return outs[0] if opdef.num_outputs == 1 else tuple(outs)


def _wrap(r: Any, dtype: _dtypes.DType) -> EagerTensor:
    if not isinstance(r, np.ndarray) or r.dtype != dtype.np:
        if hasattr(r, "copy_to_host"):  # a device array: the op ran on the GPU
            return _device.wrap(r, dtype)
        r = np.asarray(r, dtype=dtype.np)
    return EagerTensor(r, dtype)


# -- one error policy for failing kernels ---------------------------------------------------------


def kernel_error(op_type: str, name: str | None, shapes: Sequence[Any], dts: Sequence[Any],
                 err: Exception, op: Any = None, msg: str | None = None) -> Exception:
    """The error a failing kernel raises, the same in eager mode, ``tf.function`` and
    ``Session.run``: TF's error classes, with a message naming the op, its inputs' shapes
    and dtypes.

    Callers let an ``OpError`` (and ``MemoryError``) pass unchanged; ``NotImplementedError``
    becomes ``UnimplementedError``; anything else the kernel raises (a TypeError from a bad
    dtype, a ValueError, IndexError, ...) becomes ``InvalidArgumentError``, as TF reports it.
    """
    cls = UnimplementedError if isinstance(err, NotImplementedError) else InvalidArgumentError
    return cls(describe(op_type, name, shapes, dts, str(err) if msg is None else msg), op)


def run_op_error(op: Operation, arrays: Sequence[Any], err: Exception) -> Exception:
    """:func:`kernel_error` for a node of a Session plan, with the arrays it really got."""
    shapes = [getattr(a, "shape", ()) for a in arrays]
    dts = [_dtypes.as_dtype(a.dtype) if hasattr(a, "dtype") else type(a).__name__
           for a in arrays]
    msg = None
    try:
        op.opdef.infer(shapes, dts, op.attrs)  # the shape rule often explains it best
    except ShapeError as e:
        msg = str(e)
    except Exception:  # the rule cannot judge these inputs: keep the kernel's message
        msg = None
    return kernel_error(op.type, op.name, shapes, dts, err, op, msg)
