"""TF1's recurrent API: ``tf.compat.v1.nn.rnn_cell.*`` and ``tf.compat.v1.nn.dynamic_rnn``.

The cells keep TF1's variables and layouts: one ``kernel`` [input + units, gates * units] over
the concatenation ``[x, h]`` and a ``bias``, LSTM gates in TF1's order i, j, f, o with
``forget_bias`` added at run time, LSTM state ``LSTMStateTuple(c, h)``, and GRU's separate
``gates`` (r, u; bias starting at 1) and ``candidate`` weights. Variables are created on the
first call, named ``<scope>/<cell>/kernel`` (scope ``rnn`` in ``dynamic_rnn``).

``dynamic_rnn`` runs ``BasicRNNCell`` and the LSTM cells as the fused ``RNNSequence`` op (their
weights are sliced and reordered into Keras's layout, a few small ops) and any other cell step
by step. As in TF1, outputs past a sequence's ``sequence_length`` are zeros and its state is
copied through. minitf needs the number of time steps to be known when the graph is built.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from typing import Any

import numpy as np

from ..framework.execute import convert_to_tensor
from ..framework.graph import active_graph, name_scope
from ..framework.variables import Variable
from ..keras import initializers
from ..ops import array_ops, math_ops, rnn_ops

LSTMStateTuple = namedtuple("LSTMStateTuple", ["c", "h"])
LSTMStateTuple.__doc__ = "An LSTM state: the cell state ``c`` and the output ``h``."


def _root_scope() -> Any:
    """Variables get their full TF1 name (``rnn/lstm_cell/kernel``) whatever scope is open."""
    g = active_graph()
    return g.name_scope(None) if g is not None else contextlib.nullcontext()


class RNNCell:
    """Base class: ``cell(inputs, state) -> (output, new_state)``; variables on first call."""

    _default_name = "rnn_cell"

    def __init__(self, num_units: int, activation: Any = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None) -> None:
        if int(num_units) <= 0:
            raise ValueError(f"{type(self).__name__} num_units must be positive, got {num_units}")
        self._num_units = int(num_units)
        self._activation = activation or math_ops.tanh
        self._name = name or self._default_name
        self._vars: dict[str, Variable] = {}

    @property
    def state_size(self) -> Any:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    @property
    def variables(self) -> list[Variable]:
        return list(self._vars.values())

    trainable_variables = weights = variables

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Zeros of the state's structure, for ``batch_size`` rows."""
        def zeros(n: int) -> Any:
            return array_ops.zeros([int(batch_size), n], dtype)

        size = self.state_size
        if isinstance(size, LSTMStateTuple):
            return LSTMStateTuple(zeros(size.c), zeros(size.h))
        if isinstance(size, tuple):
            return tuple(zeros(s) if isinstance(s, int) else None for s in size)
        return zeros(size)

    def _var(self, scope: str, name: str, shape: tuple, init: Any, dtype: Any) -> Variable:
        key = f"{scope}/{name}"
        if key not in self._vars:
            value = init(shape) if callable(init) else np.full(shape, init)
            value = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype)
            with _root_scope():
                self._vars[key] = Variable(value, name=f"{self._scope}/{key}")
        return self._vars[key]

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple:
        inputs = convert_to_tensor(inputs)
        if not hasattr(self, "_scope"):
            self._scope = scope or "rnn"
        if inputs.shape[-1] is None:
            raise ValueError(f"{type(self).__name__}: the input depth must be known, got shape "
                             f"{inputs.shape}")
        return self.call(inputs, state)

    def _linear(self, name: str, args: list, out: int, bias_init: Any = 0.0) -> Any:
        """``concat(args) @ kernel + bias`` with this cell's variables under ``name``."""
        x = args[0] if len(args) == 1 else array_ops.concat(args, 1)
        depth = int(x.shape[-1])
        k = self._var(self._name, f"{name}kernel", (depth, out), initializers.GlorotUniform(),
                      x.dtype.np)
        b = self._var(self._name, f"{name}bias", (out,), bias_init, x.dtype.np)
        return math_ops.matmul(x, k) + b

    def _fused_weights(self, depth: int) -> tuple | None:
        """``(kind, kernel, recurrent_kernel, recurrent_bias)`` in Keras's layout for the
        fused op, or None where the cell has no fused form."""
        return None


class BasicRNNCell(RNNCell):
    """``h' = activation([x, h] @ kernel + bias)``."""

    _default_name = "basic_rnn_cell"

    def call(self, inputs: Any, state: Any) -> tuple:
        h = self._activation(self._linear("", [inputs, state], self._num_units))
        return h, h

    def _fused_weights(self, depth: int) -> tuple | None:
        if self._activation is not math_ops.tanh:
            return None
        k, b = self._vars[f"{self._name}/kernel"], self._vars[f"{self._name}/bias"]
        return "simple", k[:depth], k[depth:], b


