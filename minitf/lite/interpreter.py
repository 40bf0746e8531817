"""``tf.lite.Interpreter``: runs a minitf-lite model (see ``format.py``) with the Numba kernels.

``allocate_tensors`` plans the whole invoke once: it checks every op's shapes, allocates every
activation for the current batch size, folds what is constant (int32 biases with the input
zero point, fixed-point multipliers, float16 weights) and binds each op to one kernel call
with its arguments. ``invoke`` then only walks that list of calls.

Which kernel an op gets follows the dtypes in the file, as in TFLite: int8 input and weights
run the integer kernels, a float input with int8 weights the hybrid (dynamic-range) ones,
float ones the float32 kernels. A Dense whose weights are mostly zero (pruned) runs a sparse
kernel instead where a cost model says it is faster (:func:`sparse_pays`). An int8 CONV_2D whose
only reader is a MAX_POOL_2D runs fused with it (one kernel, no int8 conv output written); as in
TFLite, intermediate tensors are then not kept unless ``experimental_preserve_all_tensors=True``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import format as fmt
from . import kernels as K
from .quantize import multipliers

# Pruned Dense layers: "auto" lets sparse_pays() choose the kernel, "never"/"always" force it.
SPARSE = "auto"

# The cost model's constants, picoseconds per: dense multiply-add, sparse multiply-add (one
# nonzero times one batch row), element of the input transpose the sparse kernels make.
# Measured in thread CPU time, one thread, on the MNIST shapes (784x128 and 2704x64 at batch
# 32 and 256, 10/20/50 % nonzeros; AMD EPYC with AVX-512). At batch 1 the sparse kernels lost
# at every density (at 5 % nonzeros 10-24 us against 3.7-5 us for the dense dot products), so
# they need a batch of at least SPARSE_MIN_BATCH.
_COST_PS = {"int8": (30.0, 45.0, 1100.0), "float32": (55.0, 120.0, 1200.0)}
SPARSE_MIN_BATCH = 16


def sparse_pays(kind: str, batch: int, n_in: int, n_out: int, nnz: int) -> bool:
    """Whether the sparse kernel should run a Dense layer ``n_in -> n_out`` with ``nnz``
    nonzero weights at this batch size (``kind``: "int8" or "float32"): its estimated cost
    must be under 0.8x the dense kernel's (a margin for the model's error)."""
    if SPARSE != "auto":
        return SPARSE == "always"
    dense, sparse, transpose = _COST_PS[kind]
    return batch >= SPARSE_MIN_BATCH and \
        sparse * nnz + transpose * n_in < 0.8 * dense * n_out * n_in

_INF = np.float32(np.inf)


def _fail(op: fmt.OpSpec, i: int, msg: str) -> None:
    raise fmt.InvalidModelError(f"invalid minitf-lite model: operators[{i}] {op.op}: {msg}")


def _act_bounds(act: str, dtype: str, zp: int) -> tuple[Any, Any]:
    """Clamp bounds of a fused activation ("NONE" or "RELU") in the output's domain."""
    if act not in ("NONE", "RELU"):
        raise ValueError(f"unsupported fused activation {act!r}")
    if dtype == "int8":
        return (max(zp, -128) if act == "RELU" else -128), 127
    return (np.float32(0.0) if act == "RELU" else -_INF), _INF


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Interpreter:
    """TFLite's Python interpreter API for minitf-lite models.

    ``Interpreter(model_content=bytes)`` or ``Interpreter(model_path=...)``; then
    ``allocate_tensors()``, ``set_tensor``, ``invoke``, ``get_tensor``. Inputs default to a
    batch of 1; ``resize_tensor_input(index, shape)`` changes it (then allocate again).
    ``num_threads`` and the other ``experimental_*`` arguments are accepted and ignored (one
    thread). ``experimental_preserve_all_tensors=True`` turns op fusion off, so that
    ``get_tensor`` reads every intermediate tensor.
    """

    def __init__(self, model_path: str | os.PathLike | None = None,
                 model_content: bytes | None = None, num_threads: int | None = None,
                 experimental_preserve_all_tensors: bool = False, **_ignored: Any) -> None:
        if (model_path is None) == (model_content is None):
            raise ValueError("Interpreter needs exactly one of model_path or model_content")
        if model_path is not None:
            with open(model_path, "rb") as f:
                model_content = f.read()
        self._model = fmt.parse(model_content)
        self._shapes = {i: list(self._model.tensors[i].shape) for i in self._model.inputs}
        self._arrays: dict[int, np.ndarray] = {}
        self._plan: list[tuple[Callable, tuple]] = []
        self._allocated = False
        self._const: set[int] = set()
        self._preserve = bool(experimental_preserve_all_tensors)
        # planning state: consumers per tensor; int8 convs a following pool may fuse into
        self._uses: dict[int, int] = {}
        self._fusable: dict[int, tuple[int, tuple]] = {}

    # -- details ------------------------------------------------------------------------------
    def _details(self, i: int) -> dict:
        t = self._model.tensors[i]
        arr = self._arrays.get(i)
        shape = list(arr.shape) if arr is not None else list(t.shape)
        signature = list(t.shape)
        if t.data is None and signature:
            signature[0] = -1
        scale = t.scale[0] if len(t.scale) == 1 else 0.0
        zp = t.zero_point[0] if len(t.zero_point) == 1 else 0
        return {"name": t.name, "index": i, "shape": np.array(shape, np.int32),
                "shape_signature": np.array(signature, np.int32),
                "dtype": fmt.DTYPES[t.dtype], "quantization": (scale, zp),
                "quantization_parameters": {
                    "scales": np.array(t.scale, np.float32),
                    "zero_points": np.array(t.zero_point, np.int32),
                    "quantized_dimension": t.quantized_dimension},
                "sparsity_parameters": {}}

    def get_input_details(self) -> list[dict]:
        return [self._details(i) for i in self._model.inputs]

    def get_output_details(self) -> list[dict]:
        return [self._details(i) for i in self._model.outputs]

    def get_tensor_details(self) -> list[dict]:
        return [self._details(i) for i in range(len(self._model.tensors))]

    def get_signature_list(self) -> dict:
        return {"serving_default": {"inputs": [self._model.tensors[i].name
                                               for i in self._model.inputs],
                                    "outputs": [self._model.tensors[i].name
                                                for i in self._model.outputs]}}

    # -- tensors ------------------------------------------------------------------------------
    def resize_tensor_input(self, input_index: int, tensor_size: Any, strict: bool = False
                            ) -> None:
        """Give input ``input_index`` a new shape (only the batch axis may change)."""
        if input_index not in self._shapes:
            raise ValueError(f"tensor {input_index} is not an input; inputs are "
                             f"{list(self._shapes)}")
        new = [int(d) for d in tensor_size]
        old = self._model.tensors[input_index].shape
        if len(new) != len(old) or new[1:] != list(old[1:]) or new[0] <= 0:
            raise ValueError(f"input {input_index} '{self._model.tensors[input_index].name}' "
                             f"can only change its batch size: shape {list(old)}, got {new}")
        if math.prod(new) > fmt.MAX_ELEMENTS:
            raise ValueError(f"input shape {new} has more than {fmt.MAX_ELEMENTS} elements")
        self._shapes[input_index] = new
        self._allocated = False

    def _require_allocated(self) -> None:
        if not self._allocated:
            raise RuntimeError("call allocate_tensors() first (after creating the interpreter "
                               "or resizing an input)")

    def set_tensor(self, tensor_index: int, value: Any) -> None:
        self._require_allocated()
        if tensor_index not in self._shapes:
            raise ValueError(f"tensor {tensor_index} is not an input; inputs are "
                             f"{list(self._shapes)}")
        dst = self._arrays[tensor_index]
        value = np.asarray(value)
        if value.dtype != dst.dtype:
            raise ValueError(f"input {tensor_index} '{self._model.tensors[tensor_index].name}' "
                             f"has dtype {dst.dtype}, got {value.dtype}")
        if value.shape != dst.shape:
            raise ValueError(f"input {tensor_index} '{self._model.tensors[tensor_index].name}' "
                             f"has shape {list(dst.shape)}, got {list(value.shape)} "
                             f"(resize_tensor_input changes the batch size)")
        dst[...] = value

    def get_tensor(self, tensor_index: int) -> np.ndarray:
        self._require_allocated()
        if tensor_index not in self._arrays:
            raise ValueError(f"tensor index {tensor_index} out of range "
                             f"[0, {len(self._model.tensors)})")
        return self._arrays[tensor_index].copy()

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """A function returning a view of the tensor (no copy), as TFLite's."""
        self._require_allocated()
        return lambda: self._arrays[tensor_index]

    def invoke(self) -> None:
        self._require_allocated()
        for kernel, args in self._plan:
            kernel(*args)

    # -- planning -----------------------------------------------------------------------------
    def allocate_tensors(self) -> None:
        """Check the model, allocate every tensor for the current input shapes and bind each op
        to its kernel."""
        m = self._model
        self._allocated = False  # until the whole plan is built
        arrays: dict[int, np.ndarray] = {}
        for i, t in enumerate(m.tensors):
            if t.data is not None:
                arrays[i] = np.ascontiguousarray(t.data, fmt.DTYPES[t.dtype])
        self._const = set(arrays)
        for i in m.inputs:
            t = m.tensors[i]
            if t.data is not None:
                raise fmt.InvalidModelError(f"invalid minitf-lite model: input {i} is constant")
            arrays[i] = np.zeros(self._shapes[i], fmt.DTYPES[t.dtype])
        self._arrays, plan = arrays, []
        self._plan, self._fusable, self._uses = plan, {}, {}
        for op in m.operators:
            for i in op.inputs:
                self._uses[i] = self._uses.get(i, 0) + 1
        for i in m.outputs:
            self._uses[i] = self._uses.get(i, 0) + 1
        for k, op in enumerate(m.operators):
            prepare = _PREPARE.get(op.op)
            if prepare is None:
                _fail(op, k, f"unknown op (known: {', '.join(sorted(_PREPARE))})")
            if any(i not in arrays for i in op.inputs):
                _fail(op, k, "reads a tensor no earlier op produced")
            if any(i in arrays for i in op.outputs) or len(op.outputs) != 1:
                _fail(op, k, "must write exactly one tensor that nothing else writes")
            try:
                step = prepare(self, op, k)
            except (ValueError, KeyError, TypeError, IndexError) as e:
                if isinstance(e, fmt.InvalidModelError):
                    raise
                _fail(op, k, str(e))
            if step is not None:
                plan.append(step)
        for i in m.outputs:
            if i not in arrays:
                raise fmt.InvalidModelError(f"invalid minitf-lite model: output {i} is never "
                                            f"computed")
        self._plan, self._allocated = plan, True

    def _t(self, i: int) -> fmt.TensorSpec:
        return self._model.tensors[i]

    def _out(self, op: fmt.OpSpec, k: int, shape: tuple[int, ...], dtype: str,
             view_of: np.ndarray | None = None) -> np.ndarray:
        """Allocate op's output (or use ``view_of``) after checking it against the declared
        tensor."""
        t = self._t(op.outputs[0])
        if t.dtype != dtype:
            _fail(op, k, f"output '{t.name}' is {t.dtype}, the op produces {dtype}")
        if list(shape[1:]) != list(t.shape[1:]) or len(shape) != len(t.shape):
            _fail(op, k, f"output '{t.name}' is declared {t.shape}, the op produces "
                         f"{[-1, *shape[1:]]}")
        if math.prod(shape) > fmt.MAX_ELEMENTS:
            _fail(op, k, f"output '{t.name}' of shape {list(shape)} is too large")
        arr = np.zeros(shape, fmt.DTYPES[dtype]) if view_of is None else view_of.reshape(shape)
        self._arrays[op.outputs[0]] = arr
        return arr

    def _qparams(self, i: int) -> tuple[float, int]:
        t = self._t(i)
        if len(t.scale) != 1:
            raise ValueError(f"tensor '{t.name}' needs one scale and zero point")
        return t.scale[0], t.zero_point[0]


