"""The slot and update machinery shared by ``tf.train.Optimizer`` (TF1) and the Keras optimizers.

An optimizer keeps *slots* per trained variable (Adam's two moments, ...): non-trainable
variables of the variable's shape and dtype, created on its first update and looked up by the
variable's identity. One update step casts each gradient to its variable's dtype and runs one
fused op per variable (``minitf/ops/optimizer_ops.py``); in a graph, the step counters are
incremented after every update, and one grouped op runs the whole step.

The two bases keep their own public APIs and differ in where slots live and what they are
called (``_make_slot``), how the learning rate is found, what they count (TF1: a float step per
graph and ``global_step``; Keras: ``iterations``) and Keras' clipping and weight decay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .framework.execute import convert_to_tensor
from .framework.graph import control_dependencies
from .framework.tensor import Tensor
from .framework.variables import Variable
from .ops import math_ops
from .ops.control_ops import group

#: ``update(grad, var, lr, step)``: one fused update op of ``var`` (eagerly: applied now).
UpdateFn = Callable[[Tensor, Variable, Tensor, Tensor | None], Any]


class SlotMachinery:
    """Mixin: per-variable slots (``_slot_specs`` says which) and the per-variable update loop.

    A subclass calls ``_init_slots()`` in its ``__init__`` and defines ``_make_slot``.
    """

    _uses_step = False  # whether the update needs ``step`` (the 1-based update count)

    def _init_slots(self) -> None:
        self._slots: dict[int, dict[str, Variable]] = {}  # id(var) -> {slot name: variable}
        self._slot_vars: list[Variable] = []  # every slot, in creation order
        self._tracked: list[Variable] = []  # keeps trained variables alive, so ids stay unique

    def _slot_specs(self, var: Variable) -> list[tuple[str, float]]:
        """``(slot name, initial value)`` for each slot ``var`` needs."""
        return []

    def _make_slot(self, var: Variable, value: np.ndarray, slot: str) -> Variable:
        """A new non-trainable variable holding ``value``: the slot ``slot`` of ``var``."""
        raise NotImplementedError

    def _ensure_slots(self, var: Variable) -> dict[str, Variable]:
        slots = self._slots.get(id(var))
        if slots is None:
            slots = {}
            for slot, init in self._slot_specs(var):
                value = np.full(tuple(var.shape), init, dtype=var.dtype.np)
                slots[slot] = self._make_slot(var, value, slot)
                self._slot_vars.append(slots[slot])
            self._slots[id(var)] = slots
            self._tracked.append(var)
        return slots

    def get_slot_names(self) -> list[str]:
        """The names of the slots created so far, sorted."""
        return sorted({name for slots in self._slots.values() for name in slots})

    def _update_each(self, pairs: Iterable[tuple[Any, Variable]], lr: Tensor,
                     step: Tensor | None, update: UpdateFn,
                     weight_decay: float | None = None) -> list[Any]:
        """Run ``update`` for every ``(gradient, variable)`` pair (slots created first, the
        gradient converted to a tensor of the variable's dtype; with ``weight_decay``, ``var -= lr*wd*var``
        first). Returns the update ops (eagerly: whatever the updates returned)."""
        updates = []
        for g, var in pairs:
            self._ensure_slots(var)
            if not isinstance(g, Tensor):
                g = convert_to_tensor(g)
            if g.dtype != var.dtype:
                g = math_ops.cast(g, var.dtype)
            if weight_decay:
                wd = math_ops.cast(lr, var.dtype) * float(weight_decay)
                updates.append(var.assign_sub(var * wd))
            updates.append(update(g, var, lr, step))
        return updates

    @staticmethod
    def _group_step(updates: list[Any], increments: Callable[[], list[Any]],
                    name: str | None) -> Any:
        """In a graph: one op running ``updates``, then the counter ``increments`` (built
        under a control dependency on every update)."""
        ops = [u for u in updates if u is not None and not isinstance(u, Variable)]
        with control_dependencies(ops):
            incs = increments()
        return group(*ops, *incs, name=name)
