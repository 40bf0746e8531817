"""Data types: ``tf.float32`` and friends, each a thin wrapper around a NumPy dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import api_export as _api

_PYBOOL = bool  # saved before this module's ``bool`` shadows the builtin


@_api.tf_export("DType")
class DType:
    """A tensor element type. Compares equal to its NumPy dtype and to its name."""

    __slots__ = ("name", "np")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)

    @property
    def as_numpy_dtype(self) -> type:
        return self.np.type

    @property
    def is_floating(self) -> bool:
        return self.np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.np.kind in "iu"

    @property
    def is_complex(self) -> bool:
        return self.np.kind == "c"

    @property
    def is_bool(self) -> bool:
        return self.np.kind == "b"

    @property
    def is_differentiable(self) -> bool:
        return self.is_floating or self.is_complex

    @property
    def min(self) -> Any:
        return np.finfo(self.np).min if self.is_floating else np.iinfo(self.np).min

    @property
    def max(self) -> Any:
        return np.finfo(self.np).max if self.is_floating else np.iinfo(self.np).max

    def __eq__(self, other: object) -> bool:
        try:
            return self.np == as_dtype(other).np
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):  # pragma: no cover - DTypes are module singletons
        return (as_dtype, (self.name,))


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool = DType("bool", np.bool_)  # noqa: A001 - TensorFlow's name
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
double = float64
half = float16

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL} | {"double": float64, "half": float16}
_BY_NP = {d.np: d for d in ALL}
for _name, _dtype in _BY_NAME.items():  # tf.float32, ..., tf.double, tf.half
    _api.tf_export(_name)(_dtype)


@_api.tf_export("as_dtype")
def as_dtype(value: Any) -> DType:
    """Turn a DType, its name, a NumPy dtype or a Python type into a minitf DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"Unknown dtype {value!r}; minitf supports {sorted(_BY_NAME)}")
    if value is float:
        return float32
    if value is int:
        return int32
    if value is _PYBOOL:
        return bool
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot interpret {value!r} as a dtype") from None
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError(
        f"dtype {npd} is not supported by minitf; use one of "
        f"{', '.join(d.name for d in ALL)} (tf.cast converts)"
    )

