"""One or more test cases for every op in the registry, from which the gradient checks
(``test_gradcheck.py``) and the backend parity tests (``test_parity.py``) are generated.

A case says how to call the op through its public function (or ``execute`` for internal ops),
how to make valid inputs, and which inputs are differentiable. Inputs keep away from kinks,
ties and singularities (``Log`` gets positive inputs, ``Relu`` inputs stay away from 0, ``Max``
inputs have no ties, ``Pow`` has a positive base), so central differences are accurate.

Input generators return NumPy arrays: a ``float64`` array stands for "the float dtype under
test" (float64 for gradient checks, float32 for parity), any other dtype is used as it is.

Every registered op must appear in ``CASES``, in ``STATEFUL_CASES`` or in ``NO_CASE``, and every
op without a gradient-checked case must be listed in ``NOT_FD`` with the reason: a new op
without a case makes ``test_every_op_has_a_case`` fail.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import minitf as tf
import minitf.ops
from minitf.backends.rnn_numpy import GATES
from minitf.framework.execute import execute
from minitf.ops import (
    array_ops,
    conv_ops,
    conv_pool_ops,
    math_ops,
    optimizer_ops,
    random_ops,
    rnn_ops,
)

for _mod in pkgutil.iter_modules(minitf.ops.__path__):  # register every op module's ops
    importlib.import_module(f"minitf.ops.{_mod.name}")

Gen = Callable[[np.random.Generator], np.ndarray]

# -- input generators ------------------------------------------------------------------------------


def floats(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Gen:
    """Uniform floats in [lo, hi)."""
    return lambda rng: rng.uniform(lo, hi, shape)


def positive(*shape: int, lo: float = 0.5, hi: float = 2.0) -> Gen:
    return floats(*shape, lo=lo, hi=hi)


def away(*shape: int, lo: float = 0.2, hi: float = 2.0) -> Gen:
    """Random sign times a magnitude in [lo, hi): never near 0 (kinks of relu, abs, ...)."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


def distinct(*shape: int, lo: float = -2.0, gap: float = 0.15) -> Gen:
    """Values at least ``gap`` apart (no ties for max/min), in random order."""
    def gen(rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(shape))
        vals = lo + gap * (np.arange(n) + rng.uniform(0.0, 0.3, n))
        return rng.permutation(vals).reshape(shape)

    return gen


def cfloats(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Gen:
    """Complex numbers with uniform real and imaginary parts in [lo, hi) (complex128 stands for
    the complex dtype under test: complex64 for parity)."""
    return lambda rng: rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)


def caway(*shape: int, lo: float = 0.5, hi: float = 2.0) -> Gen:
    """Complex numbers of modulus in [lo, hi) at any angle: away from 0 (|z|, 1/z, log z)."""
    def gen(rng):
        return rng.uniform(lo, hi, shape) * np.exp(1j * rng.uniform(-3.0, 3.0, shape))

    return gen


def ints(*shape: int, lo: int = 0, hi: int = 5, dtype: Any = np.int32) -> Gen:
    return lambda rng: rng.integers(lo, hi, shape).astype(dtype)


def nonzero_ints(*shape: int, lo: int = -5, hi: int = 6, dtype: Any = np.int32) -> Gen:
    def gen(rng):
        v = rng.integers(lo, hi, shape)
        return np.where(v == 0, 1, v).astype(dtype)

    return gen


def bools(*shape: int) -> Gen:
    return lambda rng: rng.random(shape) < 0.5


def fixed(value: Any, dtype: Any = None) -> Gen:
    arr = np.array(value, dtype=dtype)
    return lambda rng: arr.copy()


def probs(*shape: int) -> Gen:
    """Rows that sum to 1 (soft labels)."""
    def gen(rng):
        p = rng.uniform(0.1, 1.0, shape)
        return p / p.sum(-1, keepdims=True)

    return gen


def elu_outputs(*shape: int) -> Gen:
    """Values elu can produce, away from its kink: (-0.9, -0.1) or (0.1, 2)."""
    def gen(rng):
        neg = rng.uniform(-0.9, -0.1, shape)
        pos = rng.uniform(0.1, 2.0, shape)
        return np.where(rng.random(shape) < 0.5, neg, pos)

    return gen


def relu6_inputs(*shape: int) -> Gen:
    """Away from both kinks of relu6 (0 and 6), and some values beyond each."""
    def gen(rng):
        return rng.choice([-1.5, 0.5, 3.0, 5.5, 7.0], shape) + rng.uniform(-0.3, 0.3, shape)

    return gen


def off_integers(*shape: int, lo: float = -3.0, hi: float = 3.0) -> Gen:
    """Values whose fractional part is in [0.2, 0.4] or [0.6, 0.8]: away from floor/round steps."""
    def gen(rng):
        whole = rng.integers(int(lo), int(hi), shape)
        frac = rng.choice([0.3, 0.7], shape) + rng.uniform(-0.1, 0.1, shape)
        return whole + frac

    return gen


# -- cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpCase:
    """``fn(*inputs)`` builds op ``op`` (and maybe helpers); ``diff`` are the input positions
    whose gradients are checked against finite differences."""

    op: str
    fn: Callable[..., Any]
    inputs: tuple[Gen, ...] = ()
    diff: tuple[int, ...] = ()
    label: str = ""
    no_grad: tuple[int, ...] = ()  # float inputs whose gradient is None by definition
    second: str = ""  # a reason to skip the second-order check ("" = checked)
    static: str = ""  # why the case needs static shapes ("" = also runs with unknown dims)
    eps: float = 1e-6
    rtol: float = 1e-5
    atol: float = 1e-8
    parity_rtol: float = 2e-5  # float32 parity tolerances (relative to the largest value)

    @property
    def id(self) -> str:
        return f"{self.op}-{self.label}" if self.label else self.op

    def arrays(self, float_dtype: Any = np.float64, seed: int = 0) -> list[np.ndarray]:
        """The inputs, reproducible per case: float64 generators take ``float_dtype``."""
        rng = np.random.default_rng([zlib.crc32(self.id.encode()), seed])
        out = []
        for gen in self.inputs:
            a = np.asarray(gen(rng))
            if a.dtype == np.float64:
                a = a.astype(float_dtype)
            elif a.dtype == np.complex128:
                a = a.astype(np.result_type(float_dtype, np.complex64))
            out.append(a)
        return out

    def run(self, *xs: Any) -> list[Any]:
        """The case's outputs as a list (multi-output ops return tuples)."""
        out = self.fn(*xs)
        return list(out) if isinstance(out, list | tuple) else [out]

    def tape_gradients(self, arrays: Sequence[np.ndarray], ws: Sequence[np.ndarray]
                       ) -> tuple[list[Any], list[Any]]:
        """Eager outputs, and the tape's gradients of ``sum(w * output)`` with respect to the
        ``diff`` inputs (on the current device and backend)."""
        xs = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            tape.watch([xs[i] for i in self.diff])
            outs = self.run(*xs)
        grads = tape.gradient(outs, [xs[i] for i in self.diff],
                              output_gradients=[tf.constant(w) for w in ws])
        return outs, grads


