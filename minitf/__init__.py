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

# Importing a module declares the public names it defines (``tf_export`` in
# ``framework/api_export.py``: tf.Session, tf.Variable, tf.float32, tf.constant, ...); the
# namespace is filled from those declarations below, not from a list kept here.
from . import (
    _malloc,  # reuse freed memory (see its docstring): before any kernel
    compat,
    config,
    data,
    dtypes,
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
from . import checkpoint as _checkpoint
from . import datasets as _datasets
from . import ops as _ops  # every op and the public names it declares
from . import saver as _saver
from .framework import backprop as _backprop
from .framework import device as _device
from .framework import execute as _execute
from .framework import function as _function
from .framework import function_options as _function_options
from .framework import graph as _graph
from .framework import nest  # tf.nest
from .framework import session as _session
from .framework import tensor as _tensor
from .framework import tensor_shape as _tensor_shape
from .framework import variables as _variables
from .framework.api_export import exports as _exports
from .framework.api_export import lookup as _lookup

globals().update(_exports(""))  # tf.Session, tf.constant, tf.add, ...: every declared tf.* name

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
