"""Element-wise math, matmul and cast: shape rule, kernel and gradient of each op, in one place.

Gradients are written with the public functions of this package, so they are ops too.
``_unbroadcast(g, x)`` sums a gradient back to the shape of an input that was broadcast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, op_export, tf_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape, fmt
from . import _rules

# -- helpers --------------------------------------------------------------------------------------


def _convert_operands(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Convert two operands; a Python value takes the dtype of the tensor beside it (as TF)."""
    xt = isinstance(x, Tensor) or hasattr(x, "_as_tensor")
    yt = isinstance(y, Tensor) or hasattr(y, "_as_tensor")
    if xt and not yt:
        x = convert_to_tensor(x)
        return x, convert_to_tensor(y, dtype_hint=x.dtype)
    if yt and not xt:
        y = convert_to_tensor(y)
        return convert_to_tensor(x, dtype_hint=y.dtype), y
    return convert_to_tensor(x), convert_to_tensor(y)


def _unbroadcast(g: Tensor | None, x: Tensor) -> Tensor | None:
    """Sum ``g`` over the axes along which ``x`` was broadcast (no-op when shapes match)."""
    if g is None:
        return None
    if g.shape == x.shape and g.shape.is_fully_defined():
        return g
    from .array_ops import sum_to_shape_of

    return sum_to_shape_of(g, x)


def _elementwise_infer(kinds: str, out_bool: bool = False):
    def infer(shapes, dtypes, attrs):
        d = _rules.same_dtype(dtypes)
        _rules.require(d, kinds, "this op")
        return [(_rules.broadcast_shapes(*shapes), _dtypes.bool if out_bool else d)]

    return infer


# -- unary ops ------------------------------------------------------------------------------------


def _unary(op_type: str, kernel: str, kinds: str, gradient: Any, doc: str,
           api: tuple[str, ...] = (), device: str = "kernels") -> Any:
    """Define element-wise op ``op_type`` on ``kernel_table.UNARY[kernel]`` for dtype kinds
    ``kinds``; return its public function, bound to the names in ``api``. The forward is one
    backend kernel, so the op runs unchanged on a device (``device="kernels"``)."""
    def forward(rt, x, **attrs):
        return rt.be.unary(kernel, x, x.dtype, attrs.get("alpha", 0.0))

    defop(op_type, _elementwise_infer(kinds), forward, gradient, doc=doc, kernel=kernel,
          device=device, api=api)

    def fn(x: Any, name: str | None = None) -> Tensor:
        return execute(op_type, [convert_to_tensor(x)], name=name)

    fn.__name__ = kernel
    fn.__doc__ = doc
    return op_export(op_type)(fn)


def _nograd(op, g):
    return [None] * len(op.inputs)


def _c(x: Tensor) -> Tensor:
    """``conj(x)`` for a complex tensor, ``x`` itself otherwise. Gradients use it for TF's
    convention: the gradient of a real loss L of z is dL/dRe(z) + i dL/dIm(z), so the
    gradient through a holomorphic f is ``g * conj(f'(z))``."""
    return execute("Conj", [x]) if x.dtype.is_complex else x  # op Conj: complex_ops.py


def _log_grad(x: Tensor, g: Tensor) -> Tensor:
    return g / _c(x) if x.dtype.is_complex else g * reciprocal(x)


def _split_grad(real: Any, cplx: Any) -> Any:
    """A gradient: ``real(op, g)`` for real inputs (often one fused kernel), ``cplx(op, g)``
    (plain ops, conjugated as TF) for complex ones."""
    return lambda op, g: [(cplx if op.inputs[0].dtype.is_complex else real)(op, g)]


negative = _unary("Neg", "negative", "fic", lambda op, g: [negative(g)], "-x element-wise.",
                  api=("negative", "math.negative"))
neg = negative
abs = _unary("Abs", "abs", "fi", lambda op, g: [g * sign(op.inputs[0])], "|x|.")  # noqa: A001
# public tf.abs: complex_ops.abs (ComplexAbs for complex inputs, as TF)
sign = _unary("Sign", "sign", "fic", lambda op, g: [None], "-1, 0 or 1 (complex: x / |x|, 0 at 0).",
              api=("sign", "math.sign"))