CASES: list[OpCase] = []


def case(op: str, fn: Callable[..., Any], inputs: Sequence[Gen] = (), diff: Sequence[int] = (),
         label: str = "", **kw: Any) -> None:
    CASES.append(OpCase(op, fn, tuple(inputs), tuple(diff), label, **kw))


def ex(op_type: str, **attrs: Any) -> Callable[..., Any]:
    """Call an internal op directly (it has no public function)."""
    return lambda *xs: execute(op_type, list(xs), attrs)


# -- creation, identity, shapes --------------------------------------------------------------------

case("Const", lambda: tf.constant([[1.5, -2.0, 3.0], [0.25, 0.0, 7.0]]))
case("Identity", tf.identity, [floats(2, 3)], [0])
case("StopGradient", tf.stop_gradient, [floats(2, 3)], no_grad=(0,))
case("Shape", tf.shape, [floats(2, 3, 1)])
case("Size", tf.size, [floats(2, 3)])
case("ZerosLike", tf.zeros_like, [floats(2, 3)], no_grad=(0,))
case("OnesLike", tf.ones_like, [floats(3)], no_grad=(0,))

# -- broadcasting ---------------------------------------------------------------------------------

case("BroadcastLike", array_ops.broadcast_like, [floats(3), floats(2, 3)], [0], "row",
     no_grad=(1,))
case("BroadcastLike", array_ops.broadcast_like, [floats(2, 1), floats(2, 3)], [0], "col")
case("SumToShapeOf", array_ops.sum_to_shape_of, [floats(2, 3), floats(3)], [0], "row",
     no_grad=(1,))