# -- one preparer per op: check, allocate, fold constants, bind the kernel ---------------------------


def _inputs(it: Interpreter, op: fmt.OpSpec, k: int, n: int) -> list[np.ndarray]:
    if len(op.inputs) != n:
        _fail(op, k, f"takes {n} inputs, got {len(op.inputs)}")
    return [it._arrays[i] for i in op.inputs]


def _prep_quantize(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    (x,) = _inputs(it, op, k, 1)
    if x.dtype != np.float32:
        _fail(op, k, f"quantizes float32, got {x.dtype}")
    scale, zp = it._qparams(op.outputs[0])
    out = it._out(op, k, x.shape, "int8")
    return K.quantize, (x, scale, zp, out)


def _prep_dequantize(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple | None:
    (x,) = _inputs(it, op, k, 1)
    src = it._t(op.inputs[0])
    if src.dtype == "float16":
        scale, zp = 1.0, 0
    else:
        scale, zp = it._qparams(op.inputs[0])
    out = it._out(op, k, x.shape, "float32")
    if op.inputs[0] in it._const:  # a constant (float16 weights): dequantized once, here
        it._const.add(op.outputs[0])
        out[...] = x.astype(np.float32) if src.dtype == "float16" else \
            ((x.astype(np.float64) - zp) * scale).astype(np.float32)
        return None
    return K.dequantize, (x, float(scale), int(zp), out)


def _weights(it: Interpreter, op: fmt.OpSpec, k: int, axis: int) -> tuple:
    """(x, w, bias, w_scales) of a Dense/Conv op, checked."""
    x, w, b = _inputs(it, op, k, 3)
    wt = it._t(op.inputs[1])
    if not {op.inputs[1], op.inputs[2]} <= it._const:
        _fail(op, k, "weights and bias must be constant tensors")
    if b.shape != (w.shape[axis],):
        _fail(op, k, f"bias shape {list(b.shape)} does not match {w.shape[axis]} outputs")
    if w.dtype == np.int8:
        if any(z != 0 for z in wt.zero_point) or len(wt.scale) not in (1, w.shape[axis]) or \
                (len(wt.scale) > 1 and wt.quantized_dimension != axis):
            _fail(op, k, "int8 weights need zero point 0 and one scale per tensor or per output")
        scales = np.broadcast_to(np.array(wt.scale, np.float32), (w.shape[axis],)).copy()
    else:
        scales = None
    return x, w, b, scales


def _epilogue(it: Interpreter, op: fmt.OpSpec, x_in: int, bias: np.ndarray,
              w_scales: np.ndarray, w_sum: np.ndarray) -> tuple:
    """int8 op constants: (folded int32 bias, multipliers, shifts, out zp, lo, hi)."""
    si, zi = it._qparams(x_in)
    so, zo = it._qparams(op.outputs[0])
    if bias.dtype != np.int32:
        raise ValueError("an int8 op needs an int32 bias")
    folded = bias.astype(np.int64) - np.int64(zi) * w_sum
    if np.abs(folded).max(initial=0) >= 2**31:
        raise ValueError("the folded bias overflows int32")
    mult, shift = multipliers(np.float64(si) * w_scales.astype(np.float64) / so)
    lo, hi = _act_bounds(op.options.get("activation", "NONE"), "int8", zo)
    return folded.astype(np.int32), mult, shift, zo, lo, hi


def _float_bounds(op: fmt.OpSpec) -> tuple:
    return _act_bounds(op.options.get("activation", "NONE"), "float32", 0)


def _prep_fc(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    x, w, b, scales = _weights(it, op, k, 0)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        _fail(op, k, f"input {list(x.shape)} does not fit weights [out, in] = {list(w.shape)}")
    n, o = x.shape[0], w.shape[0]
    kind = "int8" if x.dtype == np.int8 else "float32"
    sparse = w.dtype == x.dtype and sparse_pays(kind, n, w.shape[1], o, np.count_nonzero(w))
    if sparse:  # CSR by output row, and the scratch of the outer-product kernels
        indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(w, axis=1))]).astype(np.int32)
        rows, cols = np.nonzero(w)
        csr = (indptr, cols.astype(np.int32), np.ascontiguousarray(w[rows, cols]))
        scratch = (np.zeros(x.shape[::-1], x.dtype),
                   np.zeros(n, np.int32 if kind == "int8" else np.float32))
    if x.dtype == np.int8 and w.dtype == np.int8:
        consts = _epilogue(it, op, op.inputs[0], b, scales, w.sum(axis=1, dtype=np.int64))
        out = it._out(op, k, (n, o), "int8")
        if sparse:
            return K.fc_sparse_int8, (x, *csr, *consts, *scratch, out)
        # int8 values held in int16: LLVM then feeds them to the int16 multiply-adds directly
        # (vpmaddwd) instead of sign-extending every weight on every load (1.2-1.25x here)
        return K.fc_int8, (x, w.astype(np.int16), *consts, np.zeros(w.shape[1], np.int16),
                           np.zeros(o, np.int32), out)
    if x.dtype != np.float32 or b.dtype != np.float32:
        _fail(op, k, f"unsupported dtypes: input {x.dtype}, weights {w.dtype}, bias {b.dtype}")
    lo, hi = _float_bounds(op)
    out = it._out(op, k, (n, o), "float32")
    if w.dtype == np.int8:
        xq = np.zeros(x.shape[1], np.int8)
        return K.fc_hybrid, (x, w, scales, b, lo, hi, xq, out)
    if w.dtype != np.float32:
        _fail(op, k, f"unsupported weight dtype {w.dtype}")
    if sparse:
        return K.fc_sparse_float, (x, *csr, b, lo, hi, *scratch, out)
    return K.fc_float, (x, w, b, lo, hi, out)


