"""Complex numbers: ``tf.complex``, ``tf.math.real``/``imag``/``conj``/``angle`` and ``tf.abs``.

Gradients follow TensorFlow's convention: for a real loss L of a complex z, the gradient is
dL/dRe(z) + i dL/dIm(z) (the conjugate of the Wirtinger derivative dL/dz, times 2), so
d|z|²/dz = 2z, d|z|/dz = z/|z| and d Re(z²)/dz = 2 conj(z). PyTorch's complex autograd
uses the same convention. Every forward is one backend kernel (``device="kernels"``: they
run on the GPU too): Conj a complex kernel, the others conversion kernels
(``kernel_table.CONVERT_UNARY``/``CONVERT_BINARY``) whose result dtype is the op's rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, op_export, tf_export
from ..framework.tensor import Tensor
from . import _rules
from .math_ops import _convert_operands, _unbroadcast

_COMPLEX_OF = {_dtypes.float32: _dtypes.complex64, _dtypes.float64: _dtypes.complex128}
_REAL_OF = {c: f for f, c in _COMPLEX_OF.items()}
# the same rules on NumPy dtypes, for the forwards (device arrays have NumPy dtypes)
_NP_COMPLEX_OF = {f.np: c.np for f, c in _COMPLEX_OF.items()}
_NP_REAL_OF = {c.np: f.np for c, f in _REAL_OF.items()}


def _part_infer(shapes, dtypes, attrs):
    (d,) = dtypes
    _rules.require(d, "c", "this op")
    return [(shapes[0], _REAL_OF[d])]


def _complex_infer(shapes, dtypes, attrs):
    d = _rules.same_dtype(dtypes, ["real", "imag"])
    if d not in _COMPLEX_OF:
        raise ShapeError(f"real and imag must be float32 or float64, got {d.name}")
    return [(_rules.broadcast_shapes(*shapes), _COMPLEX_OF[d])]


def _complex_grad(op, g):
    x, y = op.inputs
    return [_unbroadcast(real(g), x), _unbroadcast(imag(g), y)]


def _part_def(op_type: str, kernel: str, gradient: Any, doc: str, api: tuple[str, ...] = ()) -> None:
    """Op ``op_type``: complex -> real by conversion kernel ``kernel`` (complex64 -> float32,
    complex128 -> float64)."""
    defop(op_type, _part_infer, lambda rt, z: rt.be.unary(kernel, z, _NP_REAL_OF[z.dtype]),
          gradient, doc=doc, kernel=kernel, device="kernels", api=api)


defop("Complex", _complex_infer,
      lambda rt, x, y: rt.be.binary("complex", x, y, _NP_COMPLEX_OF[x.dtype]),
      _complex_grad, doc="real + i * imag; the operands broadcast.", kernel="complex",
      device="kernels", api=("complex",))
_part_def("Real", "real", lambda op, g: [complex(g, 0.0)], "The real part of z.",
          ("math.real", "real"))
_part_def("Imag", "imag", lambda op, g: [complex(0.0, g)], "The imaginary part of z.",
          ("math.imag", "imag"))
defop("Conj", lambda shapes, dtypes, attrs: [(shapes[0], dtypes[0])],
      lambda rt, z: rt.be.unary("conj", z, z.dtype), lambda op, g: [conj(g)],
      doc="The complex conjugate of z.", kernel="conj", device="kernels",
      api=("math.conj", "conj"))


def _abs_grad(op, g):
    # d|z|/dz = z / |z| (0 at z = 0, as TF's div_no_nan)
    from .array_ops import where, zeros_like

    z, r = op.inputs[0], op.outputs[0]
    safe = where(r > 0.0, r, zeros_like(r) + 1.0)
    return [complex(where(r > 0.0, g / safe, zeros_like(g)), 0.0) * z]


def _angle_grad(op, g):
    # angle = atan2(im, re): d/dre = -im / |z|², d/dim = re / |z|², so -g / (im + i re)
    z = op.inputs[0]
    return [-complex(g, 0.0) / complex(imag(z), real(z))]


_part_def("ComplexAbs", "complex_abs", _abs_grad,
          "|z| = sqrt(re² + im²), a real tensor (computed as hypot: no overflow).")
_part_def("Angle", "angle", _angle_grad, "The argument atan2(imag, real) of z, in (-pi, pi].",
          ("math.angle", "angle"))


@op_export("Complex")
def complex(real: Any, imag: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    """``real + i * imag`` (float32 parts give complex64, float64 parts complex128)."""
    x, y = _convert_operands(real, imag)
    return execute("Complex", [x, y], name=name)


def _part(op_type: str, doc: str, if_real: Any) -> Any:
    def fn(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF's name
        x = convert_to_tensor(input)
        if not x.dtype.is_complex:
            return if_real(x)
        return execute(op_type, [x], name=name)

    fn.__name__ = op_type.lower()
    fn.__doc__ = doc
    return op_export(op_type)(fn)


def _zeros(x: Tensor) -> Tensor:
    from .array_ops import zeros_like

    return zeros_like(x)


def _real_angle(x: Tensor) -> Tensor:
    from .array_ops import where, zeros_like

    return where(x < 0, zeros_like(x) + np.pi, zeros_like(x))


real = _part("Real", "The real part of a complex tensor (a real tensor: itself).", lambda x: x)
imag = _part("Imag", "The imaginary part of a complex tensor (zeros for a real one).", _zeros)
conj = _part("Conj", "The complex conjugate (a real tensor: itself, as TF).", lambda x: x)
angle = _part("Angle", "The argument of a complex tensor in (-pi, pi] (a real tensor: pi "
              "where it is negative, else 0, as TF).", _real_angle)


@tf_export("abs", "math.abs")
def abs(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    """``|x|``; for a complex tensor the magnitude, a real tensor (op ComplexAbs, as TF)."""
    from .math_ops import abs as real_abs

    x = convert_to_tensor(x)
    if x.dtype.is_complex:
        return execute("ComplexAbs", [x], name=name)
    return real_abs(x, name=name)