case("SumToShapeOf", array_ops.sum_to_shape_of, [floats(2, 2, 3), floats(2, 1, 3)], [0], "mid")
case("SumToShapeOf", array_ops.sum_to_shape_of, [floats(2, 3), floats(2, 3)], [0], "same")
case("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 2]), [floats(3, 1)], [0])

# -- reshaping -------------------------------------------------------------------------------------

case("Reshape", lambda x: tf.reshape(x, [3, -1]), [floats(2, 3)], [0])
case("ReshapeLike", array_ops.reshape_like, [floats(2, 3), floats(3, 2)], [0], no_grad=(1,))
case("Transpose", tf.transpose, [floats(2, 3)], [0], "default")
case("Transpose", lambda x: tf.transpose(x, [1, 2, 0]), [floats(2, 3, 2)], [0], "perm")
case("ExpandDims", lambda x: tf.expand_dims(x, 1), [floats(2, 3)], [0])
case("ExpandDims", lambda x: tf.expand_dims(x, -1), [floats(2, 3)], [0], "neg")
case("Squeeze", lambda x: tf.squeeze(x, [1]), [floats(2, 1, 3)], [0])
case("Squeeze", tf.squeeze, [floats(1, 3, 1)], [0], "all")

# -- joining, splitting, tiling --------------------------------------------------------------------

_CONCAT_STATIC = "the Concat gradient needs static sizes on the concat axis"
case("ConcatV2", lambda a, b, c: tf.concat([a, b, c], axis=1),
     [floats(2, 1), floats(2, 3), floats(2, 2)], [0, 1, 2], static=_CONCAT_STATIC)
case("ConcatV2", lambda a, b: tf.concat([a, b], axis=-2), [floats(1, 3), floats(2, 3)], [0, 1],
     "neg", static=_CONCAT_STATIC)
case("Pack", lambda a, b: tf.stack([a, b], axis=1), [floats(2, 3), floats(2, 3)], [0, 1])
case("Pack", lambda a, b, c: tf.stack([a, b, c]), [floats(2), floats(2), floats(2)], [0, 1, 2],
     "axis0")
case("Tile", lambda x: tf.tile(x, [2, 1, 3]), [floats(2, 2, 1)], [0])
case("TileGrad", ex("TileGrad", multiples=(2, 3)), [floats(4, 6), floats(2, 2)], [0],
     no_grad=(1,))

# -- indexing --------------------------------------------------------------------------------------

case("StridedSlice", lambda x: x[1:, ::-2], [floats(3, 4)], [0])
case("StridedSlice", lambda x: x[..., 1], [floats(2, 3, 3)], [0], "ellipsis")
case("StridedSlice", lambda x: x[None, -1, 0:3:2], [floats(3, 4)], [0], "newaxis")
case("StridedSlice", lambda x: tf.slice(x, [1, 0], [1, -1]), [floats(3, 3)], [0], "tf.slice")
case("StridedSlice", lambda x: tf.unstack(x, axis=1)[2], [floats(2, 3)], [0], "unstack",
     static="tf.unstack needs the static size of the axis")
_SLICE_KEY = (slice(1, None), slice(None, None, -2))
case("StridedSliceGrad", ex("StridedSliceGrad", key=_SLICE_KEY), [floats(2, 2), floats(3, 4)],
     [0], no_grad=(1,))
case("GatherV2", lambda p, i: tf.gather(p, i, axis=1), [floats(2, 4), fixed([3, 0, 3, 1], "int32")],
     [0])
case("GatherV2", tf.gather, [floats(3, 2), fixed([[2, 2], [0, 1]], "int64")], [0], "2d-indices")
case("GatherGrad", ex("GatherGrad", axis=0),
     [floats(2, 2, 3), fixed([[2, 2], [0, 3]], "int32"), floats(4, 3)], [0], no_grad=(2,))

_NO_SVD_GRAD = "no derivative of the SVD: the 2-norm's gradient is not differentiable in x"
case("MatrixSpectralNorm", ex("MatrixSpectralNorm"), [floats(2, 3, 4)], [0], second=_NO_SVD_GRAD)
case("MatrixSpectralNormGrad", ex("MatrixSpectralNormGrad"), [floats(2), floats(2, 3, 4)], [0],
     no_grad=(1,), second=_NO_SVD_GRAD)

# -- selection -------------------------------------------------------------------------------------

case("SelectV2", tf.where, [bools(2, 3), floats(2, 3), floats(3)], [1, 2])
case("SelectV2", tf.where, [bools(2, 1), floats(1, 3), floats(2, 1)], [1, 2], "broadcast")
case("Where", tf.where, [bools(3, 2)])
case("OneHot", lambda i: tf.one_hot(i, 4), [fixed([0, 3, 1, 7], "int32")])
case("OneHot", lambda i: tf.one_hot(i, 3, on_value=2.0, off_value=-1.0, axis=0),
     [fixed([[0, 2], [1, 1]], "int32")], label="axis0")

# -- unary math ------------------------------------------------------------------------------------

case("Neg", tf.negative, [floats(2, 3)], [0])
case("Neg", lambda x: -x, [ints(4, lo=-5)], label="int")
case("Abs", tf.abs, [away(2, 3)], [0])
case("Abs", tf.abs, [ints(5, lo=-5)], label="int")
case("Sign", tf.sign, [away(2, 3)], no_grad=(0,))
case("Square", tf.square, [floats(2, 3)], [0])
case("Sqrt", tf.sqrt, [positive(2, 3)], [0])
case("Rsqrt", tf.math.rsqrt, [positive(2, 3)], [0])
case("Reciprocal", tf.math.reciprocal, [away(2, 3, lo=0.5)], [0])
case("Exp", tf.exp, [floats(2, 3)], [0])
case("Expm1", tf.math.expm1, [floats(2, 3)], [0])
case("Log", tf.math.log, [positive(2, 3)], [0])
case("Log1p", tf.math.log1p, [floats(2, 3, lo=-0.5, hi=2.0)], [0])
case("Sin", tf.sin, [floats(2, 3, lo=-3.0, hi=3.0)], [0])
case("Cos", tf.cos, [floats(2, 3, lo=-3.0, hi=3.0)], [0])
case("Tanh", tf.tanh, [floats(2, 3)], [0])
case("Sigmoid", tf.sigmoid, [floats(2, 3, lo=-4.0, hi=4.0)], [0])
case("Relu", tf.nn.relu, [away(2, 3)], [0])
case("Relu", tf.nn.relu, [ints(5, lo=-5)], label="int")
case("Relu6", tf.nn.relu6, [relu6_inputs(2, 3)], [0])
case("Softplus", tf.nn.softplus, [floats(2, 3, lo=-3.0, hi=3.0)], [0])
case("Elu", tf.nn.elu, [away(2, 3)], [0])
case("Floor", tf.math.floor, [off_integers(2, 3)], no_grad=(0,))
case("Ceil", tf.math.ceil, [off_integers(2, 3)], no_grad=(0,))
case("Round", tf.round, [off_integers(2, 3)], no_grad=(0,))
case("Round", tf.round, [fixed([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])], label="half-to-even")
_quant = minitf.ops.quant_ops
case("FakeQuantWithMinMaxVars", lambda x: _quant.fake_quant_with_min_max_vars(x, -1.5, 1.0),
     [floats(3, 4)])
case("FakeQuantWithMinMaxVarsPerChannel",
     lambda x: _quant.fake_quant_with_min_max_vars_per_channel(
         x, [-1.0, -0.5, 0.0, -2.0], [1.0, 0.5, 2.0, 0.25], narrow_range=True), [floats(3, 4)])
case("LogicalNot", tf.logical_not, [bools(2, 3)])
case("LeakyRelu", lambda x: tf.nn.leaky_relu(x, alpha=0.3), [away(2, 3)], [0])

# -- fused gradient ops ----------------------------------------------------------------------------

case("ReluGrad", math_ops.relu_grad, [floats(2, 3), away(2, 3)], [0], no_grad=(1,))
case("Relu6Grad", math_ops.relu6_grad, [floats(2, 3), relu6_inputs(2, 3)], [0], no_grad=(1,))
case("SigmoidGrad", math_ops.sigmoid_grad, [floats(2, 3, lo=0.1, hi=0.9), floats(2, 3)], [0, 1])
case("TanhGrad", math_ops.tanh_grad, [floats(2, 3, lo=-0.9, hi=0.9), floats(2, 3)], [0, 1])
case("SqrtGrad", math_ops.sqrt_grad, [positive(2, 3), floats(2, 3)], [0, 1])
case("RsqrtGrad", math_ops.rsqrt_grad, [positive(2, 3), floats(2, 3)], [0, 1])
case("ReciprocalGrad", math_ops.reciprocal_grad, [floats(2, 3), floats(2, 3)], [0, 1])
case("SoftplusGrad", math_ops.softplus_grad, [floats(2, 3), floats(2, 3)], [0, 1])
case("EluGrad", math_ops.elu_grad, [floats(2, 3), elu_outputs(2, 3)], [0, 1])
case("LeakyReluGrad", lambda g, x: math_ops.leaky_relu_grad(g, x, alpha=0.3),
     [floats(2, 3), away(2, 3)], [0], no_grad=(1,))

# -- binary arithmetic -----------------------------------------------------------------------------


def _floormod_inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.choice([-1.0, 1.0], (2, 3)) * rng.uniform(0.5, 2.0, (2, 3))
    x = y * (rng.integers(-2, 3, (2, 3)) + rng.uniform(0.2, 0.8, (2, 3)))
    return x, y


case("AddV2", tf.add, [floats(2, 3), floats(2, 3)], [0, 1])
case("AddV2", lambda a, b: a + b, [floats(2, 3), floats(3)], [0, 1], "broadcast")
case("AddV2", tf.add, [floats(2, 1), floats(1, 3)], [0, 1], "outer")
case("AddV2", tf.add, [ints(2, 3), ints(3)], label="int")
case("Sub", lambda a, b: a - b, [floats(2, 3), floats(2, 1)], [0, 1])
case("Mul", lambda a, b: a * b, [floats(2, 3), floats(2, 3)], [0, 1])
case("Mul", tf.multiply, [floats(3), floats(2, 3)], [0, 1], "broadcast")
case("Mul", tf.multiply, [ints(2, 3, lo=-4), ints(3, lo=-4)], label="int")
case("RealDiv", lambda a, b: a / b, [floats(2, 3), away(2, 3, lo=0.5)], [0, 1])
case("RealDiv", tf.divide, [floats(2, 3), away(3, lo=0.5)], [0, 1], "broadcast")
case("RealDiv", tf.divide, [ints(2, 3, lo=-9, hi=9), nonzero_ints(2, 3)], label="int")
case("FloorDiv", lambda a, b: a // b, [fixed([7.5, -7.5, 3.3, -0.4]), fixed([2.0, 2.0, -1.5, 3.0])],
     no_grad=(0, 1))
case("FloorDiv", tf.math.floordiv, [ints(2, 3, lo=-9, hi=9), nonzero_ints(2, 3)], label="int")
case("FloorMod", lambda a, b: a % b,  # x and y drawn together: one fixed generator for both
     [lambda rng: _floormod_inputs(np.random.default_rng(5))[0],
      lambda rng: _floormod_inputs(np.random.default_rng(5))[1]], [0, 1])
case("FloorMod", tf.math.floormod, [ints(2, 3, lo=-9, hi=9), nonzero_ints(2, 3)], label="int")
case("Pow", tf.pow, [positive(2, 3), floats(2, 3)], [0, 1])
case("Pow", lambda a, b: a ** b, [positive(2, 3), floats(3)], [0, 1], "broadcast")
case("Pow", tf.pow, [ints(2, 3, lo=-3, hi=4), ints(2, 3, lo=0, hi=4)], label="int")
case("Maximum", tf.maximum, [distinct(2, 3), distinct(3, lo=-1.93)], [0, 1])
case("Maximum", tf.maximum, [ints(2, 3), ints(2, 3)], label="int")
case("Minimum", tf.minimum, [distinct(2, 3), distinct(2, 3, lo=-1.93)], [0, 1])
case("SquaredDifference", tf.math.squared_difference, [floats(2, 3), floats(3)], [0, 1])

# -- comparisons and logic -------------------------------------------------------------------------

_TIES = fixed([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
_TIES_Y = fixed([1.0, 0.5, 3.5])
case("Equal", tf.equal, [_TIES, _TIES_Y])
case("Equal", tf.equal, [ints(2, 3, hi=3), ints(2, 3, hi=3)], label="int")
case("Equal", tf.equal, [bools(4), bools(4)], label="bool")
case("NotEqual", tf.not_equal, [_TIES, _TIES_Y])
case("Less", lambda a, b: a < b, [_TIES, _TIES_Y])
case("LessEqual", lambda a, b: a <= b, [_TIES, _TIES_Y])
case("Greater", lambda a, b: a > b, [_TIES, _TIES_Y])
case("GreaterEqual", lambda a, b: a >= b, [ints(2, 3, hi=3), ints(2, 3, hi=3)])
case("LogicalAnd", tf.logical_and, [bools(2, 3), bools(2, 3)])
case("LogicalOr", lambda a, b: a | b, [bools(2, 3), bools(3)])

# -- matmul ----------------------------------------------------------------------------------------

case("MatMul", tf.matmul, [floats(2, 3), floats(3, 4)], [0, 1])
case("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True), [floats(3, 2), floats(3, 4)],
     [0, 1], "ta")
case("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True), [floats(2, 3), floats(4, 3)],
     [0, 1], "tb")
case("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
     [floats(3, 2), floats(4, 3)], [0, 1], "ta-tb")
case("MatMul", lambda a, b: a @ b, [floats(2, 2, 3), floats(3, 2)], [0, 1], "batch-broadcast")
case("MatMul", tf.matmul, [floats(2, 1, 2, 3), floats(3, 3, 2)], [0, 1], "batch-both")
case("MatMul", tf.matmul, [ints(2, 3, lo=-3), ints(3, 2, lo=-3)], label="int")

# -- cast ------------------------------------------------------------------------------------------


def _sixteenths(*shape: int) -> Gen:
    """float32 values k/16: exactly representable, so steps of 1/16 are exact."""
    return lambda rng: (rng.integers(-32, 32, shape) / 16).astype(np.float32)


case("Cast", lambda x: tf.cast(x, tf.float64), [_sixteenths(2, 3)], [0], "f32-f64",
     eps=1 / 16)
case("Cast", lambda x: tf.cast(x, tf.int32), [off_integers(2, 3)], label="to-int")
case("Cast", lambda x: tf.cast(x, tf.float32), [ints(2, 3, lo=-5)], label="from-int")
case("Cast", lambda x: tf.cast(x, tf.float32), [bools(2, 3)], label="from-bool")

# -- complex numbers (gradients: TF's convention dL/dRe + i dL/dIm, see complex_ops.py) -------

case("Complex", tf.complex, [floats(2, 3), floats(2, 3)], [0, 1])
case("Complex", tf.complex, [floats(2, 3), floats(3)], [0, 1], "broadcast")
case("Real", tf.math.real, [cfloats(2, 3)], [0])
case("Imag", tf.math.imag, [cfloats(2, 3)], [0])
case("Conj", tf.math.conj, [cfloats(2, 3)], [0])
case("ComplexAbs", tf.abs, [caway(2, 3)], [0])
case("Angle", tf.math.angle, [caway(2, 3)], [0])
case("Cast", lambda x: tf.cast(x, tf.float64), [cfloats(2, 3)], [0], "complex-real")
case("Cast", lambda x: tf.cast(x, tf.complex128), [floats(2, 3)], [0], "real-complex")
case("Neg", tf.negative, [cfloats(2, 3)], [0], "complex")
case("Square", tf.square, [cfloats(2, 3)], [0], "complex")
case("Exp", tf.exp, [cfloats(2, 3, lo=-1.0, hi=1.0)], [0], "complex")
case("Log", tf.math.log, [caway(2, 3)], [0], "complex")
case("Sin", tf.sin, [cfloats(2, 3, lo=-1.0, hi=1.0)], [0], "complex")
case("Cos", tf.cos, [cfloats(2, 3, lo=-1.0, hi=1.0)], [0], "complex")
case("Sign", tf.sign, [caway(2, 3)], label="complex", no_grad=(0,))
case("Sqrt", tf.sqrt, [caway(2, 3)], [0], "complex")
case("Rsqrt", tf.math.rsqrt, [caway(2, 3)], [0], "complex")
case("Reciprocal", tf.math.reciprocal, [caway(2, 3)], [0], "complex")
case("Expm1", tf.math.expm1, [cfloats(2, 3, lo=-1.0, hi=1.0)], [0], "complex")
case("Log1p", tf.math.log1p, [caway(2, 3, lo=0.2, hi=0.5)], [0], "complex")
case("Tanh", tf.tanh, [cfloats(2, 3, lo=-0.7, hi=0.7)], [0], "complex")
case("Sigmoid", tf.sigmoid, [cfloats(2, 3, lo=-1.0, hi=1.0)], [0], "complex")
case("Pow", tf.pow, [caway(2, 3), cfloats(2, 3, lo=-1.0, hi=1.0)], [0, 1], "complex")
case("Prod", lambda x: tf.reduce_prod(x, axis=1), [caway(2, 3, lo=0.5, hi=1.5)], [0], "complex")
case("AddV2", lambda a, b: a + b, [cfloats(2, 3), cfloats(3)], [0, 1], "complex")
case("Sub", lambda a, b: a - b, [cfloats(2, 3), cfloats(2, 1)], [0, 1], "complex")
case("Mul", lambda a, b: a * b, [cfloats(2, 3), cfloats(3)], [0, 1], "complex")
case("RealDiv", lambda a, b: a / b, [cfloats(2, 3), caway(2, 3)], [0, 1], "complex")
case("MatMul", tf.matmul, [cfloats(2, 3), cfloats(3, 4)], [0, 1], "complex")
case("MatMul", lambda a, b: tf.matmul(a, b, adjoint_a=True), [cfloats(3, 2), cfloats(3, 4)],
     [0, 1], "complex-adjoint")
case("Equal", tf.equal, [fixed([1 + 2j, 3j, -1.0]), fixed([1 + 2j, 3.0, -1.0])], label="complex")
case("SquaredDifference", tf.math.squared_difference, [cfloats(2, 3), cfloats(3)], [0, 1],
     "complex")
case("Sum", lambda x: tf.reduce_sum(x, axis=1), [cfloats(2, 3)], [0], "complex")
case("Mean", tf.reduce_mean, [cfloats(2, 3)], [0], "complex")

# -- tf.signal --------------------------------------------------------------------------------------

_FFT_LENGTH = "fft_length is an attribute fixed when the op is built"
case("FFT", tf.signal.fft, [cfloats(2, 5)], [0])
case("IFFT", tf.signal.ifft, [cfloats(3, 4)], [0])
case("FFT2D", tf.signal.fft2d, [cfloats(2, 3, 4)], [0])
case("IFFT2D", tf.signal.ifft2d, [cfloats(3, 2)], [0])
case("RFFT", tf.signal.rfft, [floats(2, 6)], [0], static=_FFT_LENGTH)
case("RFFT", lambda x: tf.signal.rfft(x, [5]), [floats(2, 7)], [0], "crop-odd",
     static=_FFT_LENGTH)
case("RFFT", lambda x: tf.signal.rfft(x, [8]), [floats(3, 5)], [0], "pad", static=_FFT_LENGTH)
case("IRFFT", tf.signal.irfft, [cfloats(2, 4)], [0], static=_FFT_LENGTH)
case("IRFFT", lambda x: tf.signal.irfft(x, [7]), [cfloats(2, 4)], [0], "odd",
     static=_FFT_LENGTH)
case("IRFFT", lambda x: tf.signal.irfft(x, [4]), [cfloats(3, 5)], [0], "crop",
     static=_FFT_LENGTH)
case("IRFFT", lambda x: tf.signal.irfft(x, [10]), [cfloats(2, 3)], [0], "pad",
     static=_FFT_LENGTH)

# -- reductions ------------------------------------------------------------------------------------

case("Sum", tf.reduce_sum, [floats(2, 3)], [0], "all")
case("Sum", lambda x: tf.reduce_sum(x, axis=1), [floats(2, 3, 2)], [0], "axis1")
case("Sum", lambda x: tf.reduce_sum(x, axis=[0, 2], keepdims=True), [floats(2, 3, 2)], [0],
     "keepdims")
case("Sum", lambda x: tf.reduce_sum(x, axis=-1), [ints(2, 3, lo=-5)], label="int")
case("Mean", tf.reduce_mean, [floats(2, 3)], [0], "all")
case("Mean", lambda x: tf.reduce_mean(x, axis=0, keepdims=True), [floats(3, 2)], [0], "keepdims")
case("Mean", lambda x: tf.reduce_mean(x, axis=1), [ints(2, 3, lo=-5)], label="int")
case("Max", lambda x: tf.reduce_max(x, axis=1), [distinct(2, 3)], [0])
case("Max", tf.reduce_max, [distinct(2, 3)], [0], "all")
case("Max", lambda x: tf.reduce_max(x, 0), [ints(3, 2, lo=-5)], label="int")
case("Min", lambda x: tf.reduce_min(x, axis=0, keepdims=True), [distinct(3, 2)], [0])
case("Prod", lambda x: tf.reduce_prod(x, axis=1), [away(2, 3, lo=0.5, hi=1.5)], [0])
case("Prod", tf.reduce_prod, [away(2, 2, lo=0.5, hi=1.5)], [0], "all")
case("Any", lambda x: tf.reduce_any(x, axis=1), [bools(3, 4)])
case("All", tf.reduce_all, [bools(2, 2)])
case("All", lambda x: tf.reduce_all(x, axis=0, keepdims=True), [bools(3, 2)], label="keepdims")
case("ArgMax", lambda x: tf.argmax(x, axis=1), [distinct(3, 4)])
case("ArgMax", tf.argmax, [ints(4, 3, hi=100)], label="int")
case("ArgMin", lambda x: tf.argmin(x, axis=-1, output_type=tf.int32), [distinct(2, 3, 4)])

# -- softmax and losses ----------------------------------------------------------------------------

case("Softmax", tf.nn.softmax, [floats(2, 4)], [0])
case("Softmax", lambda x: tf.nn.softmax(x, axis=0), [floats(3, 2)], [0], "axis0")
case("LogSoftmax", tf.nn.log_softmax, [floats(2, 2, 3)], [0])
case("SoftmaxCrossEntropyWithLogits",
     lambda logits, labels: tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
     [floats(3, 4), probs(3, 4)], [0, 1])
case("SoftmaxCrossEntropyWithLogits", ex("SoftmaxCrossEntropyWithLogits"),
     [floats(2, 3), probs(2, 3)], [0, 1], "both-outputs")
case("SparseSoftmaxCrossEntropyWithLogits",
     lambda logits, labels: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                           logits=logits),
     [floats(3, 4), fixed([3, 0, 1], "int32")], [0])
case("SparseSoftmaxCrossEntropyWithLogits", ex("SparseSoftmaxCrossEntropyWithLogits"),
     [floats(2, 3), fixed([2, 2], "int64")], [0], "both-outputs")


# -- convolution and pooling (NHWC) ----------------------------------------------------------------

_CONV = {"strides": (1, 1), "padding": "SAME", "dilations": (1, 1)}
_CONV_S2 = {"strides": (2, 1), "padding": "VALID", "dilations": (1, 1)}
case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), [floats(2, 4, 4, 2), floats(3, 3, 2, 3)],
     [0, 1], "same")
