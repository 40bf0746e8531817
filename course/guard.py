"""Catch a submission that replaced what the tests rely on (assertion helpers, builtins).

The grader's kernel imports this module before the first cell (``snapshot``); the worker puts
``check()`` in front of every test cell, which fails the test when a student's cell replaced
``numpy.testing.assert_allclose`` (or another helper below, ``course.checks`` included), patched
a builtin, or the helpers' code. It raises with references saved at start-up, so a replaced
``AssertionError`` cannot hide it. This is a check inside the student's process: it stops
monkeypatching, not an attacker who reads this file; the sandbox (``jail.py``) is what contains such code.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
from typing import Any

CHECK_LINE = "__import__('course.guard').guard.check()"
_HELPERS: dict[str, tuple[str, ...] | None] = {
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_equal",
                      "assert_array_almost_equal", "assert_almost_equal", "assert_array_less",
                      "assert_raises"),
    "numpy": ("allclose", "isclose", "array_equal", "testing"),
    "math": ("isclose",),
    "course.checks": None,  # every function (and module) it holds: the test cells' assertions
}
# IPython sets these anew around each cell: not a student's doing
_VOLATILE = frozenset({"input", "getpass", "exit", "quit", "get_ipython", "display"})
_saved: dict[tuple[str, str], tuple[Any, Any]] = {}
_builtins: dict[str, Any] = {}
_Error = AssertionError
_getattr, _id, _sorted = getattr, id, sorted


def snapshot() -> None:
    """Remember the helpers and builtins as they are before any student code ran."""
    _builtins.update(vars(builtins))
    for module, names in _HELPERS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if names is None:
            names = tuple(k for k, v in vars(mod).items() if not k.startswith("__")
                          and (inspect.isfunction(v) or inspect.ismodule(v)))
        for name in names:
            obj = getattr(mod, name, None)
            if obj is not None:
                _saved[module, name] = (obj, getattr(obj, "__code__", None))
    _saved["builtins", "__dict__"] = (vars(builtins), None)


def changed() -> list[str]:
    """The names a cell replaced since ``snapshot`` (empty when all are as they were)."""
    import sys

    out = []
    for (module, name), (obj, code) in _saved.items():
        mod = sys.modules.get(module)
        now = vars(mod) if name == "__dict__" else _getattr(mod, name, None)
        if now is not obj or (code is not None and _getattr(now, "__code__", None) is not code):
            out.append(f"{module}.{name}")
    current = vars(builtins)
    out += [f"builtins.{k}" for k, v in _builtins.items()
            if current.get(k) is not v and k not in _VOLATILE]
    return _sorted(out)


def check() -> None:
    """Fail the test (with the saved AssertionError) when a helper or builtin was replaced."""
    bad = changed()
    if bad:
        raise _Error("the notebook replaced what the tests rely on, so they cannot be trusted: "
                     + ", ".join(bad))


snapshot()
