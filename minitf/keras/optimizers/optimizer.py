"""The base class of the Keras optimizers (Keras 3 API, tf.keras 2 names accepted).

An optimizer owns eager variables only: ``iterations`` (int64), the learning rate (float32,
unless a schedule or callable computes it) and the *slots* it keeps per trained variable
(Adam's ``m`` and ``v``, ...), created lazily on the first update. Because they are eager,
a training step traced by ``tf.function`` captures them by reference: replaying the step
updates them, and ``optimizer.learning_rate = 0.01`` takes effect without retracing.
Each variable's update is one fused op (``minitf/ops/optimizer_ops.py``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ... import dtypes
from ...framework import context as _context
from ...framework.api_export import keras_export
from ...framework.backprop import GradientTape, gradients
from ...framework.execute import convert_to_tensor
from ...framework.function import init_scope
from ...framework.graph import active_graph
from ...framework.tensor import Tensor, is_symbolic
from ...framework.variables import Variable
from ...ops import array_ops, math_ops, reduction_ops
from ...optimizer_slots import SlotMachinery
from ..backend import snake_case
from . import schedules

_UNSUPPORTED = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None,
                "jit_compile": True, "mesh": None}


class _VariableList(list):
    """A list that can also be called: ``opt.variables`` (Keras 3) and ``opt.variables()``
    (tf.keras 2) both work."""

    def __call__(self) -> list:
        return list(self)


@keras_export("keras.optimizers.Optimizer")
class Optimizer(SlotMachinery):
    """Base class: subclasses list their slots (``_slot_specs``) and update one variable
    (``_update_step``); this class does the rest, with the slots and the update loop of
    ``SlotMachinery`` (shared with ``tf.train.Optimizer``)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.",
                          DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if "decay" in kwargs:
            raise ValueError("`decay` is not supported by the Keras optimizers; use a "
                             "tf.keras.optimizers.schedules.LearningRateSchedule instead")
        for key, value in kwargs.items():
            if key not in _UNSUPPORTED:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                                f"{key!r}")
            if value != _UNSUPPORTED[key]:
                raise NotImplementedError(f"minitf's optimizers do not support {key}={value!r}")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set, got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name or snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        # created in a tf.distribute scope (or hvd.DistributedOptimizer): all-reduce gradients
        self._distribute_strategy = _context.state.strategy
        with init_scope():
            self._iterations = Variable(np.int64(0), trainable=False,
                                        name=f"{self.name}/iteration")
        self._lr_var: Variable | None = None
        self._lr_fn: Callable | None = None
        self._set_learning_rate(learning_rate)
        self._init_slots()

    # -- to define in subclasses (and ``_slot_specs``) ----------------------------------------------
    def _update_step(self, grad: Tensor, var: Variable, lr: Tensor, step: Tensor | None) -> Any:
        """Update ``var`` with one fused op; ``step`` is ``iterations + 1`` as a float."""
        raise NotImplementedError

    # -- hyper-parameters --------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """The number of updates applied so far (an int64 variable)."""
        return self._iterations

    @property
    def learning_rate(self) -> Any:
        """The learning-rate variable, or the schedule's value at the current step."""
        if self._lr_fn is not None:
            return self._current_learning_rate()
        return self._lr_var

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_learning_rate(value)

    lr = learning_rate  # tf.keras 2 name

    def _set_learning_rate(self, value: Any) -> None:
        if isinstance(value, Variable):
            self._lr_var, self._lr_fn = value, None
        elif isinstance(value, schedules.LearningRateSchedule) or (
                callable(value) and not isinstance(value, Tensor)):
            self._lr_fn = value
        elif is_symbolic(value):
            self._lr_fn = lambda: value
        else:
            if isinstance(self._lr_fn, schedules.LearningRateSchedule):
                raise TypeError("This optimizer was created with a LearningRateSchedule as its "
                                "learning_rate, so its learning rate cannot be set to a number; "
                                "create it with a float learning_rate to make it settable")
            v = np.float32(np.asarray(value))
            with init_scope():
                if self._lr_var is None:
                    self._lr_var = Variable(v, trainable=False, name=f"{self.name}/learning_rate")
                else:
                    self._lr_var.assign(v)
            self._lr_fn = None

    def _current_learning_rate(self) -> Tensor:
        fn = self._lr_fn
        if fn is None:
            return convert_to_tensor(self._lr_var)
        if isinstance(fn, schedules.LearningRateSchedule):
            return convert_to_tensor(fn(self._iterations))
        return convert_to_tensor(fn())

    # -- slots -------------------------------------------------------------------------------------
    def _make_slot(self, var: Variable, value: np.ndarray, slot: str) -> Variable:
        base = var.name.split(":")[0].replace("/", "_")
        with init_scope():  # eager, so a traced training step captures it by reference
            return Variable(value, trainable=False, name=f"{self.name}/{base}_{slot}")

    def get_slot(self, var: Variable, slot_name: str) -> Variable:
        """The slot variable ``slot_name`` kept for ``var``."""
        try:
            return self._slots[id(var)][slot_name]
        except KeyError:
            raise KeyError(f"No slot {slot_name!r} for variable {var.name!r}") from None

    def build(self, var_list: Iterable[Variable]) -> None:
        """Create the slots of ``var_list`` now (otherwise done on the first update)."""
        for v in var_list:
            self._ensure_slots(v)

    @property
    def variables(self) -> _VariableList:
        """``iterations``, the learning-rate variable (if any), then every slot."""
        out = [self._iterations]
        if self._lr_var is not None and self._lr_fn is None:
            out.append(self._lr_var)
        return _VariableList(out + self._slot_vars)

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(v.numpy()) for v in self.variables]

    def set_weights(self, weights: list) -> None:
        vs = self.variables
        if len(vs) != len(weights):
            raise ValueError(f"Expected {len(vs)} arrays (one per optimizer variable), got "
                             f"{len(weights)}")
        with init_scope():
            for v, w in zip(vs, weights):
                v.assign(np.asarray(w, dtype=v.dtype.np))

    # -- updating ----------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]],
                        name: str | None = None, **kwargs: Any) -> Any:
        """Apply one update per ``(gradient, variable)`` pair and add 1 to ``iterations``.

        ``None`` gradients are skipped with a warning. Returns the iterations variable
        eagerly, and in a graph an op that runs every update.
        """
        pairs = [(g, v) for g, v in grads_and_vars]
        kept = [(g, v) for g, v in pairs if g is not None]
        if not kept:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[v.name for _, v in pairs]}.")
        if len(kept) < len(pairs):
            missing = [v.name for g, v in pairs if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing "
                          "the loss. If using `model.compile()`, did you forget to provide a "
                          "`loss` argument?", stacklevel=2)
        if self._distribute_strategy is not None:
            kept = self._distribute_strategy._reduce_gradients(kept)
            if not kept:  # a MirroredStrategy replica: the update waits for the last replica's
                return self._iterations
        grads = [g if isinstance(g, Tensor) else convert_to_tensor(g) for g, _ in kept]
        graph = active_graph() or next((g.graph for g in grads if is_symbolic(g)), None)
        with graph.as_default() if graph is not None else contextlib.nullcontext():
            return self._apply(grads, [v for _, v in kept], name, graph is not None)

    def _apply(self, grads: list[Tensor], var_list: list[Variable], name: str | None,
               in_graph: bool) -> Any:
        grads = self._clip(grads)
        lr = self._current_learning_rate()
        step = None
        if self._uses_step:
            step = math_ops.cast(self._iterations + 1, dtypes.float32)
        updates = self._update_each(zip(grads, var_list), lr, step, self._update_step,
                                    self.weight_decay)
        if not in_graph:
            self._iterations.assign_add(np.int64(1))
            return self._iterations
        return self._group_step(updates, lambda: [self._iterations.assign_add(np.int64(1))],
                                name)

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Variable]) -> Any:
        """Keras 3 spelling of ``apply_gradients(zip(grads, trainable_variables))``."""
        return self.apply_gradients(zip(grads, trainable_variables))

    def _clip(self, grads: list[Tensor]) -> list[Tensor]:
        if self.clipvalue is not None:
            c = float(self.clipvalue)
            return [array_ops.clip_by_value(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm)
        return grads

    def compute_gradients(self, loss: Any, var_list: Any, tape: GradientTape | None = None
                          ) -> list[tuple[Any, Variable]]:
        """``(gradient, variable)`` pairs for ``loss`` (a callable, or a tensor with ``tape``;
        a symbolic tensor in graph mode uses ``tf.gradients``)."""
        if callable(loss):
            tape = tape if tape is not None else GradientTape()
            with tape:
                if not callable(var_list):
                    tape.watch(list(var_list))
                loss = loss()
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        if tape is None:
            if not is_symbolic(loss):
                raise ValueError("`tape` is required when a `Tensor` loss is passed to "
                                 "minimize; or pass the loss as a callable")
            grads = gradients(loss, var_list)
        else:
            grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> Any:
        """Compute the gradients of ``loss`` and apply them (see ``compute_gradients``)."""
        return self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    # -- serialization -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        if self._lr_fn is None:
            lr: Any = float(self._lr_var.numpy())
        elif isinstance(self._lr_fn, schedules.LearningRateSchedule):
            lr = schedules.serialize(self._lr_fn)
        else:
            lr = self._lr_fn
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.deserialize(lr, custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        steps = int(self._iterations.numpy())
        return f"<{type(self).__name__} name={self.name!r} iterations={steps}>"


@keras_export("keras.optimizers.clip_by_norm")
def clip_by_norm(t: Any, clip_norm: float) -> Tensor:
    """``t`` rescaled so that its L2 norm is at most ``clip_norm``."""
    t = convert_to_tensor(t)
    norm = math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(t)))
    return t * float(clip_norm) / math_ops.maximum(norm, float(clip_norm))


@keras_export("keras.optimizers.clip_by_global_norm")
def clip_by_global_norm(ts: list, clip_norm: float) -> list[Tensor]:
    """Every tensor of ``ts`` scaled by ``clip_norm / max(global_norm, clip_norm)``."""
    ts = [convert_to_tensor(t) for t in ts]
    total = math_ops.add_n([reduction_ops.reduce_sum(math_ops.square(t)) for t in ts])
    scale = float(clip_norm) / math_ops.maximum(math_ops.sqrt(total), float(clip_norm))
    return [t * math_ops.cast(scale, t.dtype) for t in ts]