case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID"),
     [floats(1, 5, 6, 1), floats(2, 2, 1, 2)], [0, 1], "valid-stride2")
case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=2),
     [floats(1, 5, 5, 2), floats(2, 2, 2, 2)], [0, 1], "dilated")
case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"), [floats(1, 5, 4, 1), floats(3, 2, 1, 2)],
     [0, 1], "same-stride2")
case("FusedConv2D", lambda x, w, b: conv_ops.conv2d_bias_activation(x, w, b, 1, "SAME",
                                                                    activation="relu"),
     [floats(2, 4, 4, 2), floats(3, 3, 2, 3), floats(3)], [0, 1, 2], "relu")
case("FusedConv2D", lambda x, w, b: conv_ops.conv2d_bias_activation(x, w, b, 2, "VALID"),
     [floats(1, 5, 5, 1), floats(2, 2, 1, 2), floats(2)], [0, 1, 2], "linear-stride2")
case("Conv2DBackpropInput", ex("Conv2DBackpropInput", **_CONV),
     [floats(1, 3, 3, 2), floats(2, 2, 2, 3), floats(1, 3, 3, 3)], [1, 2], no_grad=(0,))
case("Conv2DBackpropInput", ex("Conv2DBackpropInput", **_CONV_S2),
     [floats(1, 5, 4, 1), floats(2, 2, 1, 2), floats(1, 2, 3, 2)], [1, 2], "valid-stride2",
     no_grad=(0,))
