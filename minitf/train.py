"""``tf.train`` (TF1): optimizers whose ``minimize(loss)`` returns a training op.

The classic loop::

    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    sess.run(tf.global_variables_initializer())
    for ...:
        sess.run(train_op, feed_dict=...)

``minimize`` differentiates the loss with ``tf.gradients`` (over the graph's trainable
variables unless ``var_list`` is given) and adds one fused update op per variable
(``minitf/ops/optimizer_ops.py``), grouped into one op. Slot variables (Adam's moments, ...)
are created in the variable's graph, so ``tf.global_variables_initializer()`` (called after
``minimize``) initializes them. Eagerly, ``minimize`` takes a callable loss and updates at once.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from . import dtypes
from .framework.backprop import GradientTape, gradients
from .framework.execute import convert_to_tensor
from .framework.function import init_scope
from .framework.graph import Graph, active_graph, get_default_graph
from .framework.tensor import Tensor, is_symbolic
from .framework.variables import TRAINABLE_VARIABLES, Variable
from .ops import math_ops, optimizer_ops
from .optimizer_slots import SlotMachinery

GLOBAL_STEP = "global_step"


class Optimizer(SlotMachinery):
    """Base class of the TF1 optimizers: ``compute_gradients``, ``apply_gradients`` and
    ``minimize``. Subclasses list their slots (``_slot_specs``) and build one update op per
    variable (``_apply_dense``); the slots and the update loop are ``SlotMachinery``'s."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._name = name
        self._init_slots()
        self._non_slot: dict[int, Variable] = {}  # step counters, one per graph (or eager)

    def get_name(self) -> str:
        return self._name

    # -- subclasses --------------------------------------------------------------------------------
    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Tensor | None) -> Any:
        raise NotImplementedError

    # -- gradients ---------------------------------------------------------------------------------
    def compute_gradients(self, loss: Any, var_list: list | None = None,
                          gate_gradients: int = GATE_OP, aggregation_method: Any = None,
                          colocate_gradients_with_ops: bool = False, grad_loss: Any = None
                          ) -> list[tuple[Any, Variable]]:
        """``(gradient, variable)`` pairs; ``None`` where the loss does not depend on it."""
        if callable(loss):
            with GradientTape() as tape:
                if var_list is not None:
                    tape.watch(list(var_list))
                value = loss()
            var_list = list(var_list) if var_list is not None else list(
                tape.watched_variables())
            grads = tape.gradient(value, var_list, output_gradients=grad_loss)
            return list(zip(grads, var_list))
        if not is_symbolic(loss):
            raise RuntimeError("With eager execution, pass the loss to minimize() / "
                               "compute_gradients() as a callable (a function of no "
                               "arguments) so that it can be differentiated")
        if var_list is None:
            var_list = loss.graph.get_collection(TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list))

    # -- updates -----------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Any, global_step: Variable | None = None,
                        name: str | None = None) -> Any:
        """One op that updates every variable with a gradient (and adds 1 to
        ``global_step`` if given). Eagerly, the updates happen now."""
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        kept = [(g, v) for g, v in pairs if g is not None]
        if not kept:
            raise ValueError(f"No gradients provided for any variable, check your graph for "
                             f"ops that do not support gradients, between variables "
                             f"{[v.name for _, v in pairs]} and the loss.")
        graph = active_graph() or next((g.graph for g, _ in kept if is_symbolic(g)), None)
        if graph is None:
            graph = next((v.graph for _, v in kept if v.graph is not None), None)
        with graph.as_default() if graph is not None else contextlib.nullcontext():
            return self._apply(kept, global_step, name or self._name, graph)

    def _apply(self, kept: list, global_step: Variable | None, name: str,
               graph: Graph | None) -> Any:
        lr = self._learning_rate_tensor()
        step = None
        if self._uses_step:
            counter = self._step_counter(kept[0][1])
            step = math_ops.cast(counter + 1.0, dtypes.float32)
        updates = self._update_each(kept, lr, step, self._apply_dense)

        def increments() -> list[Any]:
            incs = [counter.assign_add(1.0)] if self._uses_step else []
            if global_step is not None:
                incs.append(global_step.assign_add(np.ones((), global_step.dtype.np)))
            return incs

        if graph is None:
            increments()
            return None
        return self._group_step(updates, increments, name)

    def minimize(self, loss: Any, global_step: Variable | None = None,
                 var_list: list | None = None, gate_gradients: int = GATE_OP,
                 aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                 name: str | None = None, grad_loss: Any = None) -> Any:
        """``apply_gradients(compute_gradients(loss, var_list), global_step)``."""
        pairs = self.compute_gradients(loss, var_list, grad_loss=grad_loss)
        if all(g is None for g, _ in pairs):
            raise ValueError(f"No gradients provided for any variable, check your graph for "
                             f"ops that do not support gradients, between variables "
                             f"{[v.name for _, v in pairs]} and loss {loss}.")
        return self.apply_gradients(pairs, global_step=global_step, name=name)

    # -- state -------------------------------------------------------------------------------------
    def _learning_rate_tensor(self) -> Tensor:
        lr = self._learning_rate
        if callable(lr) and not isinstance(lr, Tensor | Variable):
            lr = lr()
        return convert_to_tensor(lr)

    def _new_variable(self, like: Variable, value: np.ndarray, name: str) -> Variable:
        """A non-trainable variable next to ``like``: in its graph, or eager."""
        if like.graph is not None:
            with like.graph.as_default():
                return Variable(value, trainable=False, name=name)
        with init_scope():
            return Variable(value, trainable=False, name=name)

    def _make_slot(self, var: Variable, value: np.ndarray, slot: str) -> Variable:
        base = var.name.split(":")[0]
        return self._new_variable(var, value, f"{base}/{self._name}_{slot}")

    def _step_counter(self, var: Variable) -> Variable:
        key = id(var.graph)
        if key not in self._non_slot:
            self._non_slot[key] = self._new_variable(var, np.float32(0.0), f"{self._name}_step")
        return self._non_slot[key]

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        """The slot ``name`` of ``var`` (``None`` if there is none)."""
        return self._slots.get(id(var), {}).get(name)

    def variables(self) -> list[Variable]:
        """Every variable this optimizer created (slots and step counters)."""
        return [*self._non_slot.values(), *self._slot_vars]


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``."""

    def __init__(self, learning_rate: Any, use_locking: bool = False,
                 name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Any) -> Any:
        return optimizer_ops.apply_gradient_descent(var, grad, lr)


class MomentumOptimizer(Optimizer):
    """Momentum SGD. The update is written the Keras way (``accum = momentum*accum - lr*g;
    var += accum``), which moves the variable exactly as TF1's ``accum = momentum*accum + g;
    var -= lr*accum`` while the learning rate is constant (the slot holds ``-lr`` times
    TF1's)."""

    def __init__(self, learning_rate: Any, momentum: float, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = float(momentum)
        self._use_nesterov = bool(use_nesterov)

    def _slot_specs(self, var: Variable) -> list[tuple[str, float]]:
        return [("momentum", 0.0)]

    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Any) -> Any:
        return optimizer_ops.apply_momentum(var, self._slots[id(var)]["momentum"], grad, lr,
                                            self._momentum, self._use_nesterov)


class AdamOptimizer(Optimizer):
    """Adam: ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
    ``var -= lr_t * m / (sqrt(v) + epsilon)``."""

    _uses_step = True

    def __init__(self, learning_rate: Any = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, use_locking: bool = False, name: str = "Adam") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._beta1, self._beta2, self._epsilon = float(beta1), float(beta2), float(epsilon)

    def _slot_specs(self, var: Variable) -> list[tuple[str, float]]:
        return [("m", 0.0), ("v", 0.0)]

    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Any) -> Any:
        s = self._slots[id(var)]
        return optimizer_ops.apply_adam(var, s["m"], s["v"], grad, lr, self._beta1,
                                        self._beta2, self._epsilon, step)


