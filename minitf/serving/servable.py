"""One loaded model version: its signatures, and ``run`` to compute them (thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..saved_model import DT_NAMES, PREDICT_METHOD, SERVING_DEFAULT

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature: dtype name (NumPy's, or 'string') and shape."""

    dtype: str
    shape: tuple[int | None, ...]

    @property
    def np_dtype(self) -> Any:
        return object if self.dtype == "string" else np.dtype(self.dtype)

    def to_json(self, key: str, signature: str) -> dict:
        """TensorFlow's ``TensorInfo`` as the metadata endpoint writes it."""
        return {"dtype": DT_NAMES.get(self.dtype, self.dtype),
                "tensor_shape": {"dim": [{"size": str(-1 if d is None else d), "name": ""}
                                         for d in self.shape], "unknown_rank": False},
                "name": f"{signature}_{key}:0"}


@dataclass(frozen=True)
class Signature:
    """A signature: named inputs and outputs and the function computing outputs from inputs."""

    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]
    fn: Callable[[Arrays], Arrays]
    method_name: str = PREDICT_METHOD

    def to_json(self, name: str) -> dict:
        return {"inputs": {k: v.to_json(k, name) for k, v in self.inputs.items()},
                "outputs": {k: v.to_json(k, name) for k, v in self.outputs.items()},
                "method_name": self.method_name}


class Servable:
    """The signatures of one version; ``run`` holds a lock so one model computes at a time."""

    def __init__(self, signatures: dict[str, Signature]) -> None:
        self.signatures = signatures
        self._lock = threading.Lock()

    def run(self, signature: str, inputs: Arrays) -> Arrays:
        with self._lock:
            return self.signatures[signature].fn(inputs)


def _infos(specs: dict) -> dict[str, TensorInfo]:
    return {k: TensorInfo(v["dtype"], tuple(v["shape"])) for k, v in specs.items()}


def load(path: str | Path) -> Servable:
    """The SavedModel in ``path`` as a servable, warmed up (one prediction on zeros) so the
    first request does not pay for tracing. Raises ``ValueError`` if the directory is bad."""
    from .. import saved_model

    loaded = saved_model.load(path)
    model = loaded.model
    signatures = {}
    for name, sig in loaded.signatures.items():
        inputs, outputs = _infos(sig.inputs), _infos(sig.outputs)
        dtypes = {k: v.np_dtype for k, v in outputs.items()}

        def fn(arrays: Arrays, sig: Any = sig, dtypes: dict = dtypes) -> Arrays:
            rows = max(1, len(next(iter(arrays.values()))))
            out = model.predict(sig.model_inputs(arrays), batch_size=rows, verbose=0)
            return {k: np.asarray(v, dtype=dtypes[k])
                    for k, v in sig.named_outputs(out).items()}

        signatures[name] = Signature(inputs, outputs, fn, sig.method_name)
    if SERVING_DEFAULT not in signatures:
        raise ValueError(f"{path}: no '{SERVING_DEFAULT}' signature")
    servable = Servable(signatures)
    for name, sig in signatures.items():
        warm = {k: np.zeros([1] + [d or 1 for d in v.shape[1:]], v.np_dtype)
                for k, v in sig.inputs.items()}
        try:
            servable.run(name, warm)
        except Exception as e:  # a model that cannot run is corrupt: report it, never serve it
            raise ValueError(f"{path}: warm-up of signature {name!r} failed: {e}") from e
    return servable
