"""``tf.nest``: nested structures of lists, tuples, namedtuples and dicts, flattened and rebuilt.

TensorFlow's rules: lists, tuples and namedtuples are sequences; any ``Mapping`` (dict,
OrderedDict, ...) is flattened in *sorted key* order and rebuilt with the keys in its own order;
everything else is a leaf, ``None``, strings, tensors, variables and arrays included.
``flatten(None) == [None]``.

``tf.data`` uses the same functions with ``lists_are_leaves=True`` (TensorFlow's data modality:
a list in a dataset element is a value to convert to a tensor, not a structure).
minitf differs from TF in one place: a dict whose keys cannot be sorted (mixed types) keeps its
insertion order instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["assert_same_structure", "flatten", "is_nested", "map_structure",
           "pack_sequence_as"]


# A structure's kind by its type, decided once per type (TF's nest caches it per type too): an
# ``isinstance(x, Mapping)`` is an ABC check (~0.3 us), and the hot paths (Session.run,
# tf.function calls) flatten on every step. A class registered as a Mapping after it was
# first flattened keeps its first kind.
_LEAF, _TUPLE, _MAPPING, _LIST = 0, 1, 2, 3
_KINDS: dict[type, int] = {}


def _kind_of(t: type) -> int:
    kind = _KINDS.get(t)
    if kind is None:
        kind = (_MAPPING if issubclass(t, Mapping) else _TUPLE if issubclass(t, tuple)
                else _LIST if issubclass(t, list) else _LEAF)
        if len(_KINDS) > 4096:  # types made on the fly (namedtuples in a loop): stay bounded
            _KINDS.clear()
        _KINDS[t] = kind
    return kind


def _is_seq(x: Any, lists: bool) -> bool:
    kind = _kind_of(type(x))
    return kind == _TUPLE or kind == _MAPPING or (lists and kind == _LIST)


def is_nested(seq: Any, *, lists_are_leaves: bool = False) -> bool:
    """Whether ``seq`` is a structure (list, tuple, namedtuple or mapping), not a leaf."""
    return _is_seq(seq, not lists_are_leaves)


def _keys(m: Mapping) -> list:
    try:
        return sorted(m)
    except TypeError:  # keys of mixed types: insertion order (TensorFlow raises)
        return list(m)


def _children(x: Any) -> list:
    if _kind_of(type(x)) == _MAPPING:
        return [x[k] for k in _keys(x)]
    return list(x)


def _leaves(x: Any, lists: bool, out: list) -> None:
    kind = _KINDS.get(type(x))
    if kind is None:
        kind = _kind_of(type(x))
    if kind == _LEAF or (kind == _LIST and not lists):
        out.append(x)
    elif kind == _MAPPING:
        for k in _keys(x):
            _leaves(x[k], lists, out)
    else:
        for v in x:
            _leaves(v, lists, out)


def flatten(structure: Any, expand_composites: bool = False, *,
            lists_are_leaves: bool = False) -> list:
    """The leaves of ``structure``, depth first (mappings in sorted key order)."""
    out: list = []
    lists = not lists_are_leaves
    if lists and type(structure) is list:  # the common case, a flat list of leaves: one pass
        kinds = _KINDS
        for x in structure:
            kind = kinds.get(type(x))
            if kind == _LEAF:
                out.append(x)
            else:
                _leaves(x, lists, out)
        return out
    _leaves(structure, lists, out)
    return out


def _flat_leaves(items: list) -> bool:
    kinds = _KINDS
    for x in items:
        if kinds.get(type(x)) != _LEAF:
            return False
    return True


def _sequence_like(instance: Any, items: list) -> Any:
    """A structure of ``instance``'s type holding ``items`` (mappings: in sorted key order)."""
    if _kind_of(type(instance)) == _MAPPING:
        by_key = dict(zip(_keys(instance), items))
        return type(instance)((k, by_key[k]) for k in instance)
    if isinstance(instance, tuple) and hasattr(instance, "_fields"):  # namedtuple
        return type(instance)(*items)
    return type(instance)(items)


def _pack(template: Any, it: Iterator, lists: bool) -> Any:
    if not _is_seq(template, lists):
        try:
            return next(it)
        except StopIteration:
            raise ValueError("pack_sequence_as: fewer leaves than the structure holds") from None
    return _sequence_like(template, [_pack(c, it, lists) for c in _children(template)])


_END = object()


def pack_sequence_as(structure: Any, flat_sequence: Any, expand_composites: bool = False, *,
                     lists_are_leaves: bool = False) -> Any:
    """A structure like ``structure`` holding ``flat_sequence``'s items in ``flatten`` order."""
    if not lists_are_leaves and type(structure) is list and _flat_leaves(structure):
        out = list(flat_sequence)  # the common case: a flat list of leaves is a copy
        if len(out) != len(structure):
            raise ValueError("pack_sequence_as: "
                             f"{'fewer' if len(out) < len(structure) else 'more'} leaves "
                             "than the structure holds")
        return out
    it = iter(flat_sequence)
    out = _pack(structure, it, not lists_are_leaves)
    if next(it, _END) is not _END:
        raise ValueError("pack_sequence_as: more leaves than the structure holds")
    return out


def map_structure(func: Callable[..., Any], *structure: Any, check_types: bool = True,
                  lists_are_leaves: bool = False) -> Any:
    """``structure[0]`` with ``func(*leaves)`` applied to the matching leaves of every
    structure (they must nest the same way)."""
    if not structure:
        raise ValueError("map_structure needs at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types,
                              lists_are_leaves=lists_are_leaves)
    flats = [flatten(s, lists_are_leaves=lists_are_leaves) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*flats)],
                            lists_are_leaves=lists_are_leaves)


def assert_same_structure(nest1: Any, nest2: Any, check_types: bool = True,
                          expand_composites: bool = False, *,
                          lists_are_leaves: bool = False) -> None:
    """Raise ValueError (TypeError for differing sequence types) unless both nest alike."""
    lists = not lists_are_leaves
    _same(nest1, nest2, check_types, lists)


def _same(a: Any, b: Any, check_types: bool, lists: bool) -> None:
    sa, sb = _is_seq(a, lists), _is_seq(b, lists)
    if sa != sb:
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} is "
                         f"{'a sequence' if sa else 'a leaf'} but {b!r} is not")
    if not sa:
        return
    if check_types and type(a) is not type(b):
        raise TypeError(f"The two structures don't have the same sequence type: "
                        f"{type(a).__name__} vs {type(b).__name__}")
    if isinstance(a, Mapping) and isinstance(b, Mapping) and set(a) != set(b):
        raise ValueError(f"The two dictionaries don't have the same keys: {sorted(map(str, a))} "
                         f"vs {sorted(map(str, b))}")
    ca, cb = _children(a), _children(b)
    if len(ca) != len(cb):
        raise ValueError(f"The two structures don't have the same number of elements: "
                         f"{len(ca)} vs {len(cb)}")
    for x, y in zip(ca, cb):
        _same(x, y, check_types, lists)