square = _unary("Square", "square", "fic", lambda op, g: [g * 2.0 * _c(op.inputs[0])], "x * x.",
                api=("square", "math.square"))
sqrt = _unary("Sqrt", "sqrt", "fc", _split_grad(lambda op, g: sqrt_grad(op.outputs[0], g),
                                                 lambda op, g: g / (2.0 * _c(op.outputs[0]))),
              "Square root (complex: the principal root).",
              api=("sqrt", "math.sqrt"))
rsqrt = _unary("Rsqrt", "rsqrt", "fc", _split_grad(
    lambda op, g: rsqrt_grad(op.outputs[0], g),
    lambda op, g: g * _c(op.outputs[0] * op.outputs[0] * op.outputs[0]) * -0.5), "1/sqrt(x).",
               api=("math.rsqrt",))
reciprocal = _unary("Reciprocal", "reciprocal", "fc", _split_grad(
    lambda op, g: reciprocal_grad(op.outputs[0], g),
    lambda op, g: negative(g) * _c(square(op.outputs[0]))), "1/x.",
                    api=("math.reciprocal",))
exp = _unary("Exp", "exp", "fc", lambda op, g: [g * _c(op.outputs[0])], "e**x.",
             api=("exp", "math.exp"))
expm1 = _unary("Expm1", "expm1", "fc", lambda op, g: [g * _c(op.outputs[0] + 1.0)], "e**x - 1.",
               api=("math.expm1",))
log = _unary("Log", "log", "fc", lambda op, g: [_log_grad(op.inputs[0], g)], "Natural log.",
             api=("log", "math.log"))
log1p = _unary("Log1p", "log1p", "fc", lambda op, g: [_log_grad(op.inputs[0] + 1.0, g)],
               "log(1 + x), accurate for small x.",
               api=("math.log1p",))
sin = _unary("Sin", "sin", "fc", lambda op, g: [g * _c(cos(op.inputs[0]))], "Sine.",
             api=("sin", "math.sin"))
cos = _unary("Cos", "cos", "fc", lambda op, g: [negative(g * _c(sin(op.inputs[0])))], "Cosine.",
             api=("cos", "math.cos"))
tanh = _unary("Tanh", "tanh", "fc", _split_grad(
    lambda op, g: tanh_grad(op.outputs[0], g),
    lambda op, g: g * _c(1.0 - square(op.outputs[0]))), "tanh(x).",
              api=("tanh", "math.tanh", "nn.tanh"))
sigmoid = _unary("Sigmoid", "sigmoid", "fc", _split_grad(
    lambda op, g: sigmoid_grad(op.outputs[0], g),
    lambda op, g: g * _c(op.outputs[0] * (1.0 - op.outputs[0]))),
                 "1 / (1 + e**-x), computed stably.",
                 api=("sigmoid", "math.sigmoid", "nn.sigmoid"))
relu = _unary("Relu", "relu", "fi", lambda op, g: [relu_grad(g, op.outputs[0])], "max(x, 0).",
              api=("nn.relu",))
relu6 = _unary("Relu6", "relu6", "f", lambda op, g: [relu6_grad(g, op.inputs[0])],
               "min(max(x, 0), 6).",
               api=("nn.relu6",))
softplus = _unary("Softplus", "softplus", "f", lambda op, g: [softplus_grad(g, op.inputs[0])],
                  "log(1 + e**x), computed stably.",
                  api=("math.softplus", "nn.softplus"))
elu = _unary("Elu", "elu", "f", lambda op, g: [elu_grad(g, op.outputs[0])],
             "x if x > 0 else e**x - 1.",
             api=("nn.elu",))
floor = _unary("Floor", "floor", "f", lambda op, g: [None], "Round down.",
               api=("math.floor",))
ceil = _unary("Ceil", "ceil", "f", lambda op, g: [None], "Round up.",
              api=("math.ceil",))