class AdagradOptimizer(Optimizer):
    """``accum += g^2; var -= lr * g / sqrt(accum)`` (accum starts at 0.1)."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial = float(initial_accumulator_value)

    def _slot_specs(self, var: Variable) -> list[tuple[str, float]]:
        return [("accumulator", self._initial)]

    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Any) -> Any:
        return optimizer_ops.apply_adagrad(var, self._slots[id(var)]["accumulator"], grad, lr,
                                           0.0)


class RMSPropOptimizer(Optimizer):
    """TF1 RMSProp: ``ms`` starts at 1; ``ms = decay*ms + (1-decay)*g^2``,
    ``mom = momentum*mom + lr*g/sqrt(ms + epsilon)``, ``var -= mom``."""

    def __init__(self, learning_rate: Any, decay: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-10, use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay, self._momentum = float(decay), float(momentum)
        self._epsilon, self._centered = float(epsilon), bool(centered)

    def _slot_specs(self, var: Variable) -> list[tuple[str, float]]:
        specs = [("rms", 1.0), ("momentum", 0.0)]
        return specs + [("mg", 0.0)] if self._centered else specs

    def _apply_dense(self, grad: Tensor, var: Variable, lr: Tensor, step: Any) -> Any:
        s = self._slots[id(var)]
        return optimizer_ops.apply_rmsprop(var, s["rms"], s["momentum"], grad, lr,
                                           self._decay, self._momentum, self._epsilon,
                                           mg=s.get("mg"))


# -- global step and decayed learning rates --------------------------------------------------------


_eager_global_step: list[Variable] = []


def get_global_step(graph: Graph | None = None) -> Variable | None:
    """The global step variable (of ``graph``, or the eager one), or ``None``."""
    if graph is None and active_graph() is None:
        return _eager_global_step[0] if _eager_global_step else None
    found = (graph or get_default_graph()).get_collection(GLOBAL_STEP)
    return found[0] if found else None


def create_global_step(graph: Graph | None = None) -> Variable:
    """A new int64 ``global_step`` variable (non-trainable, starting at 0)."""
    if get_global_step(graph) is not None:
        raise ValueError("global_step already exists.")
    if graph is None and active_graph() is None:
        _eager_global_step.append(Variable(np.int64(0), trainable=False, name="global_step"))
        return _eager_global_step[0]
    g = graph or get_default_graph()
    with g.as_default():
        step = Variable(np.int64(0), trainable=False, name="global_step")
    g.add_to_collection(GLOBAL_STEP, step)
    return step


def get_or_create_global_step(graph: Graph | None = None) -> Variable:
    """The global step variable, created if it does not exist yet."""
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def exponential_decay(learning_rate: float, global_step: Any, decay_steps: int,
                      decay_rate: float, staircase: bool = False,
                      name: str | None = None) -> Tensor:
    """``learning_rate * decay_rate ** (global_step / decay_steps)`` (floored if staircase)."""
    p = math_ops.cast(convert_to_tensor(global_step), dtypes.float32) / float(decay_steps)
    if staircase:
        p = math_ops.floor(p)
    return math_ops.multiply(float(learning_rate), math_ops.pow(float(decay_rate), p), name=name)


def piecewise_constant(x: Any, boundaries: list, values: list, name: str | None = None
                       ) -> Tensor:
    """``values[i]`` for the first ``i`` with ``x <= boundaries[i]``, else ``values[-1]``."""
    from .ops.array_ops import where

    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of values must be one more than the length of boundaries")
    s = math_ops.cast(convert_to_tensor(x), dtypes.float64)
    out = convert_to_tensor(float(values[-1]), dtype=dtypes.float32)
    for b, v in zip(reversed(boundaries), reversed(values[:-1])):
        out = where(math_ops.less_equal(s, float(b)), float(v), out)
    return out
