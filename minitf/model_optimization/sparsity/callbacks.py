"""The pruning callbacks: ``UpdatePruningStep`` (required while training a pruned model) and
``PruningSummaries`` (sparsity and threshold of each layer over training)."""

from __future__ import annotations

import json
import os
from typing import Any

from ...keras.callbacks import Callback
from .prune import prunable_layers


class UpdatePruningStep(Callback):
    """Advance ``pruning_step`` before each training batch and update the masks the schedule
    asks for; at each epoch's end write ``kernel * mask`` back into the kernels."""

    def __init__(self) -> None:
        super().__init__()
        self.step = -1

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.layers = prunable_layers(self.model)
        if not self.layers:
            raise ValueError("UpdatePruningStep needs a model with prune_low_magnitude layers")
        first = int(self.layers[0].pruning_step.numpy()) if self.layers[0].built else -1
        self.step = max(first, 0)  # a fresh model starts at 0; a restored one continues

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for layer in self.layers:
            if layer.built:
                layer.update_mask(self.step)
        self.step += 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for layer in self.layers:
            if layer.built:
                layer.apply_mask()


class PruningSummaries(Callback):
    """Record each pruned layer's sparsity and threshold at every epoch's end (``update_freq=
    'epoch'``) or every ``update_freq`` steps, in ``self.records`` and as JSON lines in
    ``log_dir/pruning_summaries.jsonl``.

    minitf differs from TF-MOT, which writes TensorBoard summaries: minitf has no summary
    writer, so the same scalars go to a JSON-lines file.
    """

    def __init__(self, log_dir: str | os.PathLike, update_freq: Any = "epoch",
                 **_ignored: Any) -> None:
        super().__init__()
        self.log_dir, self.update_freq = os.fspath(log_dir), update_freq
        self.records: list[dict] = []
        self._batches = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        os.makedirs(self.log_dir, exist_ok=True)
        self.layers = prunable_layers(self.model)

    def _write(self) -> None:
        for layer in self.layers:
            mask = layer.mask.numpy()
            rec = {"step": int(layer.pruning_step.numpy()), "layer": layer.layer.name,
                   "sparsity": float(1.0 - mask.mean()),
                   "threshold": float(layer.threshold.numpy())}
            self.records.append(rec)
            with open(os.path.join(self.log_dir, "pruning_summaries.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batches += 1
        if isinstance(self.update_freq, int) and self._batches % self.update_freq == 0:
            self._write()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.update_freq == "epoch":
            self._write()

