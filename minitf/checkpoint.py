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

    def __getattr__(self, name: str) -> Any:
        # ``ckpt.step``, ``ckpt.model``: the tracked objects, as in TensorFlow
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"Checkpoint tracks no object named {name!r} "
                             f"(it tracks {sorted(objects)})")

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

    def restore(self, save_path: str | Path | None) -> Checkpoint:
        """Load every tracked variable (optimizer slots are created first if needed).

        ``None`` (what ``latest_checkpoint`` gives when nothing was saved yet) restores
        nothing, as in TensorFlow, so ``ckpt.restore(tf.train.latest_checkpoint(d))`` starts
        fresh or resumes."""
        from .ops.random_ops import set_state

        if save_path is None:
            return self
        save_path = str(save_path)
        if not save_path.endswith(".ckpt"):
            save_path += ".ckpt"
        meta, arrays, rng = _read(save_path)
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
                a = arrays.get(f"{name}/{i:04d}")
                if a is None or a.shape != tuple(v.shape):
                    raise ValueError(f"checkpoint {save_path}: variable {i} of '{name}' "
                                     f"({v.name}, shape {tuple(v.shape)}) is missing or has "
                                     f"shape {None if a is None else a.shape}")
                v.assign(a.astype(v.dtype.np))
        try:
            set_state(rng)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"checkpoint {save_path}: invalid random-generator state ({e})") \
                from None
        return self

    def expect_partial(self) -> Checkpoint:
        """TensorFlow's restore-status API; minitf restores all or raises, so a no-op."""
        return self

    assert_consumed = assert_existing_objects_matched = expect_partial


def _read(save_path: str) -> tuple[dict, dict, dict]:
    """The index, the arrays and the RNG state of a checkpoint file; JSON and plain arrays
    only (no pickle), any other content raises ``ValueError``."""
    from .keras.saving import check_members, read_npz_dict

    try:
        z = zipfile.ZipFile(save_path)
    except (zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{save_path} is not a minitf checkpoint: {e}") from None
    check_members(z, save_path)
    with z:
        try:
            meta = json.loads(z.read("index.json").decode("utf-8"))
            rng = json.loads(z.read("rng.json").decode("utf-8"))
            npz = z.read("variables.npz")
        except KeyError as e:
            raise ValueError(f"{save_path} is not a minitf checkpoint: {e.args[0]}") from None
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError,
                json.JSONDecodeError) as e:
            raise ValueError(f"{save_path} is corrupt: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != "minitf-checkpoint" \
            or not isinstance(meta.get("index"), dict):
        raise ValueError(f"{save_path} is not a minitf checkpoint (index.json has no "
                         "'minitf-checkpoint' index)")
    return meta, read_npz_dict(npz, f"{save_path}:variables.npz"), rng


def latest_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The path of the newest checkpoint ``save`` wrote in ``checkpoint_dir`` (or None)."""
    marker = Path(checkpoint_dir) / "checkpoint"
    if not marker.exists():
        return None
    return str(Path(checkpoint_dir) / marker.read_text().strip())
