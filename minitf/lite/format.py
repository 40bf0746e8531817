"""minitf's own ``.tflite``-like file format (not TFLite's FlatBuffer; TensorFlow cannot read it).

Layout, all integers little-endian::

    b"MTFLITE1"                 8 bytes, magic and format version
    header_length               uint32
    header                      header_length bytes of UTF-8 JSON (below)
    zero padding                to a multiple of 16 bytes from the start of the file
    data                        the buffers, each at a 16-byte aligned offset into data

The header::

    {"format": "minitf-lite", "version": 1,
     "tensors": [{"name": str, "dtype": "float32" | "float16" | "int8" | "int32",
                  "shape": [int, ...],                 # batch axis first for activations
                  "buffer": int | null,                # index into "buffers"; null: activation
                  "scale": [float, ...], "zero_point": [int, ...],  # [] when not quantized
                  "quantized_dimension": int}, ...],   # the axis with one scale per channel
     "buffers": [[offset, nbytes], ...],
     "operators": [{"op": str, "inputs": [int, ...], "outputs": [int, ...], "options": {...}}],
     "inputs": [int, ...], "outputs": [int, ...]}

Reading never unpickles or executes anything: the header is JSON, buffers are read with
``np.frombuffer`` after their dtype, shape, offset and length have been checked against the
file, and anything malformed raises :class:`InvalidModelError` naming the field.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"MTFLITE1"
VERSION = 1
ALIGN = 16
DTYPES = {"float32": np.float32, "float16": np.float16, "int8": np.int8, "int32": np.int32}
MAX_ELEMENTS = 1 << 28  # per tensor: no file may make the interpreter allocate more than 1 GiB
MAX_RANK = 8


class InvalidModelError(ValueError):
    """A model file or buffer that is not a valid minitf-lite model."""


@dataclass
class TensorSpec:
    name: str
    dtype: str
    shape: list[int]
    data: np.ndarray | None = None  # constant tensors only
    scale: list[float] = field(default_factory=list)
    zero_point: list[int] = field(default_factory=list)
    quantized_dimension: int = 0


@dataclass
class OpSpec:
    op: str
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class ModelSpec:
    tensors: list[TensorSpec]
    operators: list[OpSpec]
    inputs: list[int]
    outputs: list[int]


# -- writing -----------------------------------------------------------------------------------------


def _pad(n: int) -> int:
    return -n % ALIGN


def serialize(model: ModelSpec) -> bytes:
    """The model as bytes in the layout above."""
    tensors, buffers, blobs, at = [], [], [], 0
    for t in model.tensors:
        entry = {"name": t.name, "dtype": t.dtype, "shape": [int(d) for d in t.shape],
                 "buffer": None, "scale": [float(s) for s in t.scale],
                 "zero_point": [int(z) for z in t.zero_point],
                 "quantized_dimension": int(t.quantized_dimension)}
        if t.data is not None:
            raw = np.ascontiguousarray(t.data, DTYPES[t.dtype]).astype("<" + np.dtype(
                DTYPES[t.dtype]).str[1:], copy=False).tobytes()
            entry["buffer"] = len(buffers)
            blobs.append(b"\0" * _pad(at) + raw)  # aligned; nothing after the last one
            at += _pad(at)
            buffers.append([at, len(raw)])
            at += len(raw)
        tensors.append(entry)
    header = json.dumps({
        "format": "minitf-lite", "version": VERSION, "tensors": tensors, "buffers": buffers,
        "operators": [{"op": o.op, "inputs": o.inputs, "outputs": o.outputs,
                       "options": o.options} for o in model.operators],
        "inputs": model.inputs, "outputs": model.outputs}, separators=(",", ":")).encode()
    head = MAGIC + struct.pack("<I", len(header)) + header
    return head + b"\0" * _pad(len(head)) + b"".join(blobs)


# -- reading -----------------------------------------------------------------------------------------


def _fail(msg: str) -> None:
    raise InvalidModelError(f"invalid minitf-lite model: {msg}")


def _int(v: Any, what: str, lo: int = 0, hi: int = 2**62) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        _fail(f"{what} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _list(v: Any, what: str) -> list:
    if not isinstance(v, list):
        _fail(f"{what} must be a list, got {type(v).__name__}")
    return v


def _tensor(i: int, t: Any, buffers: list, data: memoryview) -> TensorSpec:
    where = f"tensors[{i}]"
    if not isinstance(t, dict):
        _fail(f"{where} must be an object")
    name = t.get("name")
    if not isinstance(name, str):
        _fail(f"{where}.name must be a string")
    dtype = t.get("dtype")
    if dtype not in DTYPES:
        _fail(f"{where}.dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    shape = [_int(d, f"{where}.shape[{k}]", 0, MAX_ELEMENTS)
             for k, d in enumerate(_list(t.get("shape"), f"{where}.shape"))]
    if len(shape) > MAX_RANK:
        _fail(f"{where}.shape has rank {len(shape)} > {MAX_RANK}")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        _fail(f"{where} '{name}' has {count} elements, more than the limit {MAX_ELEMENTS}")
    scale = _list(t.get("scale", []), f"{where}.scale")
    zp = _list(t.get("zero_point", []), f"{where}.zero_point")
    if len(scale) != len(zp) or any(
            not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s)
            or s <= 0 for s in scale):
        _fail(f"{where}.scale must be finite positive numbers, one per zero_point")
    zp = [_int(z, f"{where}.zero_point", -(2**31), 2**31 - 1) for z in zp]
    qdim = _int(t.get("quantized_dimension", 0), f"{where}.quantized_dimension", 0, MAX_RANK)
    if len(scale) > 1 and (qdim >= len(shape) or shape[qdim] != len(scale)):
        _fail(f"{where} '{name}' has {len(scale)} scales for axis {qdim} of shape {shape}")
    spec = TensorSpec(name, dtype, shape, None, [float(s) for s in scale], zp, qdim)
    b = t.get("buffer")
    if b is not None:
        b = _int(b, f"{where}.buffer", 0, len(buffers) - 1)
        offset, nbytes = buffers[b]
        itemsize = np.dtype(DTYPES[dtype]).itemsize
        if nbytes != count * itemsize:
            _fail(f"{where} '{name}' of shape {shape} {dtype} needs {count * itemsize} bytes, "
                  f"its buffer {b} has {nbytes}")
        if offset + nbytes > len(data):
            _fail(f"buffer {b} of {where} '{name}' ends at byte {offset + nbytes} of the data "
                  f"section, which has {len(data)} (truncated file?)")
        spec.data = np.frombuffer(data, np.dtype(DTYPES[dtype]).newbyteorder("<"), count,
                                  offset).reshape(shape)
    return spec


def parse(content: bytes) -> ModelSpec:
    """Check and read a model; raise :class:`InvalidModelError` naming what is wrong."""
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(f"model content must be bytes, got {type(content).__name__}")
    content = bytes(content)
    if len(content) < len(MAGIC) + 4 or content[:len(MAGIC)] != MAGIC:
        _fail(f"does not start with {MAGIC!r} (not a minitf-lite model; minitf cannot read "
              f"TensorFlow's .tflite FlatBuffers)")
    (hlen,) = struct.unpack_from("<I", content, len(MAGIC))
    start = len(MAGIC) + 4
    if hlen > len(content) - start:
        _fail(f"header length {hlen} exceeds the file's {len(content) - start} remaining bytes "
              f"(truncated file?)")
    try:
        head = json.loads(content[start:start + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        _fail(f"header is not valid UTF-8 JSON ({e})")
    if not isinstance(head, dict) or head.get("format") != "minitf-lite":
        _fail("header.format must be 'minitf-lite'")
    if head.get("version") != VERSION:
        _fail(f"header.version {head.get('version')!r} is not supported (this reader: {VERSION})")
    data_start = start + hlen + _pad(start + hlen)
    data = memoryview(content)[data_start:]
    buffers = []
    for i, b in enumerate(_list(head.get("buffers"), "buffers")):
        if not isinstance(b, list) or len(b) != 2:
            _fail(f"buffers[{i}] must be [offset, nbytes]")
        buffers.append((_int(b[0], f"buffers[{i}].offset"), _int(b[1], f"buffers[{i}].nbytes")))
    tensors = [_tensor(i, t, buffers, data)
               for i, t in enumerate(_list(head.get("tensors"), "tensors"))]
    n = len(tensors)

    def indices(v: Any, what: str) -> list[int]:
        return [_int(k, what, 0, n - 1) for k in _list(v, what)]

    ops = []
    for i, o in enumerate(_list(head.get("operators"), "operators")):
        if not isinstance(o, dict) or not isinstance(o.get("op"), str):
            _fail(f"operators[{i}] must be an object with a string 'op'")
        options = o.get("options", {})
        if not isinstance(options, dict):
            _fail(f"operators[{i}].options must be an object")
        ops.append(OpSpec(o["op"], indices(o.get("inputs"), f"operators[{i}].inputs"),
                          indices(o.get("outputs"), f"operators[{i}].outputs"), options))
    inputs = indices(head.get("inputs"), "inputs")
    outputs = indices(head.get("outputs"), "outputs")
    if not inputs or not outputs:
        _fail("the model needs at least one input and one output")
    return ModelSpec(tensors, ops, inputs, outputs)
