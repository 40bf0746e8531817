"""``tf.signal``: discrete Fourier transforms over the innermost axes, with NumPy's FFT.

``fft``/``ifft`` transform the last axis, ``fft2d``/``ifft2d`` the last two, of a complex
tensor; ``rfft`` takes a real tensor to the ``fft_length // 2 + 1`` non-negative frequencies
and ``irfft`` back (the input is cropped or zero-padded to ``fft_length``, as TF).
Gradients use TF's complex convention (see ``complex_ops.py``): each transform is linear, so
its gradient is its adjoint, written with the other transforms (the FFT's adjoint is
``n * ifft``, the real transforms' adjoints are each other, weighted). The forwards run on
the host (``device="host"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, op_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape
from . import _rules
from .complex_ops import _COMPLEX_OF, _REAL_OF


def _complex_infer(rank: int):
    def infer(shapes, dtypes, attrs):
        (shape,), (d,) = shapes, dtypes
        if not d.is_complex:
            raise ShapeError(f"the input must be complex64 or complex128, got {d.name} (tf.cast "
                             "a real signal to complex, or use tf.signal.rfft)")
        if len(shape) < rank:
            raise ShapeError(f"the input must have rank >= {rank}, got rank {len(shape)}")
        return [(shape, d)]

    return infer


def _size(g: Tensor, rank: int) -> Tensor:
    """The number of points of the transform over the last ``rank`` axes, in g's dtype."""
    from .array_ops import shape
    from .math_ops import cast
    from .reduction_ops import reduce_prod

    return cast(reduce_prod(shape(g)[-rank:]), g.dtype)


