"""``tf.compat.v1.train.Saver``: save and restore a graph's variables through a Session.

The file is the same container ``tf.train.Checkpoint`` writes (JSON index, plain ``.npz``
arrays read without pickle, the RNG state), keyed by variable name; restoring checks every
array before assigning any. minitf differs from TensorFlow in the file layout (one
``<prefix>.ckpt`` file, not ``.index``/``.data`` shards) and ``save`` returns that file's path.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def _name(v: Any) -> str:
    return v.name.split(":")[0]


class Saver:
    """``saver = tf.compat.v1.train.Saver(max_to_keep=5)``; ``saver.save(sess, 'dir/model',
    global_step=step)``; ``saver.restore(sess, tf.train.latest_checkpoint('dir'))``."""

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: int | None = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: str | None = None, **kwargs: Any) -> None:
        from .framework.variables import global_variables
        from .ops.array_ops import placeholder

        if var_list is None:
            var_list = global_variables()
        items = sorted(var_list.items()) if isinstance(var_list, dict) else \
            [(_name(v), v) for v in var_list]
        if not items:
            raise ValueError("Saver has no variables to save (create them before the Saver)")
        names = [n for n, _ in items]
        if len(set(names)) != len(names):
            raise ValueError(f"Saver: two variables share a name in {names}")
        self._vars = dict(items)
        self._max_to_keep = max_to_keep
        self._last: list[str] = []
        # restore ops built once, as TF's Saver does: placeholder -> assign per variable
        self._feeds = {n: placeholder(v.dtype, v.shape) for n, v in items}
        self._restore_ops = [v.assign(self._feeds[n]) for n, v in items]

    @property
    def last_checkpoints(self) -> list[str]:
        return list(self._last)

    def save(self, sess: Any, save_path: str | Path, global_step: Any = None,
             latest_filename: str | None = None, **kwargs: Any) -> str:
        """Write every variable's value in ``sess``; returns the file's path."""
        from .checkpoint import read_marker, write_marker
        from .ops.random_ops import get_state

        prefix = str(save_path)
        if global_step is not None:
            step = global_step if isinstance(global_step, int | np.integer) else \
                sess.run(global_step)
            prefix = f"{prefix}-{int(step)}"
        path = Path(prefix if prefix.endswith(".ckpt") else prefix + ".ckpt")
        values = sess.run(list(self._vars.values()))
        arrays = {f"{n}/0000": np.asarray(a) for n, a in zip(self._vars, values)}
        import io

        buf = io.BytesIO()
        np.savez(buf, **arrays)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("index.json", json.dumps({"format": "minitf-checkpoint",
                                                 "index": {n: 1 for n in self._vars}}))
            z.writestr("variables.npz", buf.getvalue())
            z.writestr("rng.json", json.dumps(get_state(), default=int))
        tmp.replace(path)
        self._last = [p for p in self._last if p != str(path)] + [str(path)]
        if self._max_to_keep:
            while len(self._last) > self._max_to_keep:
                Path(self._last.pop(0)).unlink(missing_ok=True)
        names = [Path(p).name for p in reversed(self._last)]
        older = [n for n in read_marker(path.parent) if n not in names
                 and (path.parent / n).exists()]
        write_marker(path.parent, names[0], list(reversed(names + older)))
        return str(path)

    def restore(self, sess: Any, save_path: str | Path) -> None:
        """Assign the saved values in ``sess``; all or nothing."""
        from .checkpoint import _read

        if save_path is None:
            raise ValueError("Saver.restore got save_path=None: no checkpoint was found "
                             "(tf.train.latest_checkpoint returned None)")
        path = str(save_path)
        if not path.endswith(".ckpt"):
            path += ".ckpt"
        _, arrays, _ = _read(path)
        feed = {}
        for n, v in self._vars.items():
            a = arrays.get(f"{n}/0000")
            if a is None:
                raise ValueError(f"checkpoint {path} has no variable {n!r}")
            if a.shape != tuple(v.shape) or a.dtype.kind not in "biuf":
                raise ValueError(f"checkpoint {path}: variable {n!r} has shape {a.shape} "
                                 f"({a.dtype}), the graph's is {tuple(v.shape)}")
            feed[self._feeds[n]] = a.astype(v.dtype.np)
        sess.run(self._restore_ops, feed_dict=feed)
