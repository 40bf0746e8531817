"""``tf.Variable``: mutable state, in either mode.

*Eager* variables (created outside any graph) hold their value themselves, like TF2.
*Graph* variables (created inside ``with g.as_default()`` or a Session block) hold nothing: each
Session stores their values, and ``tf.global_variables_initializer()`` fills them in, like TF1.
An eager variable used by graph ops is captured by reference, so a traced training step
updates the real variable (this is how ``tf.function``-style replay works).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from . import context as _ctx
from . import device as _device
from .api_export import tf_export
from .context import init_scope, is_tracing
from .control import group
from .execute import convert_to_tensor, execute
from .graph import Graph, active_graph, eager_scoped_name, get_default_graph
from .tensor import EagerTensor, Tensor, _TensorRef, is_symbolic
from .tensor_shape import TensorShape

GLOBAL_VARIABLES = "variables"
TRAINABLE_VARIABLES = "trainable_variables"


@tf_export("Variable")
class Variable:
    """A tensor whose value persists and can be changed with ``assign*``."""

    __array_priority__ = 100

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        shape: Any = None,
        validate_shape: bool = True,
    ) -> None:
        if initial_value is None:
            raise ValueError("tf.Variable needs an initial_value, e.g. tf.zeros([3, 2])")
        if is_tracing():  # created while tf.function traces: make a real (eager) variable
            with init_scope():
                self.__init__(initial_value, trainable, name, dtype, shape, validate_shape)
            return
        self.trainable = bool(trainable)
        # the device the value lives on (tf.device scope, else a GPU if one exists)
        self._placement = _device.resolve() if _device.ACTIVE else "CPU"
        self._graph: Graph | None = active_graph()
        self._graph_tensors: dict[int, Tensor] = {}
        if callable(initial_value):
            initial_value = initial_value()
        if self._graph is None:
            self._init_eager(initial_value, name, dtype, shape)
        else:
            self._init_graph(initial_value, name, dtype, shape)

    # -- creation ----------------------------------------------------------------------------------
    def _init_eager(self, initial_value: Any, name: str | None, dtype: Any, shape: Any) -> None:
        if is_symbolic(initial_value):
            raise ValueError(
                "An eager tf.Variable needs a value, but the initial value is the symbolic tensor "
                f"'{initial_value.name}'. Create the variable inside the graph's as_default()."
            )
        t = convert_to_tensor(initial_value, dtype=dtype)
        self._value = np.array(t.numpy(), copy=True)
        self._value.flags.writeable = False  # reads share this array; assign replaces it
        if self._placement == "GPU":
            self._value = _device.to_gpu(self._value)
        self._dtype = t.dtype
        self._shape = TensorShape(shape if shape is not None else self._value.shape)
        self._name = eager_scoped_name(name or "Variable") + ":0"
        self._initializer = None
        self._initial_value = t
        if _ctx.state.strategy is not None:  # tf.distribute: rank 0's value on every worker
            _ctx.state.strategy._on_variable_created(self)

    def _init_graph(self, initial_value: Any, name: str | None, dtype: Any, shape: Any) -> None:
        g = self._graph
        with g.as_default(), g.name_scope(name or "Variable") as scope:
            base = scope[:-1]
            init = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            self._dtype = init.dtype
            self._shape = TensorShape(shape) if shape is not None else init.shape
            self._value = None
            self._name = base + ":0"
            self._op_name = base
        # the variable's node carries the plain name ("W1", tensor "W1:0"), as in TF1;
        # a trailing "/" makes execute() use the name as given
        self._graph_tensors[id(g)] = execute(
            "ReadVariableOp", [], {"var": self, "shape": self._shape, "dtype": self._dtype},
            name=base + "/",
        )
        with g.as_default():
            self._initializer = execute("AssignVariableOp", [init], {"var": self},
                                        name=g.unique_name_absolute(base + "/Assign") + "/").op
        self._initial_value = init
        g.add_to_collection(GLOBAL_VARIABLES, self)
        if self.trainable:
            g.add_to_collection(TRAINABLE_VARIABLES, self)

    # -- reading ---------------------------------------------------------------------------------------
    def _graph_tensor(self, g: Graph) -> Tensor:
        """The tensor that stands for this variable's value inside graph ``g``."""
        t = self._graph_tensors.get(id(g))
        if t is None:
            if self._graph is not None and self._graph is not g:
                raise ValueError(f"Variable '{self.name}' belongs to another graph")
            with g.as_default(), g.name_scope(None), g.control_dependencies(None):
                t = execute("ReadVariableOp", [],
                            {"var": self, "shape": self._shape, "dtype": self._dtype},
                            name=self._name[:-2].replace("/", "_") + "_captured")
            self._graph_tensors[id(g)] = t
        if any(g._control_stack):
            # a read under control_dependencies is a new op that runs after them, as TF's
            # resource-variable reads do (identity(v) after assign_add sees the new value)
            with g.as_default(), g.name_scope(self._name[:-2] + "/"):
                return execute("ReadVariableOp", [],
                               {"var": self, "shape": self._shape, "dtype": self._dtype},
                               name="Read/ReadVariableOp")
        return t

    def _as_tensor(self) -> Tensor:
        g = active_graph() or self._graph
        if g is not None:
            return self._graph_tensor(g)
        return execute("ReadVariableOp", [], {"var": self, "shape": self._shape,
                                              "dtype": self._dtype})

    def value(self) -> Tensor:
        return self._as_tensor()

    def read_value(self) -> Tensor:
        return self._as_tensor()

    def numpy(self) -> np.ndarray:
        if self._graph is not None:
            raise ValueError(
                f"Variable '{self.name}' lives in a graph: its value is in a Session. "
                "Use sess.run(var)."
            )
        return _device.to_host(self._value)  # a copy only if the variable lives on a GPU

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = self.numpy()
        return v if dtype is None else v.astype(dtype)

    def __float__(self) -> float:  # float(v) works on an eager variable, as in TF
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def eval(self, session: Any = None) -> np.ndarray:
        if self._graph is None:
            return self.numpy()
        return (session or _ctx.default_session()).run(self)

    # -- writing ---------------------------------------------------------------------------------------
    def assign(self, value: Any, use_locking: bool = False, name: str | None = None,
               read_value: bool = True) -> Any:
        return self._update("AssignVariableOp", value, name)

    def assign_add(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Any:
        return self._update("AssignAddVariableOp", delta, name)

    def assign_sub(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Any:
        return self._update("AssignSubVariableOp", delta, name)

    def _update(self, op_type: str, value: Any, name: str | None) -> Any:
        value = convert_to_tensor(value, dtype_hint=self._dtype)
        if value.dtype != self._dtype:
            raise TypeError(
                f"{op_type} on variable '{self.name}': value is {value.dtype.name} but the "
                f"variable is {self._dtype.name}; use tf.cast"
            )
        out = execute(op_type, [value], {"var": self}, name=name)
        return self if isinstance(out, EagerTensor) else out

    # -- description ------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def initializer(self) -> Any:
        return self._initializer

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    @property
    def graph(self) -> Graph | None:
        return self._graph

    @property
    def device(self) -> str:
        return f"/job:localhost/replica:0/task:0/device:{self._placement}:0"

    def ref(self) -> Any:
        return _TensorRef(self)

    def __repr__(self) -> str:
        head = f"<tf.Variable '{self.name}' shape={self._shape} dtype={self._dtype.name}"
        if self._graph is None:
            v = self.numpy()
            shown = str(v[()]) if v.ndim == 0 else np.array_repr(v)  # as EagerTensor: numpy=2.5
            return f"{head}, numpy={shown}>"
        return head + ">"


def _variables(key: str) -> list[Variable]:
    g = active_graph() or get_default_graph()
    return g.get_collection(key)


@tf_export("global_variables")
def global_variables() -> list[Variable]:
    """The variables created in the default graph (graph mode)."""
    return _variables(GLOBAL_VARIABLES)


@tf_export("trainable_variables")
def trainable_variables() -> list[Variable]:
    return _variables(TRAINABLE_VARIABLES)


@tf_export("variables_initializer")
def variables_initializer(var_list: list[Variable], name: str = "init") -> Any:
    """One op that runs the initializers of ``var_list``."""
    return group(*[v.initializer for v in var_list if v.initializer is not None], name=name)


@tf_export("global_variables_initializer")
def global_variables_initializer() -> Any:
    """``sess.run(tf.global_variables_initializer())`` gives every graph variable its value.

    Eager variables already have one, so outside a graph this returns a no-op.
    """
    return variables_initializer(global_variables())