case("Conv2DBackpropFilter", ex("Conv2DBackpropFilter", **_CONV),
     [floats(1, 3, 3, 2), floats(2, 2, 2, 3), floats(1, 3, 3, 3)], [0, 2], no_grad=(1,))
case("Conv2DBackpropFilter", ex("Conv2DBackpropFilter", **_CONV_S2),
     [floats(1, 5, 4, 1), floats(2, 2, 1, 2), floats(1, 2, 3, 2)], [0, 2], "valid-stride2",
     no_grad=(1,))
case("MaxPool", lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), [distinct(2, 4, 4, 2)], [0])
case("MaxPool", lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), [distinct(1, 5, 5, 2)], [0], "same")
_POOL = {"ksize": (3, 3), "strides": (2, 2), "padding": "SAME"}
case("MaxPoolGrad", ex("MaxPoolGrad", **_POOL),
     [distinct(1, 5, 5, 2), floats(1, 3, 3, 2), floats(1, 3, 3, 2)], [2], no_grad=(0, 1))
case("MaxPoolGradGrad", ex("MaxPoolGradGrad", **_POOL),
     [distinct(1, 5, 5, 2), floats(1, 3, 3, 2), floats(1, 5, 5, 2)], [2], no_grad=(0, 1))
case("AvgPool", lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID"), [floats(2, 4, 4, 2)], [0])
case("AvgPool", lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), [floats(1, 5, 5, 2)], [0], "same")
case("AvgPoolGrad", ex("AvgPoolGrad", **_POOL), [floats(1, 5, 5, 2), floats(1, 3, 3, 2)], [1],
     no_grad=(0,))

