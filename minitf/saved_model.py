"""``tf.saved_model``: save a model to a directory and load it back, callable for inference.

minitf's SavedModel is a directory holding ``model.keras`` (see ``minitf/keras/saving/``) and
a ``saved_model.json`` marker; it is not TensorFlow's protobuf format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARKER = "saved_model.json"


def save(obj: Any, export_dir: str | Path, signatures: Any = None, options: Any = None) -> None:
    """Write ``obj`` (a Keras model) to ``export_dir``."""
    from .keras import saving

    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    saving.save_model(obj, export_dir / "model.keras")
    (export_dir / MARKER).write_text(json.dumps({"format": "minitf-saved-model", "version": 1}))


class _Loaded:
    """What ``load`` returns: call it like the model; ``signatures['serving_default']`` too."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.signatures = {"serving_default": self.__call__}
        self.trainable_variables = model.trainable_variables
        self.variables = model.weights

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        return self.model(inputs, training=training)

    def predict(self, x: Any, **kwargs: Any) -> Any:
        return self.model.predict(x, **kwargs)


def load(export_dir: str | Path, tags: Any = None, options: Any = None) -> _Loaded:
    from .keras import saving

    export_dir = Path(export_dir)
    if not (export_dir / MARKER).exists():
        raise ValueError(f"{export_dir} is not a minitf SavedModel directory (no {MARKER})")
    return _Loaded(saving.load_model(export_dir / "model.keras"))
