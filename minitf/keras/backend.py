"""``tf.keras.backend``: layer-name counters and session clearing."""

from __future__ import annotations

import re
from collections import defaultdict

_name_counts: defaultdict[str, int] = defaultdict(int)


def unique_layer_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``, ... as Keras names layers."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("2_d", "2d")


def clear_session() -> None:
    """Reset layer-name counters and the default graph."""
    from ..framework.graph import reset_default_graph

    _name_counts.clear()
    reset_default_graph()


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7
