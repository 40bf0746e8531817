"""Assertions for the assignments' test cells: each failure says what was expected and what came back.

A bare ``assert`` tells a student only ``AssertionError``; these name the value checked, the
expected type, dtype, shape, keys or values, and what the student's code returned. Test cells
import them (``from course.checks import expect_equal, ...``); ``course.guard`` checks before
every test cell that nothing in this module was replaced. Arrays may be NumPy arrays, minitf
tensors or nested lists; nothing here imports minitf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_MAX_REPR = 300


def _short(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    with np.printoptions(precision=6, threshold=20, edgeitems=3):
        text = repr(value)
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + " ..."


def _array(value: Any) -> np.ndarray:
    """``value`` as a NumPy array (a tensor through its ``numpy()``)."""
    numpy = getattr(value, "numpy", None)
    return np.asarray(numpy() if callable(numpy) else value)


def _dtype_name(dtype: Any) -> str:
    name = getattr(dtype, "name", None)
    return name if isinstance(name, str) else np.dtype(dtype).name


def _describe(value: Any) -> str:
    """``float32 array of shape (3, 2)``, ``int``, ``None`` ... for messages."""
    if value is None:
        return "None"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        kind = "tensor" if hasattr(value, "numpy") else "array"
        return f"{_dtype_name(value.dtype)} {kind} of shape {tuple(value.shape)}"
    return type(value).__name__


def _fail(what: str, message: str) -> None:
    raise AssertionError(f"{what}: {message}" if what else message)


def expect_equal(got: Any, want: Any, what: str = "") -> None:
    """``got == want`` (dicts key by key, arrays element-wise with equal shapes)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            _fail(what, f"expected a dict {_short(want)}, got {_describe(got)} {_short(got)}")
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        wrong = [f"{k!r}: expected {_short(want[k])}, got {_short(got[k])}"
                 for k in want if k in got and not _same(got[k], want[k])]
        if missing or extra or wrong:
            parts = ([f"missing keys {missing}"] if missing else []) + (
                [f"unexpected keys {extra}"] if extra else []) + wrong
            _fail(what, f"expected {_short(want)}, got {_short(got)} ({'; '.join(parts)})")
        return
    if not _same(got, want):
        _fail(what, f"expected {_short(want)}, got {_short(got)}")


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray) or hasattr(got, "numpy"):
        a, b = _array(got), np.asarray(want)
        return a.shape == b.shape and bool(np.array_equal(a, b))
    try:
        return bool(got == want)
    except Exception:  # an array-like compared with a list: element-wise
        return False


def expect_array(got: Any, what: str = "the result", *, shape: tuple | None = None,
                 dtype: Any = None, kind: type | tuple | None = None) -> None:
    """``got`` is a ``kind`` (e.g. ``np.ndarray``, ``tf.Tensor``) with this shape and dtype.

    ``dtype`` may be a NumPy or minitf dtype, or ``"integer"`` / ``"floating"`` for any of those.
    """
    if kind is not None and not isinstance(got, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        _fail(what, f"expected a {names}, got {_describe(got)}")
    if not hasattr(got, "shape") or not hasattr(got, "dtype"):
        _fail(what, f"expected an array or tensor, got {_describe(got)} {_short(got)}")
    if shape is not None and tuple(got.shape) != tuple(shape):
        _fail(what, f"expected shape {tuple(shape)}, got shape {tuple(got.shape)}")
    if dtype is not None:
        have = _dtype_name(got.dtype)
        if dtype in ("integer", "floating"):
            group = np.integer if dtype == "integer" else np.floating
            if not np.issubdtype(np.dtype(have), group):
                _fail(what, f"expected an {dtype} dtype, got {have}")
        elif have != _dtype_name(dtype):
            _fail(what, f"expected dtype {_dtype_name(dtype)}, got {have}")


def expect_close(got: Any, want: Any, what: str = "the result", *, rtol: float = 1e-7,
                 atol: float = 0.0) -> None:
    """Values within ``atol + rtol * |want|`` of ``want``, with ``want``'s shape exactly.

    Unlike ``assert_allclose`` a scalar does not pass for an array of equal values.
    """
    want = np.asarray(want)
    try:
        arr = _array(got)
    except (TypeError, ValueError) as exc:
        _fail(what, f"expected numbers of shape {want.shape}, got {_describe(got)} ({exc})")
    if arr.shape != want.shape:
        _fail(what, f"expected shape {want.shape}, got shape {arr.shape}: {_short(arr)}")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        _fail(what, f"expected numbers, got dtype {arr.dtype}: {_short(arr)}")
    try:
        np.testing.assert_allclose(arr, want, rtol=rtol, atol=atol)
    except AssertionError as exc:
        detail = [line for line in str(exc).strip().splitlines()
                  if line.strip() and not line.startswith("Not equal to tolerance")]
        _fail(what, f"expected values within rtol={rtol:g}, atol={atol:g} of DESIRED, got "
                    "ACTUAL\n" + "\n".join(detail))


def expect_raises(error: type[BaseException], fn: Callable[..., Any], *args: Any,
                  what: str = "", match: str | tuple[str, ...] = (), **kwargs: Any) -> BaseException:
    """``fn(*args, **kwargs)`` raises ``error`` whose message contains every ``match``."""
    call = what or f"{getattr(fn, '__name__', 'the call')}({', '.join(map(_short, args))})"
    try:
        result = fn(*args, **kwargs)
    except error as exc:
        for text in (match,) if isinstance(match, str) else match:
            if text not in str(exc):
                _fail(call, f"expected the {error.__name__} message to mention {text!r}, "
                            f"got {str(exc)!r}")
        return exc
    except Exception as exc:
        _fail(call, f"expected {error.__name__}, got {type(exc).__name__}: {exc}")
    _fail(call, f"expected {error.__name__}, got no error and the result {_short(result)}")
    raise AssertionError  # not reached: _fail raised