round = _unary("Round", "round", "f", lambda op, g: [None], "Round half to even.",
               api=("round", "math.round"))  # noqa: A001
logical_not = _unary("LogicalNot", "logical_not", "b", _nograd, "Boolean not.",
                     api=("logical_not", "math.logical_not"))


def _leaky_grad(op, g):
    return [leaky_relu_grad(g, op.inputs[0], alpha=op.attrs["alpha"])]


defop("LeakyRelu", _elementwise_infer("f"),
      lambda rt, x, alpha: rt.be.unary("leaky_relu", x, x.dtype, alpha), _leaky_grad,
      doc="x if x > 0 else alpha * x.", kernel="leaky_relu", device="kernels",
      api=("nn.leaky_relu",))


@op_export("LeakyRelu")
def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """x if x > 0 else alpha * x (TF's default alpha is 0.2)."""
    return execute("LeakyRelu", [convert_to_tensor(features)], {"alpha": float(alpha)}, name)


# -- fused gradient ops: one kernel each, and differentiable again --------------------------------


def _binary_def(op_type: str, kernel: str, kinds: str, gradient: Any, doc: str,
                out_bool: bool = False, api: tuple[str, ...] = (), device: str = "kernels") -> Any:
    """As ``_unary`` for ``kernel_table.BINARY[kernel]``; operands broadcast, a Python value
    takes the other operand's dtype; ``out_bool`` ops return bool."""
    def forward(rt, x, y, **attrs):
        out = rt.be.binary(kernel, x, y, bool if out_bool else x.dtype, attrs.get("alpha", 0.0))
        return out

    defop(op_type, _elementwise_infer(kinds, out_bool), forward, gradient, doc=doc,
          kernel=kernel, device=device, api=api)

    def fn(x: Any, y: Any, name: str | None = None) -> Tensor:
        return execute(op_type, list(_convert_operands(x, y)), name=name)

    fn.__name__ = kernel
    fn.__doc__ = doc
    return op_export(op_type)(fn)


relu_grad = _binary_def("ReluGrad", "relu_grad", "fi",
                        lambda op, gg: [relu_grad(gg, op.inputs[1]), None],
                        "g where x > 0, else 0 (backprop through relu).")
relu6_grad = _binary_def("Relu6Grad", "relu6_grad", "f",
                         lambda op, gg: [relu6_grad(gg, op.inputs[1]), None],
                         "g where 0 < x < 6, else 0.")
sigmoid_grad = _binary_def(
    "SigmoidGrad", "sigmoid_grad", "f",
    lambda op, gg: [gg * op.inputs[1] * (1.0 - 2.0 * op.inputs[0]), sigmoid_grad(op.inputs[0], gg)],
    "g * y * (1 - y) for y = sigmoid(x).")
tanh_grad = _binary_def(
    "TanhGrad", "tanh_grad", "f",
    lambda op, gg: [gg * op.inputs[1] * -2.0 * op.inputs[0], tanh_grad(op.inputs[0], gg)],
    "g * (1 - y*y) for y = tanh(x).")
sqrt_grad = _binary_def(
    "SqrtGrad", "sqrt_grad", "f",
    lambda op, gg: [negative(gg * op.outputs[0] / op.inputs[0]), sqrt_grad(op.inputs[0], gg)],
    "0.5 * g / y for y = sqrt(x).")
rsqrt_grad = _binary_def(
    "RsqrtGrad", "rsqrt_grad", "f",
    lambda op, gg: [gg * op.inputs[1] * -1.5 * square(op.inputs[0]), rsqrt_grad(op.inputs[0], gg)],
    "-0.5 * g * y**3 for y = rsqrt(x).")
reciprocal_grad = _binary_def(
    "ReciprocalGrad", "reciprocal_grad", "f",
    lambda op, gg: [gg * op.inputs[1] * -2.0 * op.inputs[0], reciprocal_grad(op.inputs[0], gg)],
    "-g * y**2 for y = 1/x.")
