"""TF Serving's REST predict protocol: request bodies to arrays, arrays to response bodies.

Row format: ``{"instances": [...]}`` -> ``{"predictions": [...]}``; each instance is one input
value or, for several named inputs, ``{name: value}``. Columnar format: ``{"inputs": value or
{name: value}}`` -> ``{"outputs": value or {name: value}}``. ``{"b64": "..."}`` is a bytes
value (string inputs only). Bad requests raise ``BadRequest`` with TF Serving's messages (a
missing or unknown input name, a plain list where named inputs are due, batch sizes that
differ across inputs); the server answers those with 400 and ``{"error": message}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np

try:  # orjson parses and writes a 784-float body ~10x faster than json; json is the fallback
    import orjson
except ImportError:  # pragma: no cover - orjson is in the course extra
    orjson = None

from ..saved_model import DT_NAMES
from .servable import Arrays, Signature, TensorInfo


class BadRequest(ValueError):
    """A request the server answers with HTTP 400."""


def parse_body(body: bytes) -> dict:
    """The JSON object of a request body (``NaN``/``Infinity`` allowed, as TF Serving reads
    them); ``BadRequest`` for anything else."""
    if orjson is not None:
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            obj = None  # NaN/Infinity (which orjson refuses) or an error json will describe
        if isinstance(obj, dict):
            return obj
    try:
        obj = json.loads(body)
    except (UnicodeDecodeError, RecursionError) as e:
        raise BadRequest(f"JSON Parse error: {type(e).__name__}") from None
    except json.JSONDecodeError as e:
        raise BadRequest(f"JSON Parse error: {e.msg}. at offset: {e.pos}") from None
    if not isinstance(obj, dict):
        raise BadRequest("JSON Value: " + _short(obj) + " Is not object")
    return obj


def _short(obj: Any) -> str:
    text = json.dumps(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def _decode_b64(value: Any) -> Any:
    """Nested lists with ``{"b64": ...}`` leaves -> the same with ``bytes`` leaves."""
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise BadRequest(f"JSON object: {_short(value)} must have a single 'b64' key "
                             "holding a string")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"Unable to base64 decode {_short(value['b64'])}") from None
    if isinstance(value, str):
        return value.encode()
    return value


def _has_dict(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_has_dict(v) for v in value)


def to_array(value: Any, name: str, info: TensorInfo) -> np.ndarray:
    """One input's JSON value as an array of its signature's dtype and a compatible shape."""
    want = DT_NAMES.get(info.dtype, info.dtype)
    if info.dtype == "string":
        decoded = _decode_b64(value)
        try:
            arr = np.array(decoded, dtype=object)
        except ValueError as e:
            raise BadRequest(f"input '{name}': {e}") from None
        if arr.size and not all(isinstance(v, bytes) for v in arr.flat):
            raise BadRequest(f"input '{name}' expects {want} (strings or b64 objects)")
    else:
        try:
            arr = np.asarray(value)
        except ValueError:
            arr = None
        if (arr is None or arr.dtype == object) and _has_dict(value):
            raise BadRequest(f"input '{name}' expects {want}, got an object (b64 values are "
                             "for DT_STRING inputs only)")
        if arr is None:
            raise BadRequest(f"input '{name}': the values are ragged (rows of different "
                             "lengths); expected a regular array")
        if arr.dtype.kind not in "biuf":
            raise BadRequest(f"input '{name}' expects {want}, got values of type "
                             f"{'string' if arr.dtype.kind in 'US' else arr.dtype.name}")
        if np.dtype(info.dtype).kind in "iu" and arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise BadRequest(f"input '{name}' expects {want}, got non-integer numbers")
        arr = arr.astype(info.dtype, copy=False)
    _check_shape(arr, name, info)
    return arr


def _fmt(shape: Any) -> str:
    return "[" + ",".join("-1" if d is None else str(d) for d in shape) + "]"


def _check_shape(arr: np.ndarray, name: str, info: TensorInfo) -> None:
    ok = arr.ndim == len(info.shape) and all(
        want is None or want == got for want, got in zip(info.shape, arr.shape))
    if not ok:
        raise BadRequest(f"input '{name}' has shape {_fmt(arr.shape)}, but the signature "
                         f"expects {_fmt(info.shape)} (-1: any size)")


def request_inputs(obj: dict, sig: Signature) -> tuple[Arrays, str]:
    """The input arrays of a predict request, and its format ('row' or 'columnar')."""
    has_rows, has_cols = "instances" in obj, "inputs" in obj
    if has_rows and has_cols:
        raise BadRequest("Not formatted properly. Expecting only one of 'instances' or "
                         "'inputs' keys in request JSON")
    if not has_rows and not has_cols:
        raise BadRequest("Missing 'inputs' or 'instances' key")
    unknown = set(obj) - {"instances", "inputs", "signature_name"}
    if unknown:
        raise BadRequest(f"Unknown keys in request JSON: {sorted(unknown)}")
    names = list(sig.inputs)
    if has_cols:
        return _columns(obj["inputs"], sig, names), "columnar"
    rows = obj["instances"]
    if not isinstance(rows, list):
        raise BadRequest("'instances' must be a list of instances")
    if not rows:
        raise BadRequest("'instances' is an empty list")
    if _is_named(rows[0]):
        return _named_rows(rows, sig, names), "row"
    if len(names) > 1:
        raise BadRequest("instances is a plain list, but expecting list of objects as multiple "
                         f"input tensors required as per tensorinfo_map (inputs {names})")
    for i, row in enumerate(rows):
        if _is_named(row):
            raise BadRequest(f"Expecting value/list but got object at item {i} of input list")
    return {names[0]: to_array(rows, names[0], sig.inputs[names[0]])}, "row"


def _is_named(value: Any) -> bool:
    """An object of named inputs (not a ``{"b64": ...}`` value)."""
    return isinstance(value, dict) and set(value) != {"b64"}


def _named_rows(rows: list, sig: Signature, names: list[str]) -> Arrays:
    """Row format with named inputs: every instance an object with exactly the input names."""
    for i, row in enumerate(rows):
        if not _is_named(row):
            raise BadRequest(f"Expecting object but got {_kind(row)} at item {i} of input list")
        extra = [k for k in row if k not in sig.inputs]
        if extra:
            raise BadRequest(f"Failed to process element: {i} key: {extra[0]} of 'instances' "
                             f"list. Error: JSON object: does not have named input: "
                             f"{extra[0]}")
        if len(row) != len(names):
            raise BadRequest(f"Failed to process element: {i} of 'instances' list. JSON "
                             f"object: {_short(row)} must only have keys: "
                             f"{','.join(sorted(names))}")
    return {k: to_array([row[k] for row in rows], k, sig.inputs[k]) for k in names}


def _columns(value: Any, sig: Signature, names: list[str]) -> Arrays:
    """Columnar format: one value (one input) or an object keyed by input name. minitf is
    stricter than TF Serving, which ignores names the signature lacks: they are refused, as a
    misspelt name would otherwise hide behind a 'missing' one."""
    if not _is_named(value) or (len(names) == 1 and not set(value) <= set(names)):
        if len(names) > 1:
            raise BadRequest("inputs is a plain value/list, but expecting an object as multiple "
                             f"input tensors required as per tensorinfo_map (inputs {names})")
        value = {names[0]: value}
    extra = [k for k in value if k not in sig.inputs]
    if extra:
        raise BadRequest(f"JSON object: does not have named input: {extra[0]} in 'inputs' "
                         f"object (inputs {names})")
    missing = [k for k in names if k not in value]
    if missing:
        raise BadRequest(f"Missing named input: {missing[0]} in 'inputs' object.")
    return _same_batch({k: to_array(value[k], k, sig.inputs[k]) for k in names})


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "value"


def _same_batch(arrays: Arrays) -> Arrays:
    """The inputs of a Keras model share the batch dimension (TF Serving passes differing
    ones to the model, whose error is a 400 too)."""
    sizes = {k: (a.shape[0] if a.ndim else None) for k, a in arrays.items()}
    if None in sizes.values() or len(set(sizes.values())) > 1:
        raise BadRequest(f"inputs must share their first (batch) dimension, got {sizes}")
    return arrays


def _jsonable(a: np.ndarray) -> Any:
    if a.dtype == object or a.dtype.kind == "S":
        return _b64_leaves(a.tolist())
    return a.tolist()  # Python floats: the exact value of each float32, which round-trips


def _b64_leaves(v: Any) -> Any:
    if isinstance(v, list):
        return [_b64_leaves(x) for x in v]
    if isinstance(v, bytes):
        return {"b64": base64.b64encode(v).decode()}
    return v


def response_body(outputs: Arrays, fmt: str) -> bytes:
    """``{"predictions": ...}`` (row) or ``{"outputs": ...}`` (columnar) as JSON bytes.

    Every float keeps its full value: float32 is written as the shortest text that reads back
    as the same float32. NaN and infinities are written ``NaN``, ``Infinity``, ``-Infinity`` as
    TF Serving does (then via ``json``, which writes float32 values as their exact doubles).
    """
    fast = orjson is not None and all(
        a.dtype.kind in "biu" or (a.dtype.kind == "f" and np.isfinite(a).all())
        for a in outputs.values())
    conv = (lambda a: a) if fast else _jsonable
    if fmt == "columnar":
        if len(outputs) == 1:
            body: Any = {"outputs": conv(next(iter(outputs.values())))}
        else:
            body = {"outputs": {k: conv(v) for k, v in outputs.items()}}
    elif len(outputs) == 1:
        body = {"predictions": conv(next(iter(outputs.values())))}
    else:
        cols = {k: _jsonable(v) for k, v in outputs.items()}
        n = len(next(iter(cols.values())))
        body = {"predictions": [{k: c[i] for k, c in cols.items()} for i in range(n)]}
    if fast:
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(body, separators=(",", ":")).encode()


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
