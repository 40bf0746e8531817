"""TF1's variable sharing: ``tf.compat.v1.variable_scope``, ``get_variable``, ``AUTO_REUSE``,
and ``report_uninitialized_variables``.

``get_variable("w", shape)`` inside ``variable_scope("layer")`` makes (or, with ``reuse``, finds)
the variable ``layer/w``. Each graph keeps its own store, as TF1's variable store; eager mode
has one store of its own. A scope's ``reuse`` is inherited by the scopes inside it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.errors import FailedPreconditionError
from ..framework.execute import execute
from ..framework.graph import active_graph
from ..framework.registry import defop, tf_export
from ..framework.variables import Variable, global_variables
from . import init_ops_v1


class _ReuseMode:
    def __repr__(self) -> str:
        return "tf.compat.v1.AUTO_REUSE"


REGULARIZATION_LOSSES = "regularization_losses"  # the graph collection get_variable adds to
# get_variable makes a variable if missing, else returns it
AUTO_REUSE = tf_export("AUTO_REUSE")(_ReuseMode())

_local = threading.local()  # the stack of open variable scopes (per thread, as TF's)
_eager_store: dict[str, Variable] = {}


@tf_export("VariableScope")
class VariableScope:
    """An open ``variable_scope``: its name, reuse mode, default initializer and dtype."""

    def __init__(self, name: str, reuse: Any = None, initializer: Any = None,
                 dtype: Any = _dtypes.float32, regularizer: Any = None) -> None:
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = _dtypes.as_dtype(dtype)
        self.original_name_scope = name + "/" if name else ""

    def reuse_variables(self) -> None:
        """Reuse variables from now on in this scope (TF1's ``scope.reuse_variables()``)."""
        self.reuse = True

    def __repr__(self) -> str:
        return f"<VariableScope {self.name!r} reuse={self.reuse!r}>"


def _stack() -> list[VariableScope]:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = [VariableScope("")]
    return s


@tf_export("get_variable_scope")
def get_variable_scope() -> VariableScope:
    """The innermost open variable scope (the root scope has the name "")."""
    return _stack()[-1]


@tf_export("variable_scope")
@contextlib.contextmanager
def variable_scope(name_or_scope: Any = None, default_name: str | None = None,
                   values: Any = None, initializer: Any = None, regularizer: Any = None,
                   caching_device: Any = None, partitioner: Any = None,
                   custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                   use_resource: Any = None, constraint: Any = None,
                   auxiliary_name_scope: bool = True) -> Iterator[VariableScope]:
    """Open a variable scope (and a name scope of the same name for the ops inside).

    ``reuse=True`` makes ``get_variable`` return existing variables (an error if missing);
    ``AUTO_REUSE`` makes them if missing; ``None`` inherits the outer scope's mode.
    """
    if reuse not in (None, True, False) and reuse is not AUTO_REUSE:
        raise ValueError(f"reuse must be True, False, None or tf.compat.v1.AUTO_REUSE, "
                         f"got {reuse!r}")
    outer = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        full, inherit = name_or_scope.name, name_or_scope
    elif name_or_scope:
        full, inherit = _join(outer.name, str(name_or_scope)), outer
    elif default_name:
        full, inherit = _join(outer.name, _unique_default(outer.name, default_name)), outer
    else:
        raise ValueError("variable_scope needs name_or_scope or default_name")
    mode = reuse if reuse is not None else (inherit.reuse or outer.reuse or None)
    if outer.reuse is True and reuse is not False:
        mode = True  # reuse=True is inherited by every inner scope, as in TF1
    scope = VariableScope(full, mode,
                          initializer if initializer is not None else inherit.initializer,
                          dtype if dtype is not None else inherit.dtype,
                          regularizer if regularizer is not None else inherit.regularizer)
    g = active_graph()
    _stack().append(scope)
    try:
        if g is None or not auxiliary_name_scope:
            yield scope
        else:
            # the ops' name scope is made unique ("layer_1/") while the variables keep "layer/"
            ns_name = (full + "/" if isinstance(name_or_scope, VariableScope)
                       else full.rsplit("/", 1)[-1])
            with g.name_scope(ns_name) as ns:
                scope.original_name_scope = ns
                yield scope
    finally:
        _stack().pop()


def _join(outer: str, name: str) -> str:
    return f"{outer}/{name}" if outer else name


def _unique_default(outer: str, default_name: str) -> str:
    store = _store()
    base, n = default_name, 0
    while any(k == _join(outer, base) or k.startswith(_join(outer, base) + "/") for k in store):
        n += 1
        base = f"{default_name}_{n}"
    return base


def _store() -> dict[str, Variable]:
    g = active_graph()
    if g is None:
        return _eager_store
    store = g.__dict__.get("_variable_store")
    if store is None:
        store = g.__dict__["_variable_store"] = {}
    return store


@tf_export("get_variable")
def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                 regularizer: Any = None, trainable: bool | None = None,
                 collections: Any = None, caching_device: Any = None, partitioner: Any = None,
                 validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None, **kwargs: Any) -> Variable:
    """The variable ``<scope>/name``: made new, or found when the scope reuses variables.

    ``initializer`` is a TF1 initializer (default: the scope's, else
    ``glorot_uniform_initializer`` for floats and zeros otherwise), or a tensor/array value
    (then ``shape`` must be left out). In a graph, ``regularizer(var)`` (or the scope's) goes
    into the graph collection ``"regularization_losses"``, as in TF1.
    """
    scope = get_variable_scope()
    full = _join(scope.name, name)
    store = _store()
    found = store.get(full)
    if found is not None:
        if scope.reuse is None or scope.reuse is False:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and not found.shape.is_compatible_with(_as_shape(shape)):
            raise ValueError(f"Trying to share variable {full}, but specified shape "
                             f"{tuple(_as_shape(shape))} and found shape {tuple(found.shape)}.")
        if dtype is not None and _dtypes.as_dtype(dtype) != found.dtype:
            raise ValueError(f"Trying to share variable {full}, but specified dtype "
                             f"{_dtypes.as_dtype(dtype).name} and found dtype "
                             f"{found.dtype.name}.")
        return found
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?")
    var = _make(full, shape, dtype, initializer, scope, trainable)
    store[full] = var
    reg = regularizer if regularizer is not None else scope.regularizer
    g = active_graph()
    if reg is not None and g is not None:  # TF1's GraphKeys.REGULARIZATION_LOSSES
        with g.as_default(), g.name_scope(full + "/Regularizer/"):
            loss = reg(var)
        if loss is not None:
            g.add_to_collection(REGULARIZATION_LOSSES, loss)
    return var