softplus_grad = _binary_def(
    "SoftplusGrad", "softplus_grad", "f",
    lambda op, gg: [softplus_grad(gg, op.inputs[1]),
                    sigmoid_grad(sigmoid(op.inputs[1]), gg * op.inputs[0])],
    "g * sigmoid(x) (backprop through softplus).")


def _elu_grad_grad(op, gg):
    from .array_ops import where, zeros_like

    g, y = op.inputs
    return [elu_grad(gg, y), where(y > 0.0, zeros_like(gg), gg * g)]


elu_grad = _binary_def("EluGrad", "elu_grad", "f", _elu_grad_grad,
                       "g if y > 0 else g * (y + 1) for y = elu(x).")


def _leaky_grad_grad(op, gg):
    return [leaky_relu_grad(gg, op.inputs[1], alpha=op.attrs["alpha"]), None]


defop("LeakyReluGrad", _elementwise_infer("f"),
      lambda rt, g, x, alpha: rt.be.binary("leaky_relu_grad", g, x, g.dtype, alpha),
      _leaky_grad_grad, doc="g if x > 0 else alpha * g.", kernel="leaky_relu_grad",
      device="kernels")


def leaky_relu_grad(g: Any, x: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    return execute("LeakyReluGrad", list(_convert_operands(g, x)), {"alpha": float(alpha)}, name)


# -- binary arithmetic ---------------------------------------------------------------------------


def _add_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(g, x), _unbroadcast(g, y)]


def _sub_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(g, x), _unbroadcast(negative(g), y)]


def _mul_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(g * _c(y), x), _unbroadcast(g * _c(x), y)]


def _div_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(g / _c(y), x), _unbroadcast(negative(g) * _c(op.outputs[0]) / _c(y), y)]


def _pow_grad(op, g):
    from .array_ops import where, zeros_like

    x, y = op.inputs
    z = op.outputs[0]
    if x.dtype.is_complex:  # log(x) taken as 0 at x = 0, as TF
        nonzero = not_equal(x, 0.0)
        log_x = where(nonzero, log(where(nonzero, x, zeros_like(x) + 1.0)), zeros_like(x))
        return [_unbroadcast(g * _c(y * pow(x, y - 1.0)), x), _unbroadcast(g * _c(z * log_x), y)]
    gx = g * y * pow(x, y - 1.0)
    safe_log = log(where(x > 0.0, x, zeros_like(x) + 1.0))
    gy = g * z * safe_log
    return [_unbroadcast(gx, x), _unbroadcast(gy, y)]


def _minmax_grad(pick_x):
    def grad(op, g):
        from .array_ops import where, zeros_like

        x, y = op.inputs
        mask = pick_x(x, y)
        zeros = zeros_like(g)
        return [_unbroadcast(where(mask, g, zeros), x), _unbroadcast(where(mask, zeros, g), y)]

    return grad


def _sqdiff_grad(op, g):
    x, y = op.inputs
    # complex: 2 Re(g) (x - y), as PyTorch. TF's formula, 2 g (x - y), is the same for the
    # real g that real losses give, but counts the imaginary part of g, which the output's
    # (always 0) imaginary part cannot receive.
    d = (g + _c(g)) * (x - y) if x.dtype.is_complex else g * 2.0 * (x - y)
    return [_unbroadcast(d, x), _unbroadcast(negative(d), y)]


def _floormod_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(g, x), _unbroadcast(negative(g) * floor(x / y), y)]


_add_v2 = _binary_def("AddV2", "add", "fic", _add_grad, "x + y with broadcasting.")


