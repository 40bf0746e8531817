"""Recurrent layers: ``Embedding``, the cells ``SimpleRNNCell``/``LSTMCell``/``GRUCell``, the
generic ``RNN(cell)``, the layers ``SimpleRNN``/``LSTM``/``GRU``, and the wrappers
``Bidirectional`` and ``TimeDistributed``, with Keras 3's names, defaults and weight layouts.

``SimpleRNN``, ``LSTM`` and ``GRU`` with their default activations run as one fused op
(``RNNSequence``, see ``minitf/ops/rnn_ops.py``) after a single MatMul that projects every time
step's input; other settings (custom activations, ``recurrent_dropout`` while training, GRU with
``reset_after=False``, any ``RNN(cell)``) run the cell step by step in primitive ops.

Masks travel on the tensor as ``tensor._keras_mask`` (as tf.keras 2 did): ``Embedding(mask_zero=
True)`` sets it and the recurrent layers read it; a masked step leaves the state unchanged and
its output repeats the previous one (zeros with ``zero_output_for_mask=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...framework.api_export import keras_export
from ...framework.variables import Variable
from ...ops import array_ops, math_ops, rnn_ops
from ...ops.nn_ops import dropout as _dropout
from .. import activations, initializers, regularizers
from .base import Layer, layer_input
from .core import _serialize
from .serialization import deserialize

# -- Embedding ----------------------------------------------------------------------------------------


@keras_export("keras.layers.Embedding")
class Embedding(Layer):
    """Row ``i`` of ``embeddings`` (input_dim, output_dim) for every integer id ``i``; with
    ``mask_zero=True`` id 0 is padding and the output carries a mask for the next layers."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, mask_zero: bool = False,
                 **kwargs: Any) -> None:
        kwargs.pop("input_length", None)  # Keras 2 argument, ignored by Keras 3 too
        super().__init__(**kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Embedding needs positive input_dim and output_dim, got "
                             f"{input_dim} and {output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = (initializers.RandomUniform(-0.05, 0.05)
                                       if embeddings_initializer == "uniform"
                                       else initializers.get(embeddings_initializer))
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          self.embeddings_regularizer)
        self.built = True

    def call(self, inputs: Any) -> Any:
        ids = inputs if inputs.dtype.is_integer else math_ops.cast(inputs, "int32")
        out = array_ops.gather(self.embeddings, ids)
        if self.mask_zero:
            out._keras_mask = math_ops.not_equal(ids, 0)
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return math_ops.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero,
                "embeddings_initializer": _serialize(self.embeddings_initializer, initializers),
                "embeddings_regularizer": _serialize(self.embeddings_regularizer, regularizers)}


# -- cells ------------------------------------------------------------------------------------------


def _dropout_mask(like: Any, rate: float) -> Any:
    """A Keras dropout mask (0 or 1/(1-rate)) of ``like``'s shape."""
    return _dropout(array_ops.ones_like(like), rate)


