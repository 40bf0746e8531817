"""minitf: a small, real deep-learning framework with TensorFlow's API, built to be read.

``import minitf as tf`` runs textbook TensorFlow code in both styles:

* TF2: eager tensors, ``tf.Variable``, ``tf.GradientTape``;
* TF1: ``tf.Graph``, ``tf.placeholder``, ``tf.Session().run(fetches, feed_dict)``,
  ``tf.gradients``.

Both are built on one op registry (``minitf/ops``), and kernels run on a NumPy reference
backend or on Numba-compiled CPU kernels (the default; ``tf.config.set_backend``).
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import (
    _malloc,  # noqa: F401 - reuse freed memory (see its docstring): before any kernel
    dtypes,
)
from .dtypes import (
    DType,
    as_dtype,
    bool,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from .framework.backprop import GradientTape, gradients
from .framework.device import device
from .framework.execute import convert_to_tensor
from .framework.function import function, init_scope
from .framework.graph import (
    Graph,
    Operation,
    control_dependencies,
    disable_eager_execution,
    enable_eager_execution,
    executing_eagerly,
    get_default_graph,
    name_scope,
    reset_default_graph,
)
from .framework.session import InteractiveSession, Session, get_default_session
from .framework.tensor import EagerTensor, Tensor
from .framework.tensor_shape import TensorShape
from .framework.variables import (
    Variable,
    global_variables,
    global_variables_initializer,
    trainable_variables,
    variables_initializer,
)
from .ops import array_ops as _array_ops
from .ops.array_ops import (
    broadcast_to,
    clip_by_value,
    concat,
    constant,
    expand_dims,
    eye,
    fill,
    gather,
    identity,
    linspace,
    newaxis,
    one_hot,
    ones,
    ones_like,
    placeholder,
    rank,
    reshape,
    shape,
    size,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
    where,
    zeros,
    zeros_like,
)
from .ops.control_ops import group, no_op
from .ops.math_ops import (
    abs,
    add,
    add_n,
    cast,
    cos,
    divide,
    equal,
    exp,
    floordiv,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    round,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    squared_difference,
    subtract,
    tanh,
    truediv,
)
from .ops.reduction_ops import (
    argmax,
    argmin,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
)
from .ops.state_ops import assign, assign_add, assign_sub

range = _array_ops.range  # noqa: A001 - TensorFlow's name
slice = _array_ops.slice  # noqa: A001

from . import checkpoint as _checkpoint  # noqa: E402
from . import (  # noqa: E402
    compat,
    config,
    data,
    errors,
    keras,
    math,
    nn,
    profiler,
    random,
    saved_model,
    train,
    visualize,
)
from . import datasets as _datasets  # noqa: E402
from .data import TensorSpec  # noqa: E402

train.Checkpoint = _checkpoint.Checkpoint
train.latest_checkpoint = _checkpoint.latest_checkpoint
keras.datasets = _datasets
optimizers = keras.optimizers  # tf.optimizers, as the seed code uses
losses = keras.losses
metrics = keras.metrics
initializers = keras.initializers

mod = math.floormod
random_normal = random.normal  # TF1 names
random_uniform = random.uniform
set_random_seed = random.set_seed


def __getattr__(name: str):  # packages above the core load on first use: ``tf.lite``
    if name == "lite":
        import importlib

        return importlib.import_module(".lite", __name__)
    raise AttributeError(f"module 'minitf' has no attribute {name!r}")


__all__ = [n for n in dir() if not n.startswith("_")]
