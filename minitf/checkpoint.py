"""``tf.train.Checkpoint``: save and restore variables, optimizer slots and the RNG state.

A checkpoint is a zip of ``variables.npz`` (loaded with ``allow_pickle=False``), a JSON index
of which object each array belongs to, and ``rng.json``. Restoring one and training on gives
exactly the numbers the uninterrupted run would have given.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def _variables_of(obj: Any) -> list:
    if hasattr(obj, "_graph_tensor"):  # a Variable
        return [obj]
    if hasattr(obj, "optimizer") and hasattr(obj, "weights"):  # a model: weights only
        return list(obj.weights)
    if hasattr(obj, "variables") and callable(obj.variables):  # an optimizer
        return list(obj.variables())
    if hasattr(obj, "weights"):
        return list(obj.weights)
    raise TypeError(f"Checkpoint cannot track {type(obj).__name__}: give variables, layers, "
                    "models or optimizers")


class Checkpoint:
    """``ckpt = tf.train.Checkpoint(model=model, optimizer=opt); path = ckpt.save('dir/ckpt')``."""

    def __init__(self, **objects: Any) -> None:
        self._objects = objects
        self.save_counter = 0

    def _arrays(self) -> tuple[dict, dict]:
        index, arrays = {}, {}
        for name, obj in sorted(self._objects.items()):
            vs = _variables_of(obj)
            index[name] = len(vs)
            for i, v in enumerate(vs):
                arrays[f"{name}/{i:04d}"] = np.asarray(v.numpy())
        return index, arrays

    def write(self, file_prefix: str | Path) -> str:
        """Write to exactly ``file_prefix`` + '.ckpt'."""
        import io

        from .ops.random_ops import get_state

        path = Path(str(file_prefix) + ".ckpt")
        path.parent.mkdir(parents=True, exist_ok=True)
        index, arrays = self._arrays()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("index.json", json.dumps({"format": "minitf-checkpoint", "index": index}))
            z.writestr("variables.npz", buf.getvalue())
            z.writestr("rng.json", json.dumps(get_state(), default=int))
        tmp.replace(path)
        return str(path)

    def save(self, file_prefix: str | Path) -> str:
        """Write ``file_prefix-N.ckpt`` with N counting saves; returns the path."""
        self.save_counter += 1
        path = self.write(f"{file_prefix}-{self.save_counter}")
        (Path(path).parent / "checkpoint").write_text(Path(path).name + "\n")
        return path

    def restore(self, save_path: str | Path) -> Checkpoint:
        """Load every tracked variable (optimizer slots are created first if needed)."""
        import io

        from .ops.random_ops import set_state

        save_path = str(save_path)
        if not save_path.endswith(".ckpt"):
            save_path += ".ckpt"
        try:
            z = zipfile.ZipFile(save_path)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{save_path} is not a minitf checkpoint: {e}") from None
        with z:
            meta = json.loads(z.read("index.json"))
            if meta.get("format") != "minitf-checkpoint":
                raise ValueError(f"{save_path} is not a minitf checkpoint")
            with np.load(io.BytesIO(z.read("variables.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            rng = json.loads(z.read("rng.json"))
        for name, obj in self._objects.items():
            n = meta["index"].get(name)
            if n is None:
                raise ValueError(f"checkpoint {save_path} has nothing saved for '{name}'")
            if n and hasattr(obj, "build") and hasattr(obj, "apply_gradients"):
                model_vars = [o for o in self._objects.values() if hasattr(o, "trainable_variables")
                              and not hasattr(o, "apply_gradients")]
                if model_vars:
                    obj.build(model_vars[0].trainable_variables)
            vs = _variables_of(obj)
            if len(vs) != n:
                raise ValueError(f"'{name}' has {len(vs)} variables but the checkpoint holds {n}")
            for i, v in enumerate(vs):
                v.assign(arrays[f"{name}/{i:04d}"].astype(v.dtype.np))
        set_state(rng)
        return self


def latest_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The path of the newest checkpoint ``save`` wrote in ``checkpoint_dir`` (or None)."""
    marker = Path(checkpoint_dir) / "checkpoint"
    if not marker.exists():
        return None
    return str(Path(checkpoint_dir) / marker.read_text().strip())