def _as_shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def _make(full: str, shape: Any, dtype: Any, initializer: Any, scope: VariableScope,
          trainable: bool | None) -> Variable:
    init = initializer if initializer is not None else scope.initializer
    if init is not None and not callable(init):  # a value: its shape is the variable's
        if shape is not None:
            raise ValueError(f"If initializer is a constant, do not specify shape "
                             f"(variable {full}).")
        value: Any = init
    else:
        if shape is None:
            raise ValueError(f"Shape of a new variable ({full}) must be fully defined, "
                             "but instead was None.")
        d = _dtypes.as_dtype(dtype) if dtype is not None else scope.dtype
        if init is None:
            init = (init_ops_v1.glorot_uniform_initializer() if d.is_floating
                    else init_ops_v1.zeros_initializer())
        shp, fn = _as_shape(shape), init

        def value() -> Any:
            return fn(shp, dtype=d)

    g = active_graph()
    if g is not None:  # the variable keeps the scope's name even if the name scope is "x_1"
        name = g.unique_name_absolute(full) + "/"
    else:
        name = full
    return Variable(value, trainable=True if trainable is None else trainable, name=name,
                    dtype=dtype if not callable(value) else None)


# -- report_uninitialized_variables ---------------------------------------------------------------


def _report_infer(shapes, dtypes, attrs):
    # minitf has no string dtype: the names come back from sess.run as a NumPy array of bytes
    # (as TF's), while the static dtype says uint8
    return [((None,), _dtypes.uint8)]


def _report_forward(rt, var_list):
    missing = []
    for v in var_list:
        try:
            rt.read(v)
        except FailedPreconditionError:
            missing.append(v.name[:-2].encode())
    return np.array(missing, dtype=object)


defop("ReportUninitializedVariables", _report_infer, _report_forward, None, stateful=True,
      doc="The names of the variables in var_list that have no value yet.")


@tf_export("report_uninitialized_variables")
def report_uninitialized_variables(var_list: list[Variable] | None = None,
                                   name: str = "report_uninitialized_variables") -> Any:
    """``sess.run`` of it gives the names (bytes) of the variables still uninitialized.

    minitf differs: there is no string dtype, so the tensor's static dtype is a stand-in;
    the fetched value is TF's (``array([b'w'], dtype=object)``). Eager: an empty array.
    """
    if var_list is None:
        var_list = global_variables()
    g = active_graph() or next((v.graph for v in var_list if v.graph is not None), None)
    if g is None:  # eager variables always have a value
        return np.array([], dtype=object)
    with g.as_default():
        return execute("ReportUninitializedVariables", [], {"var_list": list(var_list)}, name)

