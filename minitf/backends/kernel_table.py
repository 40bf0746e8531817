"""The element-wise kernels, once: name -> scalar expression, for every backend to compile.

Each expression computes one output element from the scalars ``x`` (first operand), ``y``
(second operand, binary kernels only) and ``p`` (the float ``param`` of ``Backend.unary`` /
``Backend.binary``; only the leaky ReLU kernels read it). It must compile in Numba's nopython
mode on scalars, so it uses ``math`` functions (and NumPy's scalar ``floor``/``ceil``/``rint``)
and writes branches as conditional expressions.
The caller chooses the output dtype; the backend converts each result into it, so an
expression may compute in a wider type than the output (Numba promotes ``float32 * 1.0`` to
float64, which is then rounded back once).

``minitf.backends.codegen`` turns this table into ``numba_cpu/elementwise.py`` (and
``cuda/codegen.py`` into ``cuda/elementwise.py``); an entry added after generation is compiled
on first use. The NumPy reference backend has a hand-written vectorised twin of each kernel
(the tests check they agree); an entry without one runs its expression element by element.
An element-wise op names its entry in ``defop(..., kernel=name)`` (see ``CONTRIBUTING.md``).
The kernels TensorFlow defines on complex numbers have a second, complex expression
(``COMPLEX_UNARY``/``COMPLEX_BINARY``), compiled into ``c_<name>`` kernels beside the real ones.
A third kind, the conversion kernels (``CONVERT_UNARY``/``CONVERT_BINARY``), take operands of
another kind than their result: complex -> real (``real``, ``imag``, ``complex_abs``,
``angle``) and real -> complex (``to_complex``, ``complex``); the caller's output dtype is the
op's rule (complex64 <-> float32, complex128 <-> float64).

Gradient kernels keep TensorFlow's argument order, so ``x`` is not always the input:
``relu_grad(g, features)`` has ``x = g``, while ``sigmoid_grad(y, g)`` has ``x = y`` (the
forward output) and ``y = g``.
"""

from __future__ import annotations

# Why a few expressions avoid the obvious spelling:
# * ``math.floor``/``math.ceil``/``round`` return Python ints (int64 in Numba), which overflow
#   for inf, NaN and |x| >= 2**63; the NumPy scalar functions keep the float type.
# * relu/maximum are written so that NaN propagates, as ``np.maximum`` and TensorFlow do.
# * softplus is max(x, 0) + log1p(e**-|x|) so ``exp`` never overflows.
# * sigmoid is (1 if x >= 0 else e) / (1 + e) with e = exp(-|x|): exp's argument is never
#   positive; both exp calls have the same argument, so LLVM computes it once; and only the
#   numerator branches, which compiles to a select instead of a jump the CPU mispredicts on
#   random signs (3x faster than 1/(1+exp(-x)) if x >= 0 else exp(x)/(1+exp(x)), measured).
_SIGMOID = "(1.0 if {v} >= 0 else math.exp(-abs({v}))) / (1.0 + math.exp(-abs({v})))"

# (name, expression, one-line doc)
_UNARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("negative", "-x", "-x."),
    ("abs", "abs(x)", "|x|."),
    ("sign", "1 if x > 0 else (-1 if x < 0 else x)", "-1, 0 or 1 (NaN stays NaN)."),
    ("square", "x * x", "x * x."),
    ("sqrt", "math.sqrt(x)", "Square root (NaN for x < 0)."),
    ("rsqrt", "1.0 / math.sqrt(x)", "1 / sqrt(x)."),
    ("reciprocal", "1.0 / x", "1 / x (true division)."),
    ("exp", "math.exp(x)", "e**x."),
    ("expm1", "math.expm1(x)", "e**x - 1, accurate for small x."),
    ("log", "math.log(x)", "Natural log (-inf at 0, NaN below)."),
    ("log1p", "math.log1p(x)", "log(1 + x), accurate for small x."),
    ("sin", "math.sin(x)", "Sine."),
    ("cos", "math.cos(x)", "Cosine."),
    ("tanh", "math.tanh(x)", "Hyperbolic tangent."),
    ("sigmoid", _SIGMOID.format(v="x"), "1 / (1 + e**-x), without overflow for large |x|."),
    ("relu", "0.0 if x < 0 else x", "max(x, 0)."),
    ("relu6", "0.0 if x < 0 else (6.0 if x > 6 else x)", "min(max(x, 0), 6)."),
    ("softplus", "(x if x > 0 else 0.0) + math.log1p(math.exp(-abs(x)))",
     "log(1 + e**x) = max(x, 0) + log1p(e**-|x|), without overflow."),
    ("elu", "x if x > 0 else math.expm1(x)", "x if x > 0 else e**x - 1."),
    ("leaky_relu", "x if x > 0 else p * x", "x if x > 0 else p * x."),
    ("floor", "np.floor(x)", "Round toward -inf."),
    ("ceil", "np.ceil(x)", "Round toward +inf."),
    ("round", "np.rint(x)", "Round half to even, as tf.round."),
    ("logical_not", "not x", "Boolean not."),
    ("identity", "x", "A copy of x."),
    ("conj", "x", "The complex conjugate: x itself for a real x."),
)

_BINARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("add", "x + y", "x + y."),
    ("subtract", "x - y", "x - y."),
    ("multiply", "x * y", "x * y."),
    ("divide", "x / y", "True division x / y (ints give a float quotient)."),
    ("floordiv", "x // y", "floor(x / y), as Python // (integer x // 0 gives 0, as NumPy)."),
    ("floormod", "x % y", "x - floor(x / y) * y: the sign of y, as Python %."),
    ("pow", "x ** y", "x to the power y."),
    ("maximum", "x if (x >= y or math.isnan(x)) else y", "The larger of x and y; NaN if either is."),
    ("minimum", "x if (x <= y or math.isnan(x)) else y", "The smaller of x and y; NaN if either is."),
    ("squared_difference", "(x - y) * (x - y)", "(x - y)**2."),
    ("equal", "x == y", "x == y."),
    ("not_equal", "x != y", "x != y."),
    ("less", "x < y", "x < y."),
    ("less_equal", "x <= y", "x <= y."),
    ("greater", "x > y", "x > y."),
    ("greater_equal", "x >= y", "x >= y."),
    ("logical_and", "x and y", "Boolean and."),
    ("logical_or", "x or y", "Boolean or."),
    ("relu_grad", "x if y > 0 else 0.0", "relu_grad(g, x): g if x > 0 else 0."),
    ("relu6_grad", "x if (y > 0 and y < 6) else 0.0", "relu6_grad(g, x): g if 0 < x < 6 else 0."),
    ("leaky_relu_grad", "x if y > 0 else p * x", "leaky_relu_grad(g, x): g if x > 0 else p * g."),
    ("elu_grad", "x if y > 0 else x * (y + 1.0)",
     "elu_grad(g, y) for y = elu(x): g if y > 0 else g * (y + 1)."),
    ("sigmoid_grad", "y * x * (1.0 - x)", "sigmoid_grad(y, g) for y = sigmoid(x): g * y * (1 - y)."),
    ("tanh_grad", "y * (1.0 - x * x)", "tanh_grad(y, g) for y = tanh(x): g * (1 - y * y)."),
    ("sqrt_grad", "0.5 * y / x", "sqrt_grad(y, g) for y = sqrt(x): 0.5 * g / y."),
    ("rsqrt_grad", "-0.5 * y * x * x * x", "rsqrt_grad(y, g) for y = rsqrt(x): -0.5 * g * y**3."),
    ("reciprocal_grad", "-y * x * x", "reciprocal_grad(y, g) for y = 1 / x: -g * y**2."),
    ("softplus_grad", "x * " + _SIGMOID.format(v="y"), "softplus_grad(g, x): g * sigmoid(x)."),
)

# Complex forms (complex64/complex128 operands) of the kernels TensorFlow defines on complex
# numbers; every other kernel's op refuses complex dtypes in its shape rule. Numba compiles
# ``math`` only on real scalars, so these use ``cmath`` and ``.real``/``.imag``. Division goes
# through ``_cdiv`` (defined in each generated file): NumPy's algorithm, giving inf/NaN for a
# zero divisor, where Numba's complex ``/`` raises ZeroDivisionError on the CPU. The result is
# complex (bool for equal/not_equal).
# * expm1 is 2 e**(x/2) sinh(x/2), accurate for small |x| (exp(x) - 1 would cancel);
# * squared_difference is (x - y) * conj(x - y), as TensorFlow, written as |x - y|² so that
#   its imaginary part is exactly 0 (a fused multiply-add could leave a rounding residue).
_COMPLEX_UNARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("negative", "-x", "-x."),
    ("sign", "x / abs(x) if x != 0 else x", "x / |x| (0 at 0)."),
    ("square", "x * x", "x * x."),
    ("sqrt", "cmath.sqrt(x)", "The principal square root."),
    ("rsqrt", "_cdiv(1.0, cmath.sqrt(x))", "1 / sqrt(x)."),
    ("reciprocal", "_cdiv(1.0, x)", "1 / x."),
    ("exp", "cmath.exp(x)", "e**x."),
    ("expm1", "2.0 * cmath.exp(0.5 * x) * cmath.sinh(0.5 * x)", "e**x - 1, accurate for small |x|."),
    ("log", "cmath.log(x)", "The principal natural log."),
    ("log1p", "cmath.log(1.0 + x)", "log(1 + x)."),
    ("sin", "cmath.sin(x)", "Sine."),
    ("cos", "cmath.cos(x)", "Cosine."),
    ("tanh", "cmath.tanh(x)", "Hyperbolic tangent."),
    ("sigmoid", "_cdiv(1.0, 1.0 + cmath.exp(-x))", "1 / (1 + e**-x)."),
    ("identity", "x", "A copy of x."),
    ("conj", "x.conjugate()", "The complex conjugate."),
)

