"""``compile`` for a model with several outputs: a loss, a loss weight and metrics per output.

``loss``, ``loss_weights`` and ``metrics`` may each be one value (for every output), a list in
the order of ``model.outputs`` or a dict keyed by output layer name, as in Keras. Targets ``y``
are a list in output order or a dict keyed by output name. The logged names are Keras's:
``loss`` (the weighted total plus regularization), ``<output>_loss`` per output and
``<output>_<metric>`` per metric.
"""

from __future__ import annotations

from typing import Any

from ..framework import nest
from ..ops import array_ops, math_ops
from . import losses as losses_module
from . import metrics as metrics_module


class OutputLosses:
    """The compiled losses and metrics of a multi-output model (``names``: its output layer
    names, in output order)."""

    def __init__(self, names: list[str], loss: Any, loss_weights: Any, metrics: Any) -> None:
        self.names = list(names)
        self.losses = [None if x is None else losses_module.get(x)
                       for x in self._per_output(loss, "loss")]
        if all(x is None for x in self.losses):
            raise ValueError("compile: no output has a loss")
        self.weights = [1.0 if w is None else float(w)
                        for w in self._per_output(loss_weights, "loss_weights")]
        if isinstance(metrics, dict) or (isinstance(metrics, list | tuple) and metrics
                                         and all(isinstance(m, list | tuple | type(None))
                                                 for m in metrics)):
            specs = self._per_output(metrics, "metrics")
        else:  # one list of metrics: for every output
            specs = [metrics] * len(self.names)
        self.metric_specs = [list(s) if isinstance(s, list | tuple) else [] if s is None
                             else [s] for s in specs]
        self.trackers = [metrics_module.Mean(name=f"{n}_loss")
                         for n, fn in zip(self.names, self.losses) if fn is not None]
        self.metrics: list[Any] = []

    def _per_output(self, spec: Any, what: str) -> list:
        n = len(self.names)
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - set(self.names))
            if unknown:
                raise ValueError(f"compile: {what} has keys {unknown} that are not output "
                                 f"names; the outputs are {self.names}")
            return [spec.get(name) for name in self.names]
        if isinstance(spec, list | tuple):
            if len(spec) != n:
                raise ValueError(f"compile: {what} is a list of {len(spec)} entries but the "
                                 f"model has {n} outputs {self.names}")
            return list(spec)
        return [spec] * n

    def targets(self, y: Any) -> list:
        """``y`` as a list in output order."""
        if isinstance(y, dict):
            missing = [n for n in self.names if n not in y]
            if missing:
                raise ValueError(f"The targets dict is missing outputs {missing} (keys: "
                                 f"{sorted(y)}; outputs: {self.names})")
            return [y[n] for n in self.names]
        if isinstance(y, list | tuple) and len(y) == len(self.names):
            return list(y)
        raise ValueError(f"The model has {len(self.names)} outputs {self.names}: give y as a "
                         "list in that order or a dict keyed by output name")

    def resolve_metrics(self, ys: list, pred_shapes: list) -> None:
        if self.metrics:
            return
        for name, loss, specs, y, shape in zip(self.names, self.losses, self.metric_specs, ys,
                                               pred_shapes):
            for m in specs:
                if isinstance(m, str) and m in ("accuracy", "acc"):
                    metric = metrics_module.resolve_accuracy(loss, y.shape, tuple(shape),
                                                             name=f"{name}_{m}")
                else:
                    metric = metrics_module.get(m)
                    metric.name = f"{name}_{metric.name}"
                self.metrics.append((self.names.index(name), metric))

    def total(self, y: Any, y_pred: Any) -> tuple[Any, list]:
        """The weighted sum of the outputs' losses, and each output's loss."""
        ys, preds = self.targets(y), nest.flatten(y_pred)
        per = [fn(t, p) if fn is not None else None for fn, t, p in zip(self.losses, ys, preds)]
        terms = [math_ops.multiply(v, w) if w != 1.0 else v
                 for v, w in zip(per, self.weights) if v is not None]
        return math_ops.add_n(terms) if len(terms) > 1 else terms[0], per

    def update(self, y: Any, y_pred: Any, per: list) -> None:
        ys, preds = self.targets(y), nest.flatten(y_pred)
        batch = array_ops.shape(preds[0])[0]
        for tracker, value in zip(self.trackers, [v for v in per if v is not None]):
            tracker.update_state(value, sample_weight=batch)
        for i, metric in self.metrics:
            metric.update_state(ys[i], preds[i])