def _padded(it: Interpreter, op: fmt.OpSpec, k: int, x: np.ndarray, kh: int, kw: int,
            sh: int, sw: int, value: Any) -> tuple[np.ndarray, tuple | None]:
    """The input the kernel reads (SAME: a padded copy made by a pad step) and that step."""
    padding = op.options.get("padding", "VALID")
    if padding == "VALID":
        return x, None
    if padding != "SAME":
        _fail(op, k, f"padding must be 'VALID' or 'SAME', got {padding!r}")
    (top, bottom), (left, right) = _same_pad(x.shape[1], kh, sh), _same_pad(x.shape[2], kw, sw)
    xp = np.zeros((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right,
                   x.shape[3]), x.dtype)
    return xp, (K.pad, (x, top, left, x.dtype.type(value), xp))


def _window(op: fmt.OpSpec, k: int, key: str) -> tuple[int, int]:
    v = op.options.get(key, [1, 1])
    if not isinstance(v, list) or len(v) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 1 << 16 for s in v):
        _fail(op, k, f"options.{key} must be two positive integers, got {v!r}")
    return v[0], v[1]


def _chain(*steps: tuple) -> tuple:
    """One plan entry running several kernel calls in order."""
    def run(*_: Any) -> None:
        for kernel, args in steps:
            kernel(*args)
    return run, ()