def argmax_into(n: int, ph: int, pw: int, co: int, oh: int, ow: int,
                windows: bool = False) -> Gen:
    """int32 flat indices ``(r*ow + c)*co + ch`` into one image's (oh, ow, co) output, one per
    pooled position and channel: any valid index (the ops are linear in the gradient), or
    with ``windows`` one inside its own 2x2 stride-2 pooling window, as the forward op returns
    them (the backward ops' Winograd path needs that)."""
    def gen(rng):
        r = rng.integers(0, 2 if windows else oh, (n, ph, pw, co))
        c = rng.integers(0, 2 if windows else ow, (n, ph, pw, co))
        if windows:
            r = np.minimum(r + 2 * np.arange(ph)[:, None, None], oh - 1)
            c = np.minimum(c + 2 * np.arange(pw)[:, None], ow - 1)
        return ((r * ow + c) * co + np.arange(co)).astype(np.int32)

    return gen


case("FusedConv2DMaxPool", lambda x, w, b: conv_pool_ops.fused_conv2d_max_pool(
        x, w, b, 1, "SAME", activation="relu", ksize=2, pool_strides=2),
     [floats(2, 4, 4, 2), floats(3, 3, 2, 3), floats(3)], [0, 1, 2], "relu")
case("FusedConv2DMaxPool", lambda x, w, b: conv_pool_ops.fused_conv2d_max_pool(
        x, w, b, 2, "VALID", ksize=3, pool_strides=2, pool_padding="SAME"),
     [floats(1, 9, 8, 1), floats(2, 2, 1, 2), floats(2)], [0, 1, 2], "linear-overlapping")
_FUSED = {**_CONV, "activation": "relu", "ksize": (2, 2), "pool_strides": (2, 2),
          "pool_padding": "VALID"}
case("FusedConv2DMaxPool", ex("FusedConv2DMaxPool", **_FUSED),
     [floats(1, 4, 5, 2), floats(2, 2, 2, 3), floats(3)], [0, 1, 2], "both-outputs")
case("FusedConv2DMaxPoolBackpropInput", ex("FusedConv2DMaxPoolBackpropInput", **_FUSED),
     [floats(2, 4, 5, 2), floats(2, 2, 2, 3), argmax_into(2, 2, 2, 3, 4, 5), floats(2, 2, 2, 3)],
     [1, 3], no_grad=(0,))
case("FusedConv2DMaxPoolBackpropFilter", ex("FusedConv2DMaxPoolBackpropFilter", **_FUSED),
     [floats(2, 4, 5, 2), floats(2, 2, 2, 3), argmax_into(2, 2, 2, 3, 4, 5), floats(2, 2, 2, 3)],
     [0, 3], no_grad=(1,))


# argmaxes inside their windows: the Numba backend's patch path (pool_patches.py)
case("FusedConv2DMaxPoolBackpropFilter", ex("FusedConv2DMaxPoolBackpropFilter", **_FUSED),
     [floats(2, 4, 5, 2), floats(2, 2, 2, 3), argmax_into(2, 2, 2, 3, 4, 5, windows=True),
      floats(2, 2, 2, 3)], [0, 3], "patches", no_grad=(1,))

# 3x3 filters at stride 1, >= 8 input channels, 2x2 pooling at stride 2: the Numba backend's
# Winograd path (minitf/backends/numba_cpu/winograd.py)
case("FusedConv2DMaxPool", lambda x, w, b: conv_pool_ops.fused_conv2d_max_pool(
        x, w, b, 1, "VALID", activation="relu", ksize=2, pool_strides=2),
     [floats(2, 7, 6, 8), floats(3, 3, 8, 3), floats(3)], [0, 1, 2], "winograd-valid")
