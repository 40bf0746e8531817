"""Nested dataset elements: ``tf.nest`` with tf.data's rule that a list is a leaf (a value to
convert to a tensor), as TensorFlow's data modality of ``nest`` has it. Tuples, namedtuples
and dicts nest; dict leaves are ordered by sorted key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..framework import nest as _nest


def is_nested(x: Any) -> bool:
    return _nest.is_nested(x, lists_are_leaves=True)


def flatten(x: Any) -> list[Any]:
    """The leaves of ``x``, depth first."""
    return _nest.flatten(x, lists_are_leaves=True)


def pack(template: Any, leaves: list[Any]) -> Any:
    """A structure like ``template`` holding ``leaves`` in ``flatten`` order."""
    return _nest.pack_sequence_as(template, leaves, lists_are_leaves=True)


def map_structure(fn: Callable[[Any], Any], x: Any) -> Any:
    """``x`` with ``fn`` applied to every leaf."""
    return _nest.map_structure(fn, x, lists_are_leaves=True)


def same_structure(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` nest the same way (leaves may differ)."""
    try:
        _nest.assert_same_structure(a, b, check_types=False, lists_are_leaves=True)
    except (ValueError, TypeError):
        return False
    return True