@tf_export("add", "math.add")
def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x + y with broadcasting; the op is named "Add" (type AddV2), as TF names it."""
    return _add_v2(x, y, name=name or "Add")


subtract = _binary_def("Sub", "subtract", "fic", _sub_grad, "x - y with broadcasting.",
                       api=("subtract", "math.subtract"))
multiply = _binary_def("Mul", "multiply", "fic", _mul_grad, "x * y with broadcasting.",
                       api=("multiply", "math.multiply"))
_truediv = _binary_def("RealDiv", "divide", "fc", _div_grad, "x / y (true division).")
floordiv = _binary_def("FloorDiv", "floordiv", "fi", _nograd, "Floor of x / y (as Python //).",
                       api=("floordiv", "math.floordiv"))
floormod = _binary_def("FloorMod", "floormod", "fi", _floormod_grad,
                       "Remainder with the sign of y (as Python %).",
                       api=("math.floormod", "math.mod", "mod"))
_pow = _binary_def("Pow", "pow", "fic", _pow_grad, "x ** y.")  # public: pow() below
maximum = _binary_def("Maximum", "maximum", "fi", _minmax_grad(lambda x, y: x >= y),
                      "Element-wise max; ties send the gradient to x.",
                      api=("maximum", "math.maximum"))
minimum = _binary_def("Minimum", "minimum", "fi", _minmax_grad(lambda x, y: x <= y),
                      "Element-wise min; ties send the gradient to x.",
                      api=("minimum", "math.minimum"))
squared_difference = _binary_def(
    "SquaredDifference", "squared_difference", "fic", _sqdiff_grad,
    "(x - y) ** 2; complex: (x - y) * conj(x - y), a complex tensor with imaginary part 0, as "
    "TF (its gradient takes the real part of the incoming gradient, as PyTorch; TF does not).",
                                 api=("squared_difference", "math.squared_difference"))
equal = _binary_def("Equal", "equal", "fibc", _nograd, "x == y (bool).", out_bool=True,
                    api=("equal", "math.equal"))
not_equal = _binary_def("NotEqual", "not_equal", "fibc", _nograd, "x != y.", out_bool=True,
                        api=("not_equal", "math.not_equal"))
less = _binary_def("Less", "less", "fi", _nograd, "x < y.", out_bool=True,
                   api=("less", "math.less"))
less_equal = _binary_def("LessEqual", "less_equal", "fi", _nograd, "x <= y.", out_bool=True,
                         api=("less_equal", "math.less_equal"))
greater = _binary_def("Greater", "greater", "fi", _nograd, "x > y.", out_bool=True,
                      api=("greater", "math.greater"))
greater_equal = _binary_def("GreaterEqual", "greater_equal", "fi", _nograd, "x >= y.",
                            out_bool=True,
                            api=("greater_equal", "math.greater_equal"))
logical_and = _binary_def("LogicalAnd", "logical_and", "b", _nograd, "x and y.", out_bool=True,
                          api=("logical_and", "math.logical_and"))
logical_or = _binary_def("LogicalOr", "logical_or", "b", _nograd, "x or y.", out_bool=True,
                         api=("logical_or", "math.logical_or"))
mod = floormod
sub = subtract
mul = multiply


@tf_export("divide", "truediv", "math.divide", "math.truediv")
def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y. Integers are converted first, as TF's ``truediv``: 8- and 16-bit ones to
    float32, 32- and 64-bit ones to float64."""
    x, y = _convert_operands(x, y)
    if x.dtype.is_integer and y.dtype.is_integer:
        to = _dtypes.float32 if x.dtype.np.itemsize <= 2 else _dtypes.float64
        x, y = cast(x, to), cast(y, to)
    return _truediv(x, y, name=name)


truediv = divide
realdiv = _truediv