class _Cell(Layer):
    """What the three cells share: options, weights in Keras's layout, dropout masks.

    ``call(inputs, states, training=None)`` returns ``(output, new_states)`` for one step.
    Called on its own, a cell draws new dropout masks every step; inside a recurrent layer
    the masks are drawn once per sequence, as in Keras.
    """

    kind = ""  # 'simple', 'lstm' or 'gru': the fused op's name for this cell
    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"{type(self).__name__} units must be a positive integer, got {units}")
        for what, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"{type(self).__name__} {what} must be in [0, 1), got {rate}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self._masks: tuple[Any, Any] | None = None  # set by the layer for one sequence

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _bias_value(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs the last input dimension "
                             f"to be known, got input shape {input_shape}")
        n = self.gates * self.units
        self.kernel = self.add_weight("kernel", (last, n), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, n),
                                                self.recurrent_initializer,
                                                self.recurrent_regularizer)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_value(),
                                    self.bias_regularizer) if self.use_bias else None
        self.built = True

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def fusable(self) -> bool:
        """Whether the fused op computes this cell (default activations)."""
        return (activations.serialize(self.activation) == "tanh"
                and (self.gates == 1
                     or activations.serialize(self.recurrent_activation) == "sigmoid"))

    def draw_masks(self, inputs: Any, h: Any, training: Any) -> tuple[Any, Any]:
        """Dropout masks for the inputs and the recurrent state (None where not used)."""
        if not training:
            return None, None
        dp = _dropout_mask(inputs, self.dropout) if self.dropout else None
        rdp = _dropout_mask(h, self.recurrent_dropout) if self.recurrent_dropout else None
        return dp, rdp

    def get_initial_state(self, batch_size: int | None = None, dtype: Any = "float32",
                          like: Any = None) -> list:
        """Zero states: [batch_size, units] each, or with ``like`` [batch, ...] its batch."""
        if like is not None:
            col = array_ops.zeros_like(like[:, :1])
            return [col + array_ops.zeros([1, self.units], col.dtype)
                    for _ in range(self._n_states())]
        return [array_ops.zeros([batch_size, self.units], dtype)
                for _ in range(self._n_states())]

    def _n_states(self) -> int:
        return 1

    def __call__(self, inputs: Any, states: Any = None, training: Any = None, **kw: Any) -> Any:
        inputs = layer_input(inputs)
        if not self.built:
            self.build(inputs.shape)
            self.built = True
            self.input_shape_ = inputs.shape
        if states is None:
            states = self.get_initial_state(like=inputs)
        single = not isinstance(states, list | tuple)
        states = [states] if single else list(states)
        masks = self._masks or self.draw_masks(inputs, states[0], training)
        out, new = self.step(inputs, states, *masks)
        return out, (new[0] if single else new)

    def call(self, inputs: Any, states: Any = None, training: Any = None) -> Any:
        return self(inputs, states, training=training)

    def get_config(self) -> dict:
        cfg = {**super().get_config(), "units": self.units,
               "activation": activations.serialize(self.activation),
               "use_bias": self.use_bias,
               "kernel_initializer": _serialize(self.kernel_initializer, initializers),
               "recurrent_initializer": _serialize(self.recurrent_initializer, initializers),
               "bias_initializer": _serialize(self.bias_initializer, initializers),
               "kernel_regularizer": _serialize(self.kernel_regularizer, regularizers),
               "recurrent_regularizer": _serialize(self.recurrent_regularizer, regularizers),
               "bias_regularizer": _serialize(self.bias_regularizer, regularizers),
               "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
               "seed": self.seed}
        if self.gates > 1:
            cfg["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return cfg

    @staticmethod
    def _proj(x: Any, w: Any, dp: Any) -> Any:
        return math_ops.matmul(x if dp is None else x * dp, w)


@keras_export("keras.layers.SimpleRNNCell")
class SimpleRNNCell(_Cell):
    """``h' = activation(x @ kernel + h @ recurrent_kernel + bias)``."""

    kind, gates = "simple", 1

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation, None, **kwargs)

    def step(self, x: Any, states: list, dp: Any, rdp: Any) -> tuple:
        h = states[0]
        z = self._proj(x, self.kernel, dp) + self._proj(h, self.recurrent_kernel, rdp)
        h = self.activation(z if self.bias is None else z + self.bias)
        return h, [h]


