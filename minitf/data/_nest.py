"""Nested element structures, as in ``tf.nest``: tuples (and namedtuples) and dicts nest;
everything else, lists included, is a leaf. Dict leaves are ordered by sorted key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def is_nested(x: Any) -> bool:
    return isinstance(x, tuple | dict)


def flatten(x: Any) -> list[Any]:
    """The leaves of ``x``, depth first."""
    return list(_leaves(x))


def _leaves(x: Any) -> Iterator[Any]:
    if isinstance(x, dict):
        for k in sorted(x):
            yield from _leaves(x[k])
    elif isinstance(x, tuple):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


def pack(template: Any, leaves: list[Any]) -> Any:
    """A structure like ``template`` holding ``leaves`` in ``flatten`` order."""
    it = iter(leaves)
    out = _pack(template, it)
    if next(it, _END) is not _END:
        raise ValueError("more leaves than the structure holds")
    return out


_END = object()


def _pack(t: Any, it: Iterator[Any]) -> Any:
    if isinstance(t, dict):
        packed = {k: _pack(t[k], it) for k in sorted(t)}
        return type(t)((k, packed[k]) for k in t)
    if isinstance(t, tuple):
        items = [_pack(v, it) for v in t]
        return type(t)(*items) if hasattr(t, "_fields") else type(t)(items)
    try:
        return next(it)
    except StopIteration:
        raise ValueError("fewer leaves than the structure holds") from None


def map_structure(fn: Callable[[Any], Any], x: Any) -> Any:
    """``x`` with ``fn`` applied to every leaf."""
    return pack(x, [fn(leaf) for leaf in flatten(x)])


def same_structure(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` nest the same way (leaves may differ)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True
