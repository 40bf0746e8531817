"""Merge layers (Keras' names and semantics): ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Concatenate``, ``Dot``, and their functional forms (``add``,
``concatenate``, ...). Each is built from registry ops, so gradients come with them."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, math_ops, reduction_ops
from ..keras_tensor import OP_LAYERS
from .base import Layer


def _dims(shape: Any) -> list:
    return list(TensorShape(shape).as_list())


class _Merge(Layer):
    """Element-wise merge of a list of tensors of one shape (size-1 or unknown axes
    broadcast, as in Keras)."""

    _min_inputs = 1
    _max_inputs: int | None = None

    def build(self, input_shape: Any) -> None:
        kind = type(self).__name__
        if not isinstance(input_shape, list | tuple) or not input_shape or \
                not isinstance(input_shape[0], TensorShape | list | tuple):
            raise ValueError(f"A merge layer ({kind} '{self.name}') should be called on a list "
                             f"of inputs. Received: input_shape={input_shape}")
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (f"exactly {self._min_inputs}" if self._max_inputs == self._min_inputs
                    else f"at least {self._min_inputs}")
            raise ValueError(f"{kind} layer '{self.name}' should be called on {want} inputs. "
                             f"Received: {n} inputs.")
        self._check_shapes([_dims(s) for s in input_shape])
        self.built = True

    def _check_shapes(self, shapes: list[list]) -> None:
        shapes = [s for s in shapes if s] or [[]]  # scalars (x * 2.0 in Keras) broadcast
        out = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(out):
                raise ValueError(f"{type(self).__name__} layer '{self.name}': inputs must have "
                                 f"the same rank, got shapes {_fmt(shapes)}")
            merged = []
            for a, b in zip(out, s):
                if a is not None and b is not None and a != b and 1 not in (a, b):
                    raise ValueError(f"{type(self).__name__} layer '{self.name}': inputs must "
                                     f"have compatible shapes, got {_fmt(shapes)}")
                merged.append(None if a is None or b is None else max(a, b))
            out = merged

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be "
                             "called on a list of inputs")
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _merge(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def _finish(self, out: Any, n: int) -> Any:
        return out


def _fmt(shapes: list[list]) -> str:
    return ", ".join("(" + ", ".join(str(d) for d in s) + ")" for s in shapes)


@keras_export("keras.layers.Add")
class Add(_Merge):
    """The element-wise sum of its inputs."""

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.add(a, b)


@keras_export("keras.layers.Subtract")
class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _min_inputs = _max_inputs = 2

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.subtract(a, b)


@keras_export("keras.layers.Multiply")
class Multiply(_Merge):
    """The element-wise product of its inputs."""

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.multiply(a, b)


@keras_export("keras.layers.Average")
class Average(_Merge):
    """The element-wise mean of its inputs."""

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.add(a, b)

    def _finish(self, out: Any, n: int) -> Any:
        return math_ops.multiply(out, 1.0 / n)


@keras_export("keras.layers.Maximum")
class Maximum(_Merge):
    """The element-wise maximum of its inputs."""

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.maximum(a, b)


@keras_export("keras.layers.Minimum")
class Minimum(_Merge):
    """The element-wise minimum of its inputs."""

    def _merge(self, a: Any, b: Any) -> Any:
        return math_ops.minimum(a, b)


@keras_export("keras.layers.Concatenate")
class Concatenate(_Merge):
    """Its inputs joined along ``axis`` (all other axes must match)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_shapes(self, shapes: list[list]) -> None:
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"Concatenate layer '{self.name}' (axis={self.axis}) needs inputs "
                             f"of one rank that has that axis, got shapes {_fmt(shapes)}")
        axis = self.axis % rank
        for i in range(rank):
            known = {s[i] for s in shapes if s[i] is not None}
            if i != axis and len(known) > 1:
                raise ValueError(f"A `Concatenate` layer '{self.name}' requires inputs with "
                                 "matching shapes except for the concatenation axis "
                                 f"(axis={self.axis}). Received: input_shape={_fmt(shapes)}")

    def call(self, inputs: Any) -> Any:
        return array_ops.concat(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


@keras_export("keras.layers.Dot")
class Dot(_Merge):
    """Dot products of two tensors along ``axes`` (per sample; Keras' ``batch_dot``), with
    ``normalize=True`` the cosine similarity. minitf supports 2-D and 3-D inputs."""

    _min_inputs = _max_inputs = 2

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axes = axes if isinstance(axes, int) else [int(a) for a in axes]
        self.normalize = bool(normalize)

    def _axes(self, ranks: list[int]) -> list[int]:
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        return [a % r for a, r in zip(axes, ranks)]

    def _check_shapes(self, shapes: list[list]) -> None:
        ranks = [len(s) for s in shapes]
        if any(r not in (2, 3) for r in ranks) or len(set(ranks)) > 1:
            raise ValueError(f"Dot layer '{self.name}': minitf supports two inputs of rank 2 "
                             f"or 3 (the same), got shapes {_fmt(shapes)}")
        a, b = self._axes(ranks)
        if 0 in (a, b):
            raise ValueError(f"Dot layer '{self.name}': axes={self.axes} includes the batch "
                             "axis")
        if None not in (shapes[0][a], shapes[1][b]) and shapes[0][a] != shapes[1][b]:
            raise ValueError(f"Dot layer '{self.name}': incompatible input shapes "
                             f"{_fmt(shapes)} along axes {[a, b]}")

    def call(self, inputs: Any) -> Any:
        x, y = inputs
        rank = len(x.shape)
        a, b = self._axes([rank, rank])
        if self.normalize:
            x, y = _l2_normalize(x, a), _l2_normalize(y, b)
        if rank == 2:
            return reduction_ops.reduce_sum(math_ops.multiply(x, y), axis=1, keepdims=True)
        if a == 1:
            x = array_ops.transpose(x, [0, 2, 1])
        if b == 2:
            y = array_ops.transpose(y, [0, 2, 1])
        return math_ops.matmul(x, y)

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x: Any, axis: int) -> Any:
    sq = reduction_ops.reduce_sum(math_ops.multiply(x, x), axis=axis, keepdims=True)
    return math_ops.multiply(x, math_ops.rsqrt(math_ops.maximum(sq, 1e-12)))


OP_LAYERS.update(Add=Add, Subtract=Subtract, Multiply=Multiply)  # x + y, x - y, x * y


def _functional_form(cls: type, name: str) -> Any:
    def merge(inputs: list, **kwargs: Any) -> Any:
        return cls(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)``."
    return merge


add = keras_export("keras.layers.add")(_functional_form(Add, "add"))
subtract = keras_export("keras.layers.subtract")(_functional_form(Subtract, "subtract"))
multiply = keras_export("keras.layers.multiply")(_functional_form(Multiply, "multiply"))
average = keras_export("keras.layers.average")(_functional_form(Average, "average"))
maximum = keras_export("keras.layers.maximum")(_functional_form(Maximum, "maximum"))
minimum = keras_export("keras.layers.minimum")(_functional_form(Minimum, "minimum"))


@keras_export("keras.layers.concatenate")
def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


@keras_export("keras.layers.dot")
def dot(inputs: list, axes: Any = -1, normalize: bool = False, **kwargs: Any) -> Any:
    """``Dot(axes, normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