class BasicLSTMCell(RNNCell):
    """TF1's LSTM: gates i, j (the candidate), f, o from one kernel; ``forget_bias`` is added
    to f's pre-activation; the state is ``LSTMStateTuple(c, h)`` (``state_is_tuple=False``,
    the concatenation, is not supported)."""

    _default_name = "basic_lstm_cell"

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation: Any = None, reuse: Any = None, name: str | None = None,
                 dtype: Any = None) -> None:
        if not state_is_tuple:
            raise ValueError("minitf's LSTM cells support state_is_tuple=True only")
        super().__init__(num_units, activation, reuse, name, dtype)
        self._forget_bias = float(forget_bias)

    @property
    def state_size(self) -> LSTMStateTuple:
        return LSTMStateTuple(self._num_units, self._num_units)

    def call(self, inputs: Any, state: Any) -> tuple:
        c, h = state
        u = self._num_units
        z = self._linear("", [inputs, h], 4 * u)
        i, j, f, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(i) * self._activation(j)
        h = self._activation(c) * math_ops.sigmoid(o)
        return h, LSTMStateTuple(c, h)

    def _fused_weights(self, depth: int) -> tuple | None:
        if self._activation is not math_ops.tanh:
            return None
        u = self._num_units
        k, b = self._vars[f"{self._name}/kernel"], self._vars[f"{self._name}/bias"]

        def keras_order(a: Any) -> Any:  # TF1's i, j, f, o -> Keras's i, f, c, o
            return array_ops.concat([a[..., :u], a[..., 2 * u:3 * u], a[..., u:2 * u],
                                     a[..., 3 * u:]], -1)

        fb = np.zeros(4 * u, b.dtype.np)
        fb[u:2 * u] = self._forget_bias
        return "lstm", keras_order(k[:depth]), keras_order(k[depth:]), keras_order(b) + fb


class LSTMCell(BasicLSTMCell):
    """``tf.compat.v1.nn.rnn_cell.LSTMCell`` without peepholes, projections or clipping
    (which raise); otherwise the same as ``BasicLSTMCell`` (variables under ``lstm_cell``)."""

    _default_name = "lstm_cell"

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip: Any = None,
                 initializer: Any = None, num_proj: Any = None, proj_clip: Any = None,
                 forget_bias: float = 1.0, state_is_tuple: bool = True, activation: Any = None,
                 reuse: Any = None, name: str | None = None, dtype: Any = None) -> None:
        if use_peepholes or cell_clip is not None or num_proj is not None or proj_clip:
            raise NotImplementedError("minitf's LSTMCell has no peepholes, clipping or "
                                      "projections")
        super().__init__(num_units, forget_bias, state_is_tuple, activation, reuse, name, dtype)


class GRUCell(RNNCell):
    """TF1's GRU (reset before the candidate's matmul): ``gates/kernel`` gives r and u (bias
    starting at 1), ``candidate/kernel`` the candidate; ``h' = u*h + (1-u)*candidate``."""

    _default_name = "gru_cell"

    def call(self, inputs: Any, state: Any) -> tuple:
        u = self._num_units
        gates = math_ops.sigmoid(self._linear("gates/", [inputs, state], 2 * u, 1.0))
        r, z = gates[:, :u], gates[:, u:]
        cand = self._activation(self._linear("candidate/", [inputs, r * state], u))
        h = z * state + (1.0 - z) * cand
        return h, h


class MultiRNNCell(RNNCell):
    """Cells stacked: each one's output is the next one's input; the state is a tuple."""

    def __init__(self, cells: list, state_is_tuple: bool = True) -> None:
        if not cells:
            raise ValueError("MultiRNNCell needs at least one cell")
        if not state_is_tuple:
            raise ValueError("minitf's MultiRNNCell supports state_is_tuple=True only")
        self._cells = list(cells)
        self._vars = {}

    @property
    def state_size(self) -> tuple:
        return tuple(c.state_size for c in self._cells)

    @property
    def output_size(self) -> int:
        return self._cells[-1].output_size

    @property
    def variables(self) -> list[Variable]:
        return [v for c in self._cells for v in c.variables]

    trainable_variables = weights = variables

    def zero_state(self, batch_size: Any, dtype: Any) -> tuple:
        return tuple(c.zero_state(batch_size, dtype) for c in self._cells)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple:
        new = []
        for i, cell in enumerate(self._cells):
            with name_scope(f"cell_{i}"):
                if not hasattr(cell, "_scope"):
                    cell._scope = f"{scope or 'rnn'}/multi_rnn_cell/cell_{i}"
                inputs, s = cell(inputs, state[i])
            new.append(s)
        return inputs, tuple(new)


