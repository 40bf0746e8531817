"""``tf.numpy_function``: a Python function on NumPy arrays as one op of a graph.

The function runs on the host when the op runs (eagerly, or each time a traced
``tf.function``/Session graph reaches it), so a graph can call a library minitf has no op for
(MPI's all-reduce in ``minitf.distribute``). The op is stateful (never folded or pruned) and
has no gradient (None), as in TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import defop, op_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape


def _infer(shapes, dtypes, attrs):
    return [(attrs["shape"], attrs["Tout"])]


def _forward(rt, *arrays: np.ndarray, func: Callable, Tout: Any, shape: TensorShape  # noqa: N803
             ) -> np.ndarray:
    out = np.asarray(func(*arrays))
    if not shape.is_compatible_with(TensorShape(out.shape)):
        raise ValueError(f"numpy_function: {getattr(func, '__name__', func)!r} returned shape "
                         f"{out.shape}, but the op declares {shape}")
    return out.astype(Tout.np, copy=False)


defop("NumpyFunction", _infer, _forward, lambda op, g: [None] * len(op.inputs), stateful=True,
      api=("numpy_function",),
      doc="func(*inputs) on NumPy arrays, run on the host; output of dtype Tout and shape shape.")


@op_export("NumpyFunction")
def numpy_function(func: Callable, inp: list[Any], Tout: Any, stateful: bool = True,  # noqa: N803
                   name: str | None = None, shape: Any = None) -> Tensor:
    """``func(*inp)`` (NumPy arrays in, one array out) as an op with output dtype ``Tout``.

    Minitf differs: ``Tout`` is one dtype (one output), and minitf has no shapes of unknown
    rank, so the output's static shape is ``shape`` (default: the first input's shape; None
    for a dimension leaves it unknown); a function returning another shape is an error.
    """
    if isinstance(Tout, list | tuple):
        raise NotImplementedError("minitf's numpy_function has one output: pass one dtype as Tout")
    tensors = [convert_to_tensor(x) for x in inp]
    if shape is None:
        if not tensors:
            raise ValueError("numpy_function with no inputs needs shape=")
        shape = tensors[0].shape
    return execute("NumpyFunction", tensors, {"func": func, "Tout": _dtypes.as_dtype(Tout),
                                              "shape": TensorShape(shape)}, name=name)