case("FusedConv2DMaxPool", lambda x, w, b: conv_pool_ops.fused_conv2d_max_pool(
        x, w, b, 1, "SAME", ksize=2, pool_strides=2, pool_padding="SAME"),
     [floats(1, 5, 3, 9), floats(3, 3, 9, 2), floats(2)], [0, 1, 2], "winograd-same")
_WINO = {**_FUSED, "padding": "VALID"}
case("FusedConv2DMaxPoolBackpropInput", ex("FusedConv2DMaxPoolBackpropInput", **_WINO),
     [floats(2, 7, 6, 8), floats(3, 3, 8, 3), argmax_into(2, 2, 2, 3, 5, 4, windows=True),
      floats(2, 2, 2, 3)], [1, 3], "winograd", no_grad=(0,))
case("FusedConv2DMaxPoolBackpropFilter", ex("FusedConv2DMaxPoolBackpropFilter", **_WINO),
     [floats(2, 7, 6, 8), floats(3, 3, 8, 3), argmax_into(2, 2, 2, 3, 5, 4, windows=True),
      floats(2, 2, 2, 3)], [0, 3], "winograd", no_grad=(1,))
case("GatherArgmax", ex("GatherArgmax"), [floats(2, 4, 4, 3), argmax_into(2, 2, 2, 3, 4, 4)], [0])
case("ScatterArgmax", ex("ScatterArgmax"),
     [argmax_into(2, 2, 2, 3, 4, 4), floats(2, 2, 2, 3), floats(2, 4, 4, 3)], [1], no_grad=(2,))


# -- recurrent sequences (masked steps carry the state) ---------------------------------------------

_MASK = fixed([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])


def _rnn_inputs(cell: str, n: int = 2, steps: int = 3, u: int = 2) -> list[Gen]:
    g = GATES[cell] * u
    return [floats(n, steps, g), floats(n, u), floats(n, u if cell == "lstm" else 0),
            floats(u, g, lo=-1.0, hi=1.0), floats(g), _MASK]


def _rnn_inputs_tm(cell: str, n: int = 2, steps: int = 3, u: int = 2) -> list[Gen]:
    """:func:`_rnn_inputs` time-major: ``xp`` [time, batch, gates*units], mask [time, batch]."""
    g = GATES[cell] * u
    return [floats(steps, n, g), floats(n, u), floats(n, u if cell == "lstm" else 0),
            floats(u, g, lo=-1.0, hi=1.0), floats(g), fixed([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])]


def _rnn_grad(cell: str, time_major: bool = False) -> Callable[..., Any]:
    """RNNSequenceGrad on the workspace of a real forward pass (its inputs are not free)."""
    attrs = {"cell": cell, "time_major": True} if time_major else {"cell": cell}

    def fn(xp, h0, c0, r, rb, mask, dhs, dcs):
        hs, cs, ws = execute("RNNSequence", [xp, h0, c0, r, rb, mask], attrs)
        return execute("RNNSequenceGrad", [xp, h0, c0, r, rb, mask, hs, cs, ws, dhs, dcs],
                       attrs)

    return fn


for _cell in GATES:
    _cu = 2 if _cell == "lstm" else 0
    case("RNNSequence", lambda *a, c=_cell: rnn_ops.rnn_sequence(c, *a), _rnn_inputs(_cell),
         [0, 1, 2, 3, 4], _cell, no_grad=(5,))
    # go_backwards as the layers run it: the sequence and its mask reversed before the op
    case("RNNSequence", lambda xp, h0, c0, r, rb, m, c=_cell: rnn_ops.rnn_sequence(
        c, xp[:, ::-1], h0, c0, r, rb, m[:, ::-1]), _rnn_inputs(_cell), [0, 1, 2, 3, 4],
        f"{_cell}-backwards", no_grad=(5,))
    case("RNNSequenceGrad", _rnn_grad(_cell), [*_rnn_inputs(_cell), floats(2, 3, 2),
                                               floats(2, 3, _cu)],
         [0, 1, 2, 3, 4, 6, 7] if _cu else [0, 1, 3, 4, 6, 7], _cell,
         no_grad=(5,) if _cu else (2, 5),
         second="third derivatives of the recurrence; RNNSequence's second order is checked",
         static="its gradient unrolls the recurrence: the number of steps must be known")
    # time-major, as the Keras layers run it
    case("RNNSequence", lambda *a, c=_cell: rnn_ops.rnn_sequence(c, *a, time_major=True),
         _rnn_inputs_tm(_cell), [0, 1, 2, 3, 4], f"{_cell}-time-major", no_grad=(5,))
    case("RNNSequenceGrad", _rnn_grad(_cell, True), [*_rnn_inputs_tm(_cell), floats(3, 2, 2),
                                                     floats(3, 2, _cu)],
         [0, 1, 2, 3, 4, 6, 7] if _cu else [0, 1, 3, 4, 6, 7], f"{_cell}-time-major",
         no_grad=(5,) if _cu else (2, 5),
         second="third derivatives of the recurrence; RNNSequence's second order is checked",
         static="its gradient unrolls the recurrence: the number of steps must be known")

# -- ops that run only through state: parity cases that return the new state ---------------------


@dataclass(frozen=True)
class StatefulCase:
    """``run()`` makes fresh eager variables, runs op ``op`` and returns arrays to compare."""

    op: str
    run: Callable[[], list[np.ndarray]]
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.label}" if self.label else self.op


_W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
_G = np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05]], np.float32)


def _vars(*values: Any) -> list[tf.Variable]:
    return [tf.Variable(np.array(v, np.float32)) for v in values]


def _read() -> list[np.ndarray]:
    (v,) = _vars(_W)
    return [v.read_value().numpy()]


def _assign(kind: str) -> Callable[[], list[np.ndarray]]:
    def run():
        (v,) = _vars(_W)
        getattr(v, kind)(_G)
        return [np.array(v.numpy())]

    return run


def _sgd():
    (v,) = _vars(_W)
    optimizer_ops.apply_gradient_descent(v, _G, 0.1)
    return [v.numpy()]


def _momentum(nesterov: bool):
    def run():
        v, a = _vars(_W, _G * 3)
        optimizer_ops.apply_momentum(v, a, _G, 0.1, 0.9, nesterov=nesterov)
        return [v.numpy(), a.numpy()]

    return run


def _adam():
    v, m, s = _vars(_W, _G, np.abs(_G))
    optimizer_ops.apply_adam(v, m, s, _G, 0.01, 0.9, 0.999, 1e-7, 3)
    return [v.numpy(), m.numpy(), s.numpy()]