_COMPLEX_BINARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("add", "x + y", "x + y."),
    ("subtract", "x - y", "x - y."),
    ("multiply", "x * y", "x * y."),
    ("divide", "_cdiv(x, y)", "x / y (inf/NaN for y = 0, as NumPy)."),
    ("pow", "x ** y", "x to the power y (principal branch)."),
    ("squared_difference", "complex((x.real - y.real) ** 2 + (x.imag - y.imag) ** 2, 0.0)",
     "(x - y) * conj(x - y), a complex number with imaginary part 0."),
    ("equal", "x == y", "x == y."),
    ("not_equal", "x != y", "x != y."),
)

# Conversion kernels: complex -> real, and real -> complex (see the module docstring).
# * complex_abs is hypot(re, im), as NumPy's abs: sqrt(re**2 + im**2) would overflow for
#   parts above ~1.8e19 in float32 (1.3e154 in float64) and underflow below ~1e-19.
# * complex(x, y) sets both parts exactly: x + 1j * y would give nan + inf j for y = inf.
_CONVERT_UNARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("real", "x.real", "The real part of a complex x."),
    ("imag", "x.imag", "The imaginary part of a complex x."),
    ("complex_abs", "math.hypot(x.real, x.imag)",
     "|x| of a complex x, as hypot(re, im): no overflow for large parts."),
    ("angle", "math.atan2(x.imag, x.real)", "The argument atan2(im, re) of a complex x."),
    ("to_complex", "complex(x, 0.0)", "A real x as the complex number x + 0i (a cast)."),
)

_CONVERT_BINARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("complex", "complex(x, y)", "The complex number x + iy from real parts x and y."),
)

NO_CUDA_COMPLEX: dict[str, str] = {
    "pow": "Numba's CUDA complex power returns 0 whenever the real parts of both operands are "
           "0 (1j ** 1j gives 0, not e**(-pi/2)): numba/cuda/mathimpl.py, cpow_implement",
}
"""Complex kernels with no CUDA form, and why: the ops that call them run on the host when
their operands are complex (``cuda/placement.py`` reads this)."""

UNARY: dict[str, str] = {name: expr for name, expr, _ in _UNARY_ROWS}
"""Unary kernel name -> expression in ``x`` (and ``p``)."""

BINARY: dict[str, str] = {name: expr for name, expr, _ in _BINARY_ROWS}
"""Binary kernel name -> expression in ``x``, ``y`` (and ``p``); operands broadcast."""

DOC: dict[str, str] = {name: doc for name, _, doc in _UNARY_ROWS + _BINARY_ROWS}
"""Kernel name -> one-line description."""

COMPLEX_UNARY: dict[str, str] = {name: expr for name, expr, _ in _COMPLEX_UNARY_ROWS}
"""Unary kernel name -> its expression on a complex ``x`` (a subset of ``UNARY``'s names)."""

COMPLEX_BINARY: dict[str, str] = {name: expr for name, expr, _ in _COMPLEX_BINARY_ROWS}
"""Binary kernel name -> its expression on complex ``x``, ``y`` (a subset of ``BINARY``'s)."""

COMPLEX_DOC: dict[str, str] = {name: doc for name, _, doc in
                               _COMPLEX_UNARY_ROWS + _COMPLEX_BINARY_ROWS}
"""Complex kernel name -> one-line description."""


CONVERT_UNARY: dict[str, str] = {name: expr for name, expr, _ in _CONVERT_UNARY_ROWS}
"""Conversion kernel name -> expression in ``x`` (complex -> real or real -> complex)."""

CONVERT_BINARY: dict[str, str] = {name: expr for name, expr, _ in _CONVERT_BINARY_ROWS}
"""Binary conversion kernel name -> expression in real ``x``, ``y`` (a complex result)."""

CONVERT_DOC: dict[str, str] = {name: doc for name, _, doc in
                               _CONVERT_UNARY_ROWS + _CONVERT_BINARY_ROWS}
"""Conversion kernel name -> one-line description."""

KINDS = ("real", "complex", "convert")
"""The kinds of kernel: real operands, complex operands (and result), conversions."""


def exprs(binary: bool, kind: str = "real") -> dict[str, str]:
    """The table of unary or binary kernels of ``kind`` (one of ``KINDS``): name -> expression."""
    tables = {"real": (UNARY, BINARY), "complex": (COMPLEX_UNARY, COMPLEX_BINARY),
              "convert": (CONVERT_UNARY, CONVERT_BINARY)}
    return tables[kind][binary]


def doc(name: str, kind: str = "real") -> str:
    """The one-line description of kernel ``name`` of ``kind``."""
    return {"real": DOC, "complex": COMPLEX_DOC, "convert": CONVERT_DOC}[kind][name]
