"""Complex numbers: ``tf.complex``, ``tf.math.real``/``imag``/``conj``/``angle`` and ``tf.abs``.

Gradients follow TensorFlow's convention: for a real loss L of a complex z, the gradient is
dL/dRe(z) + i dL/dIm(z) (the conjugate of the Wirtinger derivative dL/dz, times 2), so
d|z|²/dz = 2z, d|z|/dz = z/|z| and d Re(z²)/dz = 2 conj(z). PyTorch's complex autograd
uses the same convention. Conj is a backend kernel (it runs on the GPU: every complex
gradient calls it); the other forwards are NumPy's on the host (``device="host"``).
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


defop("Complex", _complex_infer,
      lambda rt, x, y: (np.asarray(x) + 1j * np.asarray(y)).astype(
          np.result_type(x.dtype, np.complex64)),
      _complex_grad, doc="real + i * imag; the operands broadcast.", api=("complex",))
defop("Real", _part_infer, lambda rt, z: np.ascontiguousarray(np.real(z)),
      lambda op, g: [complex(g, 0.0)], doc="The real part of z.", api=("math.real", "real"))
defop("Imag", _part_infer, lambda rt, z: np.ascontiguousarray(np.imag(z)),
      lambda op, g: [complex(0.0, g)], doc="The imaginary part of z.", api=("math.imag", "imag"))
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


defop("ComplexAbs", _part_infer, lambda rt, z: np.abs(z), _abs_grad,
      doc="|z| = sqrt(re² + im²), a real tensor.")
defop("Angle", _part_infer, lambda rt, z: np.angle(z), _angle_grad,
      doc="The argument atan2(imag, real) of z, in (-pi, pi].", api=("math.angle", "angle"))


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
