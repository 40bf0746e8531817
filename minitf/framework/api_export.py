"""Public names, declared where their objects are defined: ``tf_export`` and ``keras_export``.

``@tf_export("clip_by_value")`` makes a function ``tf.clip_by_value``; ``"math.mod"`` is
``tf.math.mod``; ``@keras_export("keras.layers.Dense")`` is ``tf.keras.layers.Dense`` (as
TensorFlow's ``tf_export`` and Keras' ``keras_export``). Ops declare theirs through the registry
(``api=`` of ``defop`` and ``op_export``, which call :func:`tf_export`); classes, constants and
functions of the framework and of Keras call these decorators directly. The namespace modules
(``minitf/__init__.py``, ``math.py``, ``keras/layers/__init__.py``, ...) are filled from
:func:`exports` after importing the modules that declare their names, so no list of names is
kept by hand.

This module imports nothing from minitf: any module (``dtypes``, ``tensor_shape``, the
registry) may declare names without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["exports", "keras_export", "lookup", "tf_export", "unexport"]

_EXPORTS: dict[str, dict[str, Any]] = {}
"""Namespace ("" for ``tf`` itself, "math", "keras.layers", ...) -> public name -> object."""

F = TypeVar("F")


def _split(name: str) -> tuple[str, str]:
    namespace, _, short = name.rpartition(".")
    return namespace, short


def tf_export(*names: str) -> Callable[[F], F]:
    """Declare ``obj``'s public names (``"clip_by_value"`` is ``tf.clip_by_value``,
    ``"math.mod"`` is ``tf.math.mod``), as Keras' ``@keras_export``; returns ``obj`` as it is.
    Call it on a value that cannot be decorated: ``float32 = tf_export("float32")(DType(...))``.
    """
    def decorate(obj: F) -> F:
        for name in names:
            namespace, short = _split(name)
            table = _EXPORTS.setdefault(namespace, {})
            if table.get(short, obj) is not obj:
                raise KeyError(f"tf.{name} is exported twice, by {table[short]!r} and {obj!r}")
            table[short] = obj
        return obj

    return decorate


def keras_export(*names: str) -> Callable[[F], F]:
    """``tf_export`` for ``tf.keras``: the names are full (``"keras.layers.Dense"``,
    ``"keras.Input"``), as Keras spells them."""
    for name in names:
        if not name.startswith("keras."):
            raise ValueError(f"keras_export names start with 'keras.', not {name!r}")
    return tf_export(*names)


def exports(namespace: str) -> dict[str, Any]:
    """The public names declared for ``tf.<namespace>`` ("" for ``tf``): name -> object."""
    return dict(_EXPORTS.get(namespace, {}))


def lookup(namespace: str, name: str) -> Any:
    """``tf.<namespace>.<name>`` for a name declared after its namespace module was filled
    (the module's ``__getattr__``, called only for names the module lacks)."""
    try:
        return _EXPORTS[namespace][name]
    except KeyError:
        module = f"minitf.{namespace}" if namespace else "minitf"
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None


def unexport(*names: str) -> None:
    """Forget the public names ``names`` (for tests that add throw-away ops)."""
    for name in names:
        namespace, short = _split(name)
        _EXPORTS.get(namespace, {}).pop(short, None)
