"""Random tensors (``tf.random``), reproducible with ``tf.random.set_seed``.

All draws come from one NumPy ``Generator`` (PCG64). ``set_seed(s)`` restarts it, so a seeded
notebook gives the same numbers on every run. An op-level ``seed`` gives that op its own
generator, derived from the global seed and the op seed, as TF's two-seed rule does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import defop, tf_export
from ..framework.tensor import Tensor
from . import _rules

_state: dict[str, Any] = {"seed": None, "rng": np.random.default_rng(), "op_rngs": {}}


@tf_export("random.set_seed", "set_random_seed")
def set_seed(seed: int | None) -> None:
    """Make every later random op reproducible (and reset the op-seeded generators)."""
    _state["seed"] = seed
    _state["rng"] = np.random.default_rng(seed)
    _state["op_rngs"] = {}


@tf_export("random.get_global_generator")
def get_global_generator() -> np.random.Generator:
    return _state["rng"]


def get_state() -> dict:
    """The generator state (for checkpoints), op-seeded generators included; JSON-able."""
    return {"seed": _state["seed"], "bit_generator": _state["rng"].bit_generator.state,
            "op_generators": [[g, s, r.bit_generator.state]
                              for (g, s), r in _state["op_rngs"].items()]}


def _generator(bit_generator_state: dict) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = bit_generator_state  # numpy validates it (a ValueError if bad)
    return rng


def set_state(state: dict) -> None:
    """Restore what ``get_state`` returned, so random draws continue where they were."""
    rng = _generator(state["bit_generator"])
    op_rngs = {(g, int(s)): _generator(r) for g, s, r in state.get("op_generators", [])}
    _state["seed"] = state["seed"]
    _state["rng"] = rng
    _state["op_rngs"] = op_rngs


def _rng(seed: int | None) -> np.random.Generator:
    if seed is None:
        return _state["rng"]
    key = (_state["seed"], seed)
    if key not in _state["op_rngs"]:
        _state["op_rngs"][key] = np.random.default_rng([seed, _state["seed"] or 0])
    return _state["op_rngs"][key]


def _infer(shapes, dtypes, attrs):
    _rules.require(attrs["dtype"], "f", "random normal/uniform")
    return [(attrs["shape"], attrs["dtype"])]


def _normal_forward(rt, shape, dtype, seed, mean, stddev):
    x = _rng(seed).standard_normal(shape, dtype=np.float64)
    return (x * stddev + mean).astype(dtype.np)


def _truncated_forward(rt, shape, dtype, seed, mean, stddev):
    rng = _rng(seed)
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2
    while bad.any():  # redraw values beyond two standard deviations, as TF does
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2
    return (x * stddev + mean).astype(dtype.np)


def _uniform_forward(rt, shape, dtype, seed, minval, maxval):
    return _rng(seed).uniform(minval, maxval, shape).astype(dtype.np)


def _uniform_like_forward(rt, x, seed):
    return _rng(seed).uniform(0.0, 1.0, x.shape).astype(x.dtype)


defop("RandomStandardNormal", _infer, _normal_forward, None, stateful=True,
      doc="Normally distributed values.")
defop("TruncatedNormal", _infer, _truncated_forward, None, stateful=True,
      doc="Normal values, redrawn when further than 2 standard deviations from the mean.")
defop("RandomUniform", _infer, _uniform_forward, None, stateful=True,
      doc="Uniform values in [minval, maxval).")
defop("RandomUniformLike", lambda shapes, dtypes, attrs: [(shapes[0], dtypes[0])],
      _uniform_like_forward, lambda op, g: [None], stateful=True,
      doc="Uniform [0, 1) values with the run-time shape of x.")


def _attrs(shape: Any, dtype: Any, seed: Any, **kw: Any) -> dict:
    shape = [shape] if isinstance(shape, int) else _rules.static_ints(shape, "shape")
    return {"shape": tuple(shape), "dtype": _dtypes.as_dtype(dtype),
            "seed": None if seed is None else int(seed), **{k: float(v) for k, v in kw.items()}}


@tf_export("random.normal", "random_normal")
def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = _dtypes.float32,
           seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples from N(mean, stddev**2)."""
    return execute("RandomStandardNormal", [], _attrs(shape, dtype, seed, mean=mean,
                                                      stddev=stddev), name)


@tf_export("random.truncated_normal", "truncated_normal")
def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = _dtypes.float32, seed: int | None = None,
                     name: str | None = None) -> Tensor:
    return execute("TruncatedNormal", [], _attrs(shape, dtype, seed, mean=mean, stddev=stddev),
                   name)


@tf_export("random.uniform", "random_uniform")
def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = _dtypes.float32,
            seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples from U[minval, maxval); an integer ``dtype`` needs ``maxval``, as in TF."""
    dtype = _dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        if int(maxval) <= int(minval):
            raise ValueError(f"Need minval < maxval for integer tf.random.uniform, got "
                             f"minval={minval}, maxval={maxval}")
        return execute("RandomUniformInt", [], {**_attrs(shape, dtype, seed),
                                                "minval": int(minval), "maxval": int(maxval)},
                       name)
    if maxval is None:
        maxval = 1.0
    return execute("RandomUniform", [], _attrs(shape, dtype, seed, minval=minval, maxval=maxval),
                   name)


def _uniform_int_infer(shapes, dtypes, attrs):
    _rules.require(attrs["dtype"], "i", "random uniform int")
    return [(attrs["shape"], attrs["dtype"])]


def _uniform_int_forward(rt, shape, dtype, seed, minval, maxval):
    return _rng(seed).integers(minval, maxval, shape).astype(dtype.np)


defop("RandomUniformInt", _uniform_int_infer, _uniform_int_forward, None, stateful=True,
      doc="Uniform integers in [minval, maxval).")


def random_uniform_like(x: Any, seed: int | None = None) -> Tensor:
    return execute("RandomUniformLike", [convert_to_tensor(x)],
                   {"seed": None if seed is None else int(seed)})


@tf_export("random.shuffle")
def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """``value`` with its first axis randomly permuted."""
    from .array_ops import gather

    value = convert_to_tensor(value)
    n = value.shape[0]
    perm = _rng(seed).permutation(n).astype(np.int32)
    return gather(value, perm, name=name)


# TF1 names
random_normal = normal
random_uniform = uniform
