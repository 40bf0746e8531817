"""The public names of minitf's namespaces, as a JSON-able snapshot (``tests/test_api.py``
checks the tree against ``tests/fixtures/public_api.json``).

    python tests/public_api.py   # rewrite the snapshot (only when the API is meant to grow)
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import minitf as tf

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "public_api.json"

NAMESPACES = (
    "", "math", "nn", "random", "signal", "image", "linalg", "config", "errors", "train", "data",
    "dtypes", "compat",
    "keras", "keras.layers", "keras.losses", "keras.metrics", "keras.optimizers",
    "keras.activations", "keras.initializers", "keras.callbacks", "keras.regularizers",
    "keras.utils", "keras.backend", "keras.datasets",
)
"""``tf.<namespace>`` modules whose public names are snapshotted ("" is ``tf`` itself)."""


def namespace(path: str) -> Any:
    obj = tf
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _public(obj: Any) -> bool:
    """A name of minitf's: not a module, class or function imported from elsewhere."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__.startswith("minitf")
    if isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType):
        return getattr(obj, "__module__", "").startswith("minitf")
    return not type(obj).__module__.startswith(("__future__", "typing"))


def names(path: str) -> list[str]:
    mod = namespace(path)
    return sorted(n for n in dir(mod) if not n.startswith("_") and _public(getattr(mod, n)))


def snapshot() -> dict[str, Any]:
    """``{"names": {namespace: [name, ...]}, "same": [[qualified names of one object], ...]}``:
    ``same`` groups the functions and classes reachable under more than one name."""
    out: dict[str, list[str]] = {p: names(p) for p in NAMESPACES}
    by_id: dict[int, list[str]] = {}
    for p, ns in out.items():
        mod = namespace(p)
        for n in ns:
            obj = getattr(mod, n)
            if isinstance(obj, type | types.FunctionType):
                by_id.setdefault(id(obj), []).append(f"{p}.{n}" if p else n)
    same = sorted(sorted(g) for g in by_id.values() if len(g) > 1)
    return {"names": out, "same": same}


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}")