def _adagrad():
    v, a = _vars(_W, np.full_like(_W, 0.1))
    optimizer_ops.apply_adagrad(v, a, _G, 0.1, 1e-7)
    return [v.numpy(), a.numpy()]


def _rmsprop(centered: bool, momentum: float):
    def run():
        v, ms, mom, mg = _vars(_W, np.abs(_G), _G, _G / 2)
        optimizer_ops.apply_rmsprop(v, ms, mom if momentum else None, _G, 0.01, 0.9, momentum,
                                    1e-7, mg=mg if centered else None)
        return [v.numpy(), ms.numpy(), mom.numpy(), mg.numpy()]

    return run


def _seeded(fn: Callable[[], Any]) -> Callable[[], list[np.ndarray]]:
    def run():
        tf.random.set_seed(1234)
        return [fn().numpy(), fn().numpy()]

    return run


STATEFUL_CASES: list[StatefulCase] = [
    StatefulCase("ReadVariableOp", _read),
    StatefulCase("AssignVariableOp", _assign("assign")),
    StatefulCase("AssignAddVariableOp", _assign("assign_add")),
    StatefulCase("AssignSubVariableOp", _assign("assign_sub")),
    StatefulCase("ApplyGradientDescent", _sgd),
    StatefulCase("ApplyMomentum", _momentum(False)),
    StatefulCase("ApplyMomentum", _momentum(True), "nesterov"),
    StatefulCase("ApplyAdam", _adam),
    StatefulCase("ApplyAdagrad", _adagrad),
    StatefulCase("ApplyRMSProp", _rmsprop(False, 0.0)),
    StatefulCase("ApplyRMSProp", _rmsprop(True, 0.9), "centered-momentum"),
    StatefulCase("RandomStandardNormal", _seeded(lambda: tf.random.normal([2, 3], 1.0, 2.0))),
    StatefulCase("TruncatedNormal", _seeded(lambda: tf.random.truncated_normal([50], seed=3))),
    StatefulCase("RandomUniform", _seeded(lambda: tf.random.uniform([2, 3], -1.0, 3.0, seed=7))),
    StatefulCase("RandomUniformLike",
                 _seeded(lambda: random_ops.random_uniform_like(tf.ones([4, 5])))),
    StatefulCase("RandomUniformInt",
                 _seeded(lambda: tf.random.uniform([3, 4], -2, 9, dtype=tf.int32, seed=5))),
    StatefulCase("NumpyFunction",
                 lambda: [tf.numpy_function(np.cumsum, [tf.constant(_W.ravel())], tf.float32)
                          .numpy()]),
]

# -- ops with no case, and ops without a finite-difference check -----------------------------------

NO_CASE: dict[str, str] = {
    "Placeholder": "has no value until fed; feeding is tested in test_graph_session.py",
    "NoOp": "has no inputs and no outputs; ordering is tested in test_graph_session.py",
    "ReportUninitializedVariables": "outputs variable names (bytes) in a Session; tested in "
                                    "test_tf1_idioms.py",
    "StatefulPartitionedCall": "a tf.function call on the tape; tested in test_function_grad.py",
}

NOT_FD: dict[str, str] = {
    "Const": "no inputs",
    "Placeholder": "no inputs",
    "NoOp": "no outputs",
    "StatefulPartitionedCall": "checked against the eager function in test_function_grad.py",
    "Shape": "integer output that depends only on the static shape",
    "NumpyFunction": "runs a Python function: no gradient, as in TensorFlow",
    "Size": "integer output that depends only on the static shape",
    "Where": "integer output (coordinates)",
    "OneHot": "the input is integer class ids",
    "StopGradient": "its gradient is None by definition (checked as no_grad)",
    "ZerosLike": "the output does not depend on the input's values (no_grad)",
    "OnesLike": "the output does not depend on the input's values (no_grad)",
    "Sign": "piecewise constant: gradient None (no_grad)",
    "Floor": "piecewise constant: gradient None (no_grad)",
    "Ceil": "piecewise constant: gradient None (no_grad)",
    "Round": "piecewise constant: gradient None (no_grad)",
    "FakeQuantWithMinMaxVars": "piecewise constant; its gradient is the straight-through "
                               "estimator (tests/test_qat.py)",
    "FakeQuantWithMinMaxVarsPerChannel": "piecewise constant; straight-through estimator "
                                         "(tests/test_qat.py)",
    "FloorDiv": "piecewise constant: gradient None (no_grad)",
    "LogicalNot": "bool input and output",
    "LogicalAnd": "bool inputs and output",
    "LogicalOr": "bool inputs and output",
    "Equal": "bool output",
    "NotEqual": "bool output",
    "Less": "bool output",
    "LessEqual": "bool output",
    "Greater": "bool output",
    "GreaterEqual": "bool output",
    "Any": "bool input and output",
    "All": "bool input and output",
    "ArgMax": "integer output",
    "ArgMin": "integer output",
    "RandomStandardNormal": "stateful random op without inputs",
    "TruncatedNormal": "stateful random op without inputs",
    "RandomUniform": "stateful random op without inputs",
    "RandomUniformLike": "stateful random op: the output does not depend on the input's values",
    "RandomUniformInt": "stateful random op without inputs, integer output",
    "ReportUninitializedVariables": "no inputs; outputs names",
    "ReadVariableOp": "reads a variable, not a tensor input; variable gradients: test_tape.py",
    "AssignVariableOp": "stateful, no gradient",
    "AssignAddVariableOp": "stateful, no gradient",
    "AssignSubVariableOp": "stateful, no gradient",
    "ApplyGradientDescent": "stateful optimizer update with no outputs",
    "ApplyMomentum": "stateful optimizer update with no outputs",
    "ApplyAdam": "stateful optimizer update with no outputs",
    "ApplyAdagrad": "stateful optimizer update with no outputs",
    "ApplyRMSProp": "stateful optimizer update with no outputs",
}

SECOND_ORDER_FD = (
    "Tanh", "Sigmoid", "Exp", "Log", "Sqrt", "Mul", "RealDiv", "Pow", "MatMul", "Softmax",
    "LogSoftmax", "SoftmaxCrossEntropyWithLogits", "Softplus", "Elu", "Prod", "Conv2D",
    "MaxPool", "AvgPool", "FusedConv2DMaxPool", "RNNSequence",
)
"""Ops whose second derivatives are also checked in graph mode (tf.gradients twice)."""

DIFF_CASES = [c for c in CASES if c.diff]
CASE_IDS = [c.id for c in CASES]
