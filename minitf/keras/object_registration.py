"""Keras' table of custom classes and functions (``register_keras_serializable``,
``custom_object_scope``): the one place every ``deserialize`` and ``load_model`` looks a name
up. It imports nothing of minitf, so any keras module may use it without an import cycle."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_REGISTERED: dict[str, Any] = {}  # register_keras_serializable's table
_SCOPES: list[dict] = []          # custom_object_scope's stack


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Decorator: make a class (or function) loadable by name (Keras' ``'package>Name'``)
    without passing ``custom_objects`` each time."""
    def decorate(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        _REGISTERED[key] = obj
        obj._registered_name = key
        return obj
    return decorate


def get_custom_objects() -> dict:
    """The registered objects, ``{'package>Name': object}`` (Keras' name for this table)."""
    return _REGISTERED


@contextlib.contextmanager
def custom_object_scope(*scopes: dict | None) -> Iterator[None]:
    """``with custom_object_scope({'Scale': Scale}): load_model(...)``."""
    merged = {k: v for d in scopes for k, v in (d or {}).items()}
    _SCOPES.append(merged)
    try:
        yield
    finally:
        _SCOPES.pop()


def resolve(custom_objects: dict | None = None) -> dict:
    """Every custom name in reach: registered, in scope, then passed (the last wins); a
    registered object is also found by its bare name."""
    out = {key.split(">", 1)[-1]: obj for key, obj in _REGISTERED.items()}
    out.update(_REGISTERED)
    for scope in _SCOPES:
        out.update(scope)
    out.update(custom_objects or {})
    return out
