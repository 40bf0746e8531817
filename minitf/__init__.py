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
from . import ops as _ops  # registers every op and the public names it declares
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
from .framework.registry import exports as _exports
from .framework.registry import lookup as _lookup
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

globals().update(_exports(""))  # tf.constant, tf.add, ...: see registry.tf_export/op_export

from . import checkpoint as _checkpoint  # noqa: E402
from . import (  # noqa: E402
    compat,
    config,
    data,
    errors,
    image,
    keras,
    linalg,
    math,
    nn,
    profiler,
    random,
    saved_model,
    signal,
    train,
    visualize,
)
from . import datasets as _datasets  # noqa: E402
from . import saver as _saver  # noqa: E402
from .data import TensorSpec  # noqa: E402
from .framework import function_options as _function_options  # noqa: E402
from .framework import nest  # noqa: E402 - tf.nest

train.Checkpoint = _checkpoint.Checkpoint
train.latest_checkpoint = _checkpoint.latest_checkpoint
train.CheckpointManager = _checkpoint.CheckpointManager
train.Saver = _saver.Saver  # tf.compat.v1.train.Saver (compat.v1 is minitf itself)
keras.datasets = _datasets
optimizers = keras.optimizers  # tf.optimizers, as the seed code uses
losses = keras.losses
metrics = keras.metrics
initializers = keras.initializers


def _jit_compile(concrete: object, strict: bool = True) -> object:
    """tf.function(jit_compile=True): minitf.compiler loads on its first use only."""
    from .compiler import compile_function

    return compile_function(concrete, strict)


_function_options.set_compiler(_jit_compile)

__all__ = [n for n in dir() if not n.startswith("_")]


_LAZY = {"lite": "minitf.lite", "distribute": "minitf.distribute"}
"""Packages above the core, imported on first use (``tf.lite``, ``tf.distribute``, which may
start MPI) so ``import minitf`` stays fast."""


def __getattr__(name: str) -> object:  # lazy packages; names declared later (ops added at run time)
    if name in _LAZY:
        import importlib

        return importlib.import_module(_LAZY[name])
    return _lookup("", name)