def _complex_fft(op_type: str, np_fn: Any, rank: int, adjoint: str, scale: str, doc: str,
                 api: tuple[str, ...]) -> Any:
    """Define the complex transform ``op_type`` (NumPy's ``np_fn`` over the last ``rank``
    axes) whose gradient is ``adjoint`` times the size (``scale="mul"``) or over it."""
    axes = tuple(range(-rank, 0))

    def forward(rt, x):
        return np_fn(x, axes=axes).astype(x.dtype, copy=False)

    def gradient(op, g):
        back = execute(adjoint, [g])
        n = _size(g, rank)
        return [back * n if scale == "mul" else back / n]

    defop(op_type, _complex_infer(rank), forward, gradient, doc=doc, api=api)

    def fn(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TF's name
        return execute(op_type, [convert_to_tensor(input)], name=name)

    fn.__name__ = api[0].rpartition(".")[2]
    fn.__doc__ = doc
    return op_export(op_type)(fn)


fft = _complex_fft("FFT", np.fft.fftn, 1, "IFFT", "mul",
                   "The discrete Fourier transform over the last axis.", ("signal.fft",))
ifft = _complex_fft("IFFT", np.fft.ifftn, 1, "FFT", "div",
                    "The inverse DFT over the last axis (1/n normalisation).", ("signal.ifft",))
fft2d = _complex_fft("FFT2D", np.fft.fftn, 2, "IFFT2D", "mul",
                     "The 2-D DFT over the last two axes.", ("signal.fft2d",))
ifft2d = _complex_fft("IFFT2D", np.fft.ifftn, 2, "FFT2D", "div",
                      "The inverse 2-D DFT over the last two axes.", ("signal.ifft2d",))


# -- real transforms -------------------------------------------------------------------------------


def _real_fft_infer(out_dtypes: dict, out_length: Any):
    """The rule of rfft (``out_dtypes`` maps float to complex) or irfft (complex to float):
    the last axis becomes ``out_length(fft_length)``."""
    def infer(shapes, dtypes, attrs):
        (shape,), (d,) = shapes, dtypes
        if d not in out_dtypes:
            names = " or ".join(k.name for k in out_dtypes)
            raise ShapeError(f"the input must be {names}, got {d.name}")
        if not shape:
            raise ShapeError("the input must have rank >= 1")
        return [(TensorShape([*shape[:-1], out_length(attrs["fft_length"])]), out_dtypes[d])]

    return infer


def _fit_last(g: Tensor, n: int | None) -> Tensor:
    """``g`` cropped or zero-padded on its last axis to length ``n`` (the adjoint of the
    crop/pad the real transforms apply to their input)."""
    from .array_ops import concat, tile, zeros_like

    have = g.shape[-1]
    if n is None or have is None:
        raise ValueError("the rfft/irfft gradient needs the static length of the last axis")
    if n < have:
        return g[..., :n]
    if n > have:
        pad = tile(zeros_like(g[..., :1]), [1] * (g.shape.rank - 1) + [n - have])
        return concat([g, pad], axis=-1)
    return g


def _half_weights(length: int, dtype: Any, inner: float, edge: float) -> Tensor:
    """Per-frequency weights of the ``length // 2 + 1`` rfft bins: ``edge`` at 0 and (even
    length) at the Nyquist bin, which have no mirror image; ``inner`` elsewhere."""
    from ..framework.execute import convert_to_tensor as const

    w = np.full(length // 2 + 1, inner)
    w[0] = edge
    if length % 2 == 0:
        w[-1] = edge
    return const(w.astype(dtype.np))


def _rfft_grad(op, g):
    # rfft's adjoint: Re(sum_k g_k e^{+2 pi i k n / L}) = L * irfft(g * w), w = 1/2 on the bins
    # that irfft mirrors, 1 on those it does not
    length = op.attrs["fft_length"]
    x = irfft(g * _half_weights(length, g.dtype, 0.5, 1.0), [length]) * float(length)
    return [_fit_last(x, op.inputs[0].shape[-1])]


def _irfft_grad(op, g):
    # irfft(X)[n] = (1/L) (X_0 + 2 sum Re(X_k e^{2 pi i k n / L}) [+ X_{L/2} (-1)^n]), so its
    # adjoint is rfft(g) * w / L with w = 2 on the mirrored bins, 1 on the others
    length = op.attrs["fft_length"]
    spec = rfft(g, [length]) * _half_weights(length, _COMPLEX_OF[g.dtype], 2.0 / length,
                                             1.0 / length)
    return [_fit_last(spec, op.inputs[0].shape[-1])]


defop("RFFT", _real_fft_infer(_COMPLEX_OF, lambda n: n // 2 + 1),
      lambda rt, x, fft_length: np.fft.rfft(x, n=fft_length, axis=-1).astype(
          np.result_type(x.dtype, np.complex64), copy=False),
      _rfft_grad, doc="The DFT of a real signal over the last axis: the fft_length // 2 + 1 "
      "non-negative frequencies.", api=("signal.rfft",))
defop("IRFFT", _real_fft_infer(_REAL_OF, lambda n: n),
      lambda rt, x, fft_length: np.fft.irfft(x, n=fft_length, axis=-1).astype(
          _REAL_OF[_dtypes.as_dtype(x.dtype)].np, copy=False),
      _irfft_grad, doc="The inverse of rfft: a real signal of fft_length points from its "
      "non-negative frequencies.", api=("signal.irfft",))


def _fft_length(fft_length: Any, default: int | None, what: str) -> int:
    if fft_length is None:
        if default is None:
            raise ValueError(f"{what}: the last dimension is unknown; pass fft_length")
        return default
    (n,) = _rules.static_ints(fft_length, f"{what} fft_length")
    if n < 1:
        raise ValueError(f"{what}: fft_length must be positive, got {n}")
    return n


@op_export("RFFT")
def rfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """The DFT of a real signal over its last axis, cropped or zero-padded to
    ``fft_length`` (a one-element list, as TF; default: the last dimension)."""
    x = convert_to_tensor(input_tensor)
    n = _fft_length(fft_length, x.shape[-1] if x.shape.rank else None, "rfft")
    return execute("RFFT", [x], {"fft_length": n}, name)


@op_export("IRFFT")
def irfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """The real signal of ``fft_length`` points (default ``2 * (m - 1)`` for ``m``
    frequencies) whose rfft is the input (cropped or zero-padded to ``fft_length // 2 + 1``)."""
    x = convert_to_tensor(input_tensor)
    m = x.shape[-1] if x.shape.rank else None
    n = _fft_length(fft_length, None if m is None else 2 * (m - 1), "irfft")
    return execute("IRFFT", [x], {"fft_length": n}, name)