class _Namespace:
    """``tf.compat.v1.nn.rnn_cell``."""

    RNNCell = RNNCell
    BasicRNNCell = BasicRNNCell
    BasicLSTMCell = BasicLSTMCell
    LSTMCell = LSTMCell
    GRUCell = GRUCell
    MultiRNNCell = MultiRNNCell
    LSTMStateTuple = LSTMStateTuple


rnn_cell = _Namespace()


# -- dynamic_rnn ----------------------------------------------------------------------------------


def _time_mask(sequence_length: Any, batch_like: Any, steps: int, dtype: Any) -> Any:
    """[batch, time] 1.0 where ``t < sequence_length[b]``; ones without lengths."""
    if sequence_length is None:
        return array_ops.ones_like(batch_like[:, :, 0])
    lengths = math_ops.cast(convert_to_tensor(sequence_length), "int32")
    t = array_ops.range(steps, dtype="int32")
    return math_ops.cast(math_ops.less(array_ops.expand_dims(t, 0),
                                       array_ops.expand_dims(lengths, 1)), dtype)


def _flat_state(state: Any) -> list:
    return list(state) if isinstance(state, LSTMStateTuple) else [state]


def dynamic_rnn(cell: RNNCell, inputs: Any, sequence_length: Any = None, initial_state: Any = None,
                dtype: Any = None, parallel_iterations: Any = None, swap_memory: bool = False,
                time_major: bool = False, scope: Any = None) -> tuple:
    """``(outputs, final_state)`` of ``cell`` run over ``inputs`` [batch, time, depth]
    (``time_major=True``: [time, batch, depth]). Past ``sequence_length`` outputs are zeros
    and the state is carried; ``initial_state`` defaults to zeros of ``dtype``."""
    x = convert_to_tensor(inputs)
    if time_major:
        x = array_ops.transpose(x, [1, 0, 2])
    steps, batch = x.shape[1], x.shape[0]
    if steps is None or x.shape[2] is None:
        raise ValueError(f"dynamic_rnn: minitf needs the number of time steps and the input "
                         f"depth when the graph is built, got inputs of shape {x.shape}")
    if initial_state is None and dtype is None:
        raise ValueError("dynamic_rnn: give either initial_state or dtype")
    with name_scope(scope or "rnn"):
        mask = _time_mask(sequence_length, x, steps, x.dtype)
        if initial_state is None:
            if batch is None:
                initial_state = _zero_state_like(cell, x)
            else:
                initial_state = cell.zero_state(batch, dtype)
        outputs, state = _run(cell, x, mask, initial_state, scope or "rnn")
    if time_major:
        outputs = array_ops.transpose(outputs, [1, 0, 2])
    return outputs, state


def _zero_state_like(cell: Any, x: Any) -> Any:
    col = array_ops.zeros_like(x[:, 0, :1])

    def zeros(n: int) -> Any:
        return col + array_ops.zeros([1, n], x.dtype)

    size = cell.state_size
    if isinstance(size, LSTMStateTuple):
        return LSTMStateTuple(zeros(size.c), zeros(size.h))
    if isinstance(size, tuple):
        return tuple(_zero_state_like(c, x) for c in cell._cells)
    return zeros(size)


def _run(cell: Any, x: Any, mask: Any, state: Any, scope: str) -> tuple:
    if isinstance(cell, MultiRNNCell):
        states = []
        for i, c in enumerate(cell._cells):
            if not hasattr(c, "_scope"):
                c._scope = f"{scope}/multi_rnn_cell/cell_{i}"
            x, s = _run(c, x, mask, state[i], scope)
            states.append(s)
        return x, tuple(states)
    if not hasattr(cell, "_scope"):
        cell._scope = scope
    cell(x[:, 0, :], state)  # creates the variables (the ops of this call are unused)
    fused = cell._fused_weights(int(x.shape[2]))
    m3 = array_ops.expand_dims(mask, -1)
    if fused is not None:
        kind, k, r, rb = fused
        parts = _flat_state(state)
        h0 = parts[-1]
        c0 = parts[0] if kind == "lstm" else h0[:, :0]
        # time-major, the layout the CPU kernels run fastest (as the Keras layers)
        hs, cs = rnn_ops.rnn_sequence(kind, rnn_ops.input_projection(x, k, time_major=True),
                                      h0, c0, r, rb, array_ops.transpose(mask), time_major=True)
        final = LSTMStateTuple(cs[-1], hs[-1]) if kind == "lstm" else hs[-1]
        return array_ops.transpose(hs, [1, 0, 2]) * m3, final
    outs = []
    for t in range(int(x.shape[1])):
        out, new = cell(x[:, t, :], state)
        m = mask[:, t:t + 1]
        new_parts = [s + m * (n - s) for s, n in zip(_flat_state(state), _flat_state(new))]
        state = LSTMStateTuple(*new_parts) if isinstance(new, LSTMStateTuple) else new_parts[0]
        outs.append(out * m)
    return array_ops.stack(outs, axis=1), state
