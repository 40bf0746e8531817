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
        directory = Path(path).parent
        kept = [Path(path).name] + [n for n in read_marker(directory) if n != Path(path).name]
        write_marker(directory, kept[0], list(reversed(kept)))
        return path

    def restore(self, save_path: str | Path | None) -> Checkpoint:
        """Load every tracked variable and the RNG state, all or nothing: every array and the
        RNG state are checked before any variable changes (optimizer slots are created first
        if needed; they start at zero, as an untrained optimizer's would).

        ``None`` (what ``latest_checkpoint`` gives when nothing was saved yet) restores
        nothing, as in TensorFlow, so ``ckpt.restore(tf.train.latest_checkpoint(d))`` starts
        fresh or resumes."""
        from .keras.saving import check_rng_state
        from .keras.saving.weights import assign_all
        from .ops.random_ops import set_state

        if save_path is None:
            return self
        save_path = str(save_path)
        if not save_path.endswith(".ckpt"):
            save_path += ".ckpt"
        meta, arrays, rng = _read(save_path)
        targets, values = [], []
        for name, obj in self._objects.items():
            n = meta["index"].get(name)
            if not isinstance(n, int):
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
                if a is None or a.shape != tuple(v.shape) or a.dtype.kind not in "biuf":
                    raise ValueError(f"checkpoint {save_path}: variable {i} of '{name}' "
                                     f"({v.name}, shape {tuple(v.shape)}) is missing or has "
                                     f"shape {None if a is None else a.shape} "
                                     f"({None if a is None else a.dtype})")
                targets.append(v)
                values.append(a.astype(v.dtype.np))
        check_rng_state(rng, f"checkpoint {save_path}")
        assign_all(targets, values)
        set_state(rng)
        return self

    def expect_partial(self) -> Checkpoint:
        """TensorFlow's restore-status API; minitf restores all or raises, so a no-op."""
        return self

    assert_consumed = assert_existing_objects_matched = expect_partial


def _read(save_path: str) -> tuple[dict, dict, dict]:
    """The index, the arrays and the RNG state of a checkpoint file; JSON and plain arrays
    only (no pickle), sizes bounded (``keras.saving.limits``); anything else raises
    ``ValueError``."""
    from .keras.saving import limits

    z = limits.open_zip(save_path, "minitf checkpoint")
    with z:
        names = set(z.namelist())
        for member in ("index.json", "rng.json", "variables.npz"):
            if member not in names:
                raise ValueError(f"{save_path} is not a minitf checkpoint: no {member}")
        meta = limits.loads_json(limits.read_member(z, "index.json", save_path,
                                                    limits.MAX_JSON_BYTES),
                                 f"checkpoint {save_path}: index.json")
        rng = limits.loads_json(limits.read_member(z, "rng.json", save_path,
                                                   limits.MAX_JSON_BYTES),
                                f"checkpoint {save_path}: rng.json")
        npz = limits.read_member(z, "variables.npz", save_path)
    if not isinstance(meta, dict) or meta.get("format") != "minitf-checkpoint" \
            or not isinstance(meta.get("index"), dict):
        raise ValueError(f"{save_path} is not a minitf checkpoint (index.json has no "
                         "'minitf-checkpoint' index)")
    return meta, limits.read_npz_dict(npz, f"{save_path}:variables.npz"), rng


_MARKER = "checkpoint"


def write_marker(directory: str | Path, latest: str, all_paths: list[str]) -> None:
    """TensorFlow's ``checkpoint`` state file: the newest path, then every kept one."""
    lines = [f'model_checkpoint_path: "{latest}"'] + \
        [f'all_model_checkpoint_paths: "{p}"' for p in all_paths]
    (Path(directory) / _MARKER).write_text("\n".join(lines) + "\n")


def read_marker(directory: str | Path) -> list[str]:
    """The checkpoint names in ``directory``'s state file, newest first (empty if none)."""
    marker = Path(directory) / _MARKER
    if not marker.exists():
        return []
    out = []
    for line in marker.read_text().splitlines():
        line = line.strip()
        if line.startswith(("model_checkpoint_path:", "all_model_checkpoint_paths:")):
            value = line.split(":", 1)[1].strip().strip('"')
        else:
            value = line  # minitf's older one-line form
        if value and value not in out:
            out.append(value)
    return out


def latest_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The path of the newest checkpoint saved in ``checkpoint_dir`` (or None)."""
    names = read_marker(checkpoint_dir)
    return str(Path(checkpoint_dir) / names[0]) if names else None


class CheckpointManager:
    """``tf.train.CheckpointManager``: numbered saves in ``directory``, the oldest deleted
    beyond ``max_to_keep``; ``checkpoint_interval`` (with ``step_counter``) skips saves until
    that many steps passed since the last one."""

    def __init__(self, checkpoint: Checkpoint, directory: str | Path, max_to_keep: int | None,
                 keep_checkpoint_every_n_hours: float | None = None,
                 checkpoint_name: str = "ckpt", step_counter: Any = None,
                 checkpoint_interval: int | None = None,
                 init_fn: Any = None) -> None:
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"max_to_keep must be a positive integer or None, got {max_to_keep}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("checkpoint_interval needs a step_counter")
        self._checkpoint, self._directory = checkpoint, str(directory)
        self._max_to_keep, self._name = max_to_keep, checkpoint_name
        self._step_counter, self._interval = step_counter, checkpoint_interval
        self._init_fn = init_fn
        self._last_step: int | None = None
        d = Path(directory)
        # TF's order: oldest first; the state file lists newest first
        self._kept = [str(d / n) for n in reversed(read_marker(d)) if (d / n).exists()]

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoints(self) -> list[str]:
        """The kept checkpoints, oldest first."""
        return list(self._kept)

    @property
    def latest_checkpoint(self) -> str | None:
        return self._kept[-1] if self._kept else None

    @property
    def checkpoint_interval(self) -> int | None:
        return self._interval

    def save(self, checkpoint_number: int | None = None, check_interval: bool = True
             ) -> str | None:
        """Save (unless the interval has not passed: then None); returns the path."""
        step = None
        if self._step_counter is not None:
            step = int(np.asarray(self._step_counter.numpy()
                                  if hasattr(self._step_counter, "numpy")
                                  else self._step_counter))
        if check_interval and self._interval is not None and self._last_step is not None \
                and step - self._last_step < self._interval:
            return None
        if checkpoint_number is None:
            checkpoint_number = step if step is not None else self._checkpoint.save_counter + 1
        self._checkpoint.save_counter += 1
        path = self._checkpoint.write(Path(self._directory) / f"{self._name}-{checkpoint_number}")
        self._last_step = step
        self._kept = [p for p in self._kept if p != path] + [path]
        if self._max_to_keep is not None:
            while len(self._kept) > self._max_to_keep:
                Path(self._kept.pop(0)).unlink(missing_ok=True)
        names = [Path(p).name for p in reversed(self._kept)]
        write_marker(self._directory, names[0], list(reversed(names)))
        return path

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint (its path), or run ``init_fn`` and return None."""
        if self.latest_checkpoint is not None:
            self._checkpoint.restore(self.latest_checkpoint)
            return self.latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None