def _prep_conv(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    x, w, b, scales = _weights(it, op, k, 3)
    if x.ndim != 4 or w.ndim != 4 or x.shape[3] != w.shape[2]:
        _fail(op, k, f"input {list(x.shape)} does not fit weights [kh, kw, in, out] = "
                     f"{list(w.shape)}")
    kh, kw, _, co = w.shape
    sh, sw = _window(op, k, "strides")
    zi = it._qparams(op.inputs[0])[1] if x.dtype == np.int8 else 0
    xp, pad_step = _padded(it, op, k, x, kh, kw, sh, sw, zi)
    oh, ow = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    if oh <= 0 or ow <= 0:
        _fail(op, k, f"kernel {kh}x{kw} is larger than the input {list(x.shape)}")
    shape = (x.shape[0], oh, ow, co)
    if x.dtype == np.int8 and w.dtype == np.int8:
        consts = _epilogue(it, op, op.inputs[0], b, scales, w.sum(axis=(0, 1, 2), dtype=np.int64))
        out = it._out(op, k, shape, "int8")
        wide = _wide_conv(xp, w, sw, ow)
        if wide is not None:  # pool 1 x 1 = the plain convolution
            step = (K.conv_wide_int8, _wide_args(wide, xp, consts, sh, 1, 1, 1, 1, ow, out))
        else:
            acc = np.zeros((ow, co), np.int32)
            step = (K.conv_int8, (xp, w, *consts, sh, sw, acc, out))
        if not it._preserve:  # a MAX_POOL_2D reading only this output may fuse (see there)
            it._fusable[op.outputs[0]] = (len(it._plan), (pad_step, wide, xp, w, consts, sh, sw))
    elif x.dtype == np.float32 and b.dtype == np.float32 and w.dtype in (np.int8, np.float32):
        lo, hi = _float_bounds(op)
        out = it._out(op, k, shape, "float32")
        if w.dtype == np.int8:
            xq = np.zeros((1, *xp.shape[1:]), np.int8)
            step = (K.conv_hybrid, (xp, w, scales, b, lo, hi, sh, sw, xq,
                                    np.zeros((ow, co), np.int32), out))
        else:
            step = (K.conv_float, (xp, w, b, lo, hi, sh, sw, np.zeros((ow, co), np.float32),
                                   out))
    else:
        _fail(op, k, f"unsupported dtypes: input {x.dtype}, weights {w.dtype}, bias {b.dtype}")
    return _chain(pad_step, step) if pad_step else step


def _wide_conv(xp: np.ndarray, w: np.ndarray, sw: int, ow: int) -> tuple | None:
    """(taps, per-tap weights) for :func:`kernels.conv_wide_int8`, or None where it does not
    apply: column stride > 1, a weight of -128 (its int16 pair sums could overflow), or
    buffers over 512 KiB (the row kernel keeps big layers in cache better)."""
    kh, kw, ci, co = w.shape
    n_taps = kh * kw * ci + (kh * kw * ci) % 2
    if sw != 1 or w.min() < -127 or \
            2 * (n_taps * ow * co + xp.shape[1] * ci * xp.shape[2] * co) > 1 << 19:
        return None
    taps = np.zeros((n_taps, 3), np.int64)  # a pad tap reads (0, 0, 0) with weight 0
    taps[:kh * kw * ci] = np.stack(np.meshgrid(np.arange(kh), np.arange(kw), np.arange(ci),
                                               indexing="ij"), -1).reshape(-1, 3)
    flat = np.zeros((n_taps, co), np.int16)
    flat[:kh * kw * ci] = w.reshape(-1, co)
    return taps, flat


def _wide_args(wide: tuple, xp: np.ndarray, consts: tuple, sh: int, fh: int, fw: int, psh: int,
               psw: int, cols: int, out: np.ndarray) -> tuple:
    """The arguments of :func:`kernels.conv_wide_int8` computing ``cols`` conv columns."""
    taps, flat = wide
    co = flat.shape[1]
    return (xp, taps, np.tile(flat, (1, cols)), *consts, sh, fh, fw, psh, psw,
            np.zeros((xp.shape[1], xp.shape[3], xp.shape[2] * co), np.int16),
            np.zeros((fh, cols * co), np.int32), np.zeros(co, np.int32), out)


def _prep_max_pool(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    (x,) = _inputs(it, op, k, 1)
    fh, fw = _window(op, k, "pool_size")
    sh, sw = _window(op, k, "strides")
    if x.ndim != 4 or fh > x.shape[1] or fw > x.shape[2]:
        _fail(op, k, f"pool {fh}x{fw} does not fit input {list(x.shape)}")
    _same_params(it, op, k)
    shape = (x.shape[0], (x.shape[1] - fh) // sh + 1, (x.shape[2] - fw) // sw + 1, x.shape[3])
    out = it._out(op, k, shape, it._t(op.inputs[0]).dtype)
    conv = it._fusable.get(op.inputs[0])
    if conv is not None and it._uses[op.inputs[0]] == 1:
        # replace the conv's step by conv + pool in one kernel; the conv output stays unwritten
        at, (pad_step, wide, xp, w, consts, csh, csw) = conv
        cols = (shape[2] - 1) * sw + fw  # the conv columns the pool reads
        if wide is not None:
            fused = (K.conv_wide_int8, _wide_args(wide, xp, consts, csh, fh, fw, sh, sw, cols,
                                                  out))
        else:
            acc = np.zeros((fh, cols, shape[3]), np.int32)
            fused = (K.conv_pool_int8, (xp, w, *consts, csh, csw, fh, fw, sh, sw, acc,
                                        np.zeros(shape[3], np.int32), out))
        it._plan[at] = _chain(pad_step, fused) if pad_step else fused
        return None
    return K.max_pool, (x, fh, fw, sh, sw, out)


def _same_params(it: Interpreter, op: fmt.OpSpec, k: int) -> None:
    src, dst = it._t(op.inputs[0]), it._t(op.outputs[0])
    if (src.scale, src.zero_point) != (dst.scale, dst.zero_point):
        _fail(op, k, "input and output must share scale and zero point")


def _prep_reshape(it: Interpreter, op: fmt.OpSpec, k: int) -> None:
    (x,) = _inputs(it, op, k, 1)
    _same_params(it, op, k)
    t = it._t(op.outputs[0])
    rest = math.prod(t.shape[1:])
    if not t.shape or rest * x.shape[0] != x.size:
        _fail(op, k, f"cannot reshape {list(x.shape)} to {[-1, *t.shape[1:]]}")
    if x.dtype != fmt.DTYPES[t.dtype]:
        _fail(op, k, f"output '{t.name}' is {t.dtype}, the input {x.dtype}")
    it._out(op, k, (x.shape[0], *t.shape[1:]), t.dtype, view_of=x)  # a view: no step
    return None


def _prep_relu(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    (x,) = _inputs(it, op, k, 1)
    _same_params(it, op, k)
    dtype = it._t(op.inputs[0]).dtype
    zp = it._qparams(op.inputs[0])[1] if dtype == "int8" else 0
    lo, hi = _act_bounds("RELU", dtype, zp)
    return K.clamp, (x, lo, hi, it._out(op, k, x.shape, dtype))


def _prep_softmax(it: Interpreter, op: fmt.OpSpec, k: int) -> tuple:
    (x,) = _inputs(it, op, k, 1)
    beta = op.options.get("beta", 1.0)
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        _fail(op, k, f"options.beta must be a positive number, got {beta!r}")
    if x.ndim != 2:
        _fail(op, k, f"needs [batch, classes] input, got {list(x.shape)}")
    if x.dtype == np.int8:
        if it._qparams(op.outputs[0]) != (1 / 256, -128):
            _fail(op, k, "int8 softmax output must have scale 1/256 and zero point -128")
        si = it._qparams(op.inputs[0])[0]
        table = np.rint(2.0**20 * np.exp(-np.arange(256) * si * beta)).astype(np.int32)
        return K.softmax_int8, (x, table, it._out(op, k, x.shape, "int8"))
    return K.softmax_float, (x, np.float32(beta), it._out(op, k, x.shape, "float32"))


_PREPARE = {"QUANTIZE": _prep_quantize, "DEQUANTIZE": _prep_dequantize,
            "FULLY_CONNECTED": _prep_fc, "CONV_2D": _prep_conv, "MAX_POOL_2D": _prep_max_pool,
            "RESHAPE": _prep_reshape, "RELU": _prep_relu, "SOFTMAX": _prep_softmax}