@tf_export("pow", "math.pow")
def pow(x: Any, y: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    """x ** y."""
    return _pow(x, y, name=name)


# -- matmul ----------------------------------------------------------------------------------------------


def _matmul_infer(shapes, dtypes, attrs):
    a, b = shapes
    d = _rules.same_dtype(dtypes, "ab")
    _rules.require(d, "fic", "MatMul")
    if len(a) < 2 or len(b) < 2:
        raise ShapeError(f"both inputs must be at least 2-D, got {fmt(a)} and {fmt(b)}")
    m, ka = (a[-1], a[-2]) if attrs["transpose_a"] else (a[-2], a[-1])
    kb, n = (b[-1], b[-2]) if attrs["transpose_b"] else (b[-2], b[-1])
    if ka is not None and kb is not None and ka != kb:
        ta = "ᵀ" if attrs["transpose_a"] else ""
        tb = "ᵀ" if attrs["transpose_b"] else ""
        raise ShapeError(f"inner dimensions differ: {fmt(a)}{ta} @ {fmt(b)}{tb} ({ka} != {kb})")
    batch = _rules.broadcast_shapes(a[:-2], b[:-2])
    return [(TensorShape([*batch, m, n]), d)]


def _matmul_grad(op, g):
    a, b = _c(op.inputs[0]), _c(op.inputs[1])  # complex: the adjoints, as TF
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        ga, gb = matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)
    elif not ta and tb:
        ga, gb = matmul(g, b), matmul(g, a, transpose_a=True)
    elif ta and not tb:
        ga, gb = matmul(b, g, transpose_b=True), matmul(a, g)
    else:
        ga, gb = matmul(b, g, transpose_a=True, transpose_b=True), matmul(
            g, a, transpose_a=True, transpose_b=True)
    return [_unbroadcast(ga, op.inputs[0]), _unbroadcast(gb, op.inputs[1])]


defop("MatMul", _matmul_infer,
      lambda rt, a, b, transpose_a, transpose_b: rt.be.matmul(a, b, transpose_a, transpose_b),
      _matmul_grad, doc="Matrix product of the last two axes; batch axes broadcast.",
      device="kernels", api=("matmul",))


@op_export("MatMul")
def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: str | None = None, **unsupported: Any) -> Tensor:
    """``a @ b`` over the last two axes (2-D or batched); ``transpose_*`` transpose first,
    ``adjoint_*`` conjugate-transpose first (as ``transpose_*`` for real inputs)."""
    adjoint_a, adjoint_b = unsupported.pop("adjoint_a", False), unsupported.pop("adjoint_b", False)
    if unsupported:
        raise NotImplementedError(f"minitf.matmul does not support {sorted(unsupported)} "
                                  "(sparse flags)")
    a, b = _convert_operands(a, b)
    if adjoint_a:
        a, transpose_a = _c(a), not transpose_a
    if adjoint_b:
        b, transpose_b = _c(b), not transpose_b
    return execute("MatMul", [a, b], {"transpose_a": bool(transpose_a),
                                      "transpose_b": bool(transpose_b)}, name)


# -- cast and sums of many -----------------------------------------------------------------------------


def _cast_grad(op, g):
    x = op.inputs[0]
    if not x.dtype.is_differentiable or not g.dtype.is_differentiable:
        return [None]
    return [cast(g, x.dtype)]


def _cast_forward(rt, x, dtype):
    if x.dtype.kind == "c" and dtype.np.kind != "c":  # TF keeps the real part, silently
        x = x.real
    dst = dtype.np
    if x.dtype.kind in "fc" and (dst.kind in "iub" or dst.itemsize < x.dtype.itemsize):
        # NaN/inf/out of range become what TF gives, quietly (errstate costs ~1 us: only here)
        with np.errstate(invalid="ignore", over="ignore"):
            return x.astype(dst)
    return x.astype(dst)


defop("Cast", lambda shapes, dtypes, attrs: [(shapes[0], attrs["dtype"])], _cast_forward,
      _cast_grad, doc="Convert to another dtype (float -> int truncates toward zero, complex -> "
      "real keeps the real part).",
      device="forward", api=("cast",))


@op_export("Cast")
def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` converted to ``dtype``."""
    dtype = _dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    return execute("Cast", [x], {"dtype": dtype}, name)


@tf_export("add_n", "math.add_n")
def add_n(inputs: list, name: str | None = None) -> Tensor:
    """The sum of a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("add_n needs at least one input")
    total = convert_to_tensor(inputs[0])
    for t in inputs[1:]:
        total = add(total, t)
    return total


@tf_export("nn.sigmoid_cross_entropy_with_logits")
def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                      name: str | None = None) -> Tensor:
    """Per-element logistic loss, stable for large |logits|: max(x,0) - x*z + log1p(e^-|x|)."""
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype=logits.dtype)
    return add(maximum(logits, 0.0) - logits * labels, log1p(exp(negative(abs(logits)))), name)