@keras_export("keras.layers.LSTMCell")
class LSTMCell(_Cell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras's gate order i, f, c, o;
    states ``[h, c]``. ``unit_forget_bias=True`` starts the forget gate's bias at 1."""

    kind, gates = "lstm", 4

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", unit_forget_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation, recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _n_states(self) -> int:
        return 2

    def _bias_value(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def value(shape: Any, dtype: Any = None, **kw: Any) -> Any:
            parts = [init((u,), dtype), np.ones(u), init((2 * u,), dtype)]
            return np.concatenate([np.asarray(p.numpy() if hasattr(p, "numpy") else p,
                                              np.float32) for p in parts])

        return value

    def step(self, x: Any, states: list, dp: Any, rdp: Any) -> tuple:
        h, c = states
        u = self.units
        z = self._proj(x, self.kernel, dp) + self._proj(h, self.recurrent_kernel, rdp)
        if self.bias is not None:
            z = z + self.bias
        ra = self.recurrent_activation
        i, f, o = ra(z[:, :u]), ra(z[:, u:2 * u]), ra(z[:, 3 * u:])
        c = f * c + i * self.activation(z[:, 2 * u:3 * u])
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


@keras_export("keras.layers.GRUCell")
class GRUCell(_Cell):
    """Gated recurrent unit (Cho et al. 2014), Keras's gate order z, r, h. With
    ``reset_after=True`` (Keras 3's default) the reset gate multiplies ``h @ recurrent_kernel
    + recurrent_bias`` and ``bias`` is (2, 3*units): input bias, recurrent bias."""

    kind, gates = "gru", 3

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", reset_after: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation, recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def fusable(self) -> bool:
        return self.reset_after and super().fusable()

    def step(self, x: Any, states: list, dp: Any, rdp: Any) -> tuple:
        h = states[0]
        u, ra = self.units, self.recurrent_activation
        xp = self._proj(x, self.kernel, dp)
        hd = h if rdp is None else h * rdp
        if self.reset_after:
            hr = math_ops.matmul(hd, self.recurrent_kernel)
            if self.bias is not None:
                xp, hr = xp + self.bias[0], hr + self.bias[1]
            z = ra(xp[:, :u] + hr[:, :u])
            r = ra(xp[:, u:2 * u] + hr[:, u:2 * u])
            hh = self.activation(xp[:, 2 * u:] + r * hr[:, 2 * u:])
        else:
            if self.bias is not None:
                xp = xp + self.bias
            rk = self.recurrent_kernel
            hr = math_ops.matmul(hd, rk[:, :2 * u])
            z = ra(xp[:, :u] + hr[:, :u])
            r = ra(xp[:, u:2 * u] + hr[:, u:])
            hh = self.activation(xp[:, 2 * u:] + math_ops.matmul(r * hd, rk[:, 2 * u:]))
        h = z * h + (1.0 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        return {**super().get_config(), "reset_after": self.reset_after}


# -- the recurrent layer ----------------------------------------------------------------------------


def _time_mask(mask: Any, like: Any) -> Any:
    """A [batch, time] float mask (1 = real step) in ``like``'s dtype."""
    return math_ops.cast(mask, like.dtype)


@keras_export("keras.layers.RNN")
class RNN(Layer):
    """Runs ``cell`` over the time axis of [batch, time, features] inputs.

    ``return_sequences``: every step's output, else the last; ``return_state``: also the final
    states; ``go_backwards``: the sequence in reverse (outputs in reversed order, as Keras);
    ``stateful``: the final states of a batch start the next (``reset_states()`` zeroes them;
    the batch size must stay fixed). ``unroll`` is accepted and ignored.
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        if isinstance(cell, list | tuple):
            raise TypeError("RNN takes one cell; stack layers instead of a list of cells")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.unroll, self.zero_output_for_mask = bool(unroll), bool(zero_output_for_mask)
        self._state_vars: list[Variable] | None = None

    @property
    def states(self) -> list | None:
        return self._state_vars

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs [batch, time, "
                             f"features], got shape {input_shape}")
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))
            self.cell.built = True
        self._weights = self.cell._weights  # the same list: the layer's weights are the cell's
        self._losses_fns = self.cell._losses_fns
        self.built = True

    def __call__(self, inputs: Any, training: Any = None, mask: Any = None,
                 initial_state: Any = None, **kwargs: Any) -> Any:
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        return super().__call__(inputs, training=training, mask=mask,
                                initial_state=initial_state, **kwargs)

    # -- states ---------------------------------------------------------------------------------
    def _initial(self, x: Any, initial_state: Any) -> list:
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, list | tuple) \
                else [initial_state]
            return [layer_input(s) for s in states]
        if not self.stateful:
            return self.cell.get_initial_state(like=x[:, 0, :])
        if self._state_vars is None:
            batch = x.shape[0]
            if batch is None:
                raise ValueError(f"stateful {type(self).__name__} '{self.name}' needs a fixed "
                                 "batch size (give the Input a batch_size)")
            from ...framework.function import init_scope

            with init_scope():
                self._state_vars = [Variable(np.zeros((batch, self.cell.units), np.float32),
                                             trainable=False, name=f"{self.name}/state_{i}")
                                    for i in range(self.cell._n_states())]
        return [v.read_value() for v in self._state_vars]

    def reset_states(self, states: Any = None) -> None:
        """Zero the states of a stateful layer (or set them to ``states``)."""
        if self._state_vars is None:
            return
        values = states if states is not None else [None] * len(self._state_vars)
        values = values if isinstance(values, list | tuple) else [values]
        for v, s in zip(self._state_vars, values):
            v.assign(np.zeros(v.shape, np.float32) if s is None else np.asarray(s, np.float32))

    reset_state = reset_states

    # -- running --------------------------------------------------------------------------------
    def call(self, inputs: Any, training: Any = None, mask: Any = None,
             initial_state: Any = None) -> Any:
        x = inputs
        fmask = None if mask is None else _time_mask(mask, x)
        if self.go_backwards:
            x = x[:, ::-1]
            fmask = None if fmask is None else fmask[:, ::-1]
        states = self._initial(x, initial_state)
        cell = self.cell
        dp, rdp = cell.draw_masks(x[:, 0, :], states[0], training) if isinstance(cell, _Cell) \
            else (None, None)
        if isinstance(cell, _Cell) and cell.fusable() and rdp is None:
            hs, states = self._fused(x, states, fmask, dp)
        else:
            hs, states = self._loop(x, states, fmask, (dp, rdp), training)
        if self.stateful:
            for v, s in zip(self._state_vars, states):
                v.assign(s)
        if self.return_sequences:
            out = hs
            if fmask is not None and self.zero_output_for_mask:
                out = out * array_ops.expand_dims(fmask, -1)
            if mask is not None:
                out._keras_mask = mask
        else:
            out = states[0] if hs is None else hs[:, -1]
        return [out, *states] if self.return_state else out

    def _fused(self, x: Any, states: list, fmask: Any, dp: Any) -> tuple:
        """One MatMul for every step's input projection, then the fused recurrence, both
        time-major (each step's rows contiguous: the CPU kernels' faster layout). Returns the
        states batch-major if the layer returns sequences (else None), and the last states."""
        cell = self.cell
        xp = rnn_ops.input_projection(x if dp is None else x * array_ops.expand_dims(dp, 1),
                                      cell.kernel, time_major=True)
        n = cell.gates * cell.units
        if cell.bias is None:
            rb = array_ops.zeros([n], xp.dtype)
        elif cell.kind == "gru":
            xp, rb = xp + cell.bias[0], cell.bias[1]
        else:
            rb = cell.bias
        h0 = states[0]
        c0 = states[1] if cell.kind == "lstm" else h0[:, :0]
        mask = (array_ops.ones_like(xp[:, :, 0]) if fmask is None
                else array_ops.transpose(fmask))
        hs, cs = rnn_ops.rnn_sequence(cell.kind, xp, h0, c0, cell.recurrent_kernel, rb, mask,
                                      time_major=True)
        last = [hs[-1], cs[-1]] if cell.kind == "lstm" else [hs[-1]]
        return (array_ops.transpose(hs, [1, 0, 2]) if self.return_sequences else None), last

    def _loop(self, x: Any, states: list, fmask: Any, masks: tuple, training: Any) -> tuple:
        """The cell called once per step (a Python loop: the number of steps must be known)."""
        steps = x.shape[1]
        if steps is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' runs its cell step by step and "
                             f"needs a known number of time steps, got input shape {x.shape}")
        cell = self.cell
        is_keras_cell = isinstance(cell, _Cell)
        if is_keras_cell:
            cell._masks = masks
        outs = []
        try:
            for t in range(steps):
                out, new = cell(x[:, t, :], states, training=training)
                new = list(new) if isinstance(new, list | tuple) else [new]
                if fmask is not None:
                    m = fmask[:, t:t + 1]
                    new = [s + m * (n - s) for s, n in zip(states, new)]
                    out = outs[-1] + m * (out - outs[-1]) if outs else out * m
                states = new
                outs.append(out)
        finally:
            if is_keras_cell:
                cell._masks = None
        return array_ops.stack(outs, axis=1), states

    def get_config(self) -> dict:
        cfg = {**super().get_config(), "return_sequences": self.return_sequences,
               "return_state": self.return_state, "go_backwards": self.go_backwards,
               "stateful": self.stateful, "unroll": self.unroll,
               "zero_output_for_mask": self.zero_output_for_mask}
        if type(self) is RNN:
            cfg["cell"] = {"class_name": type(self.cell).__name__,
                           "config": self.cell.get_config()}
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        config = dict(config)
        if cls is RNN:
            config["cell"] = deserialize_layer(config["cell"])
        return cls(**config)


_RNN_FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
              "zero_output_for_mask")
_LAYER_KEYS = ("name", "trainable", "input_shape", "dtype", "input_dim")


class _FusedRNN(RNN):
    """SimpleRNN, LSTM, GRU: an ``RNN`` over their own cell, configured by the cell's options."""

    cell_class: type = _Cell

    def __init__(self, units: int, **kwargs: Any) -> None:
        rnn_kw = {k: kwargs.pop(k) for k in (*_RNN_FLAGS, *_LAYER_KEYS) if k in kwargs}
        cell = self.cell_class(units, name=f"{type(self).__name__.lower()}_cell", **kwargs)
        super().__init__(cell, **rnn_kw)

    def __getattr__(self, name: str) -> Any:
        # Keras exposes the cell's options on the layer: layer.units, layer.kernel, ...
        if name != "cell" and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(name)

    def get_config(self) -> dict:
        cell_cfg = {k: v for k, v in self.cell.get_config().items()
                    if k not in ("name", "trainable", "input_shape")}
        return {**super().get_config(), **cell_cfg}


@keras_export("keras.layers.SimpleRNN")
class SimpleRNN(_FusedRNN):
    """A fully connected RNN: ``h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

    cell_class = SimpleRNNCell


@keras_export("keras.layers.LSTM")
class LSTM(_FusedRNN):
    """Long short-term memory layer (Keras 3 defaults; states ``[h, c]`` with return_state)."""

    cell_class = LSTMCell


@keras_export("keras.layers.GRU")
class GRU(_FusedRNN):
    """Gated recurrent unit layer (Keras 3 defaults, ``reset_after=True``)."""

    cell_class = GRUCell


# -- wrappers ---------------------------------------------------------------------------------------


def deserialize_layer(spec: dict) -> Layer:
    """A layer (or cell) from ``{"class_name", "config"}``: minitf's or a custom one in
    reach (``custom_object_scope``, registered)."""
    return deserialize(spec)


_MERGE = {
    "concat": lambda a, b: array_ops.concat([a, b], -1),
    "sum": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "ave": lambda a, b: (a + b) * 0.5,
}


@keras_export("keras.layers.Bidirectional")
class Bidirectional(Layer):
    """Runs ``layer`` forwards and a copy of it backwards over the sequence and merges the two
    outputs (``merge_mode``: 'concat', 'sum', 'mul', 'ave' or None for a list). Weights: the
    forward layer's, then the backward layer's."""

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: RNN | None = None, **kwargs: Any) -> None:
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional wraps a recurrent layer, got {layer!r}")
        if merge_mode not in (*_MERGE, None):
            raise ValueError(f"merge_mode must be one of {sorted(_MERGE)} or None, got "
                             f"{merge_mode!r}")
        kwargs.setdefault("name", f"bidirectional_{layer.name}")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        cfg = layer.get_config()
        base = layer.name.removeprefix("forward_")  # Keras' config names it forward_<name>
        self.forward_layer = type(layer).from_config({**cfg, "name": f"forward_{base}"})
        if backward_layer is None:
            backward_layer = type(layer).from_config(
                {**cfg, "name": f"backward_{base}", "go_backwards": not layer.go_backwards})
        self.backward_layer = backward_layer
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self._init_weights = weights

    def build(self, input_shape: Any) -> None:
        self.built = True

    def __call__(self, inputs: Any, training: Any = None, mask: Any = None, **kwargs: Any) -> Any:
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        return super().__call__(inputs, training=training, mask=mask, **kwargs)

    def call(self, inputs: Any, training: Any = None, mask: Any = None,
             initial_state: Any = None) -> Any:
        fw_init = bw_init = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_init, bw_init = initial_state[:half], initial_state[half:]
        fw = self.forward_layer(inputs, training=training, mask=mask, initial_state=fw_init)
        bw = self.backward_layer(inputs, training=training, mask=mask, initial_state=bw_init)
        if not self._weights:
            self._weights = self.forward_layer._weights + self.backward_layer._weights
            if self._init_weights is not None:
                self.set_weights(self._init_weights)
        states: list = []
        if self.return_state:
            states = list(fw[1:]) + list(bw[1:])
            fw, bw = fw[0], bw[0]
        if self.return_sequences:
            bw = bw[:, ::-1]
        out = [fw, bw] if self.merge_mode is None else _MERGE[self.merge_mode](fw, bw)
        if self.return_sequences and mask is not None and self.merge_mode is not None:
            out._keras_mask = mask
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    @property
    def losses(self) -> list[Any]:
        return self.forward_layer.losses + self.backward_layer.losses

    def reset_states(self, states: Any = None) -> None:
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self) -> dict:
        layer_cfg = {**self.forward_layer.get_config(),
                     "name": self.forward_layer.name.removeprefix("forward_")}
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__, "config": layer_cfg},
                "backward_layer": {"class_name": type(self.backward_layer).__name__,
                                   "config": self.backward_layer.get_config()}}

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return cls(**config)


@keras_export("keras.layers.TimeDistributed")
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: [batch, time, ...] -> [batch, time, ...]."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps a layer, got {layer!r}")
        kwargs.setdefault("name", f"time_distributed_{layer.name}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any) -> None:
        self.built = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        steps, rest = inputs.shape[1], list(inputs.shape[2:])
        if steps is None or any(d is None for d in rest):
            raise ValueError(f"TimeDistributed '{self.name}' needs known time and feature "
                             f"dimensions, got input shape {inputs.shape}")
        flat = array_ops.reshape(inputs, [-1, *rest])
        y = self.layer(flat, training=training)
        self._weights = self.layer._weights
        self._losses_fns = self.layer._losses_fns
        out = array_ops.reshape(y, [-1, steps, *[int(d) for d in y.shape[1:]]])
        mask = getattr(inputs, "_keras_mask", None)
        if mask is not None:
            out._keras_mask = mask
        return out

    def get_config(self) -> dict:
        return {**super().get_config(),
                "layer": {"class_name": type(self.layer).__name__,
                          "config": self.layer.get_config()}}

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        return cls(**config)
