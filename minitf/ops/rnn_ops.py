"""Recurrent ops: a whole SimpleRNN, LSTM or GRU sequence as one op, its backward pass through
time as another (``RNNSequence``, ``RNNSequenceGrad``).

The input projection of every step (``x @ kernel``) is one MatMul done before the op, so the op
itself only runs the recurrence: per step one ``h @ recurrent_kernel`` and one fused kernel for
the gates and the state update. The backward op computes all gradients in one pass from a
workspace the forward op saved. Its own gradient (second derivatives) is written in primitive
ops: the recurrence is unrolled with :func:`cell_step` and differentiated twice.

Layouts and gate orders are Keras's; see ``minitf/backends/rnn_numpy.py`` for the arrays.
"""

from __future__ import annotations

from typing import Any

from ..backends.rnn_numpy import GATES, WORKSPACE
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop
from ..framework.tensor_shape import fmt
from . import _rules
from .array_ops import reshape, stack, transpose, zeros_like
from .math_ops import matmul, sigmoid, tanh

_IN_NAMES = ["inputs", "h0", "c0", "recurrent_kernel", "recurrent_bias", "mask"]


def _eq(a: Any, b: Any) -> bool:
    return a is None or b is None or a == b


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ShapeError(msg)


def _sizes(shapes: Any, dtypes: Any, attrs: dict) -> tuple:
    """Checks the six inputs of RNNSequence; ``(batch, time, units, dtype)``."""
    tm = attrs.get("time_major", False)
    cell = attrs["cell"]
    _check(cell in GATES, f"cell must be one of {sorted(GATES)}, got {cell!r}")
    d = _rules.same_dtype(dtypes[:6], _IN_NAMES)
    _rules.require(d, "f", "RNNSequence")
    xp, h0, c0, r, rb, mask = shapes
    _check(len(r) == 2, f"recurrent_kernel must be [units, gates*units], got {fmt(r)}")
    u, gates = r[0], GATES[cell]
    _check(_eq(r[1], None if u is None else gates * u),
           f"a {cell} recurrent_kernel is [units, {gates}*units], got {fmt(r)}")
    g = r[1]
    order = "time, batch" if tm else "batch, time"
    _check(len(xp) == 3 and _eq(xp[2], g),
           f"inputs must be [{order}, {g}] (the input projection), got {fmt(xp)}")
    n, steps = (xp[1], xp[0]) if tm else (xp[0], xp[1])
    _check(len(h0) == 2 and _eq(h0[0], n) and _eq(h0[1], u),
           f"h0 must be [batch, units] = [{n}, {u}], got {fmt(h0)}")
    cu = u if cell == "lstm" else 0
    _check(len(c0) == 2 and _eq(c0[0], n) and _eq(c0[1], cu),
           f"c0 must be [batch, {cu}] for a {cell} cell, got {fmt(c0)}")
    _check(len(rb) == 1 and _eq(rb[0], g), f"recurrent_bias must be [{g}], got {fmt(rb)}")
    want = (steps, n) if tm else (n, steps)
    _check(len(mask) == 2 and _eq(mask[0], want[0]) and _eq(mask[1], want[1]),
           f"mask must be [{order}] = [{want[0]}, {want[1]}], got {fmt(mask)}")
    return n, steps, u, d


def _seq_infer(shapes, dtypes, attrs):
    n, steps, u, d = _sizes(shapes, dtypes, attrs)
    cell = attrs["cell"]
    ws = None if u is None else WORKSPACE[cell] * u
    lead = (steps, n) if attrs.get("time_major", False) else (n, steps)
    return [((*lead, u), d), ((*lead, u if cell == "lstm" else 0), d), ((*lead, ws), d)]


def _grad_infer(shapes, dtypes, attrs):
    n, steps, u, d = _sizes(shapes[:6], dtypes[:6], attrs)
    for name, s, ref in zip(["dhs", "dcs"], shapes[9:], shapes[6:8]):
        _check(len(s) == 3 and all(_eq(a, b) for a, b in zip(s, ref)),
               f"{name} must have the shape of the state sequence {fmt(ref)}, got {fmt(s)}")
    return [(s, d) for s in shapes[:5]]


def _seq_grad(op, dhs, dcs, _dws):
    hs, cs, ws = op.outputs
    dhs = zeros_like(hs) if dhs is None else dhs
    dcs = zeros_like(cs) if dcs is None else dcs
    grads = execute("RNNSequenceGrad", [*op.inputs, hs, cs, ws, dhs, dcs], dict(op.attrs))
    return [*grads, None]


def _seq_grad_grad(op, *g):
    """Second derivatives: the backward pass recomputed in primitive ops and differentiated."""
    xp, h0, c0, r, rb, mask, _, _, _, dhs, dcs = op.inputs
    cell, tm = op.attrs["cell"], op.attrs.get("time_major", False)

    def first(xp, h0, c0, r, rb, dhs, dcs):
        return vjp(lambda *a: unrolled(cell, *a, mask, time_major=tm), [xp, h0, c0, r, rb],
                   [dhs, dcs])

    grads = vjp(first, [xp, h0, c0, r, rb, dhs, dcs], list(g))
    return [*grads[:5], None, None, None, None, *grads[5:]]


defop("RNNSequence", _seq_infer,
      lambda rt, xp, h0, c0, r, rb, mask, cell, time_major=False: rt.be.rnn_sequence(
          cell, xp, h0, c0, r, rb, mask, time_major),
      _seq_grad, num_outputs=3,
      doc="A SimpleRNN/LSTM/GRU recurrence over projected inputs: (states, cell states, "
          "workspace); time_major: the time axis first in every array that has one.")
defop("RNNSequenceGrad", _grad_infer,
      lambda rt, xp, h0, c0, r, rb, mask, hs, cs, ws, dhs, dcs, cell, time_major=False:
      rt.be.rnn_sequence_grad(cell, h0, c0, r, mask, hs, cs, ws, dhs, dcs, time_major),
      _seq_grad_grad, num_outputs=5,
      doc="Backpropagation through time of RNNSequence: gradients of its five float inputs.")


def rnn_sequence(cell: str, xp: Any, h0: Any, c0: Any, r: Any, rb: Any, mask: Any,
                 name: str | None = None, time_major: bool = False) -> tuple:
    """``(hs, cs)``: every step's state [batch, time, units] of a ``cell`` ('simple', 'lstm'
    or 'gru' with ``reset_after=True``) run over the projected inputs ``xp``. With
    ``time_major`` ``xp``, ``mask`` and the results are [time, batch, ...]: each step's rows
    are then contiguous, which the CPU kernels run faster."""
    xp = convert_to_tensor(xp)
    args = [xp] + [convert_to_tensor(a, dtype_hint=xp.dtype) for a in (h0, c0, r, rb, mask)]
    attrs = {"cell": cell, "time_major": True} if time_major else {"cell": cell}
    hs, cs, _ = execute("RNNSequence", args, attrs, name=name)
    return hs, cs


def input_projection(x: Any, kernel: Any, time_major: bool = False) -> Any:
    """``x @ kernel`` for [batch, time, depth] inputs as one 2-D MatMul (its kernel gradient
    is then one GEMM too, not a batch of them summed); batched if the sizes are unknown.
    ``time_major``: the result is [time, batch, units] (``x`` is transposed first)."""
    if time_major:
        x = transpose(x, [1, 0, 2])
    first, second, depth = x.shape[0], x.shape[1], x.shape[2]
    if depth is None or (first is None and second is None):
        return matmul(x, kernel)
    flat = matmul(reshape(x, [-1, depth]), kernel)
    units = kernel.shape[-1]
    return reshape(flat, [-1, second, units] if second is not None else [first, -1, units])


# -- the same recurrence in primitive ops -----------------------------------------------------------


def cell_step(cell: str, p: Any, hr: Any, h: Any, c: Any) -> tuple:
    """One step in primitive ops, the same math as the fused kernels: ``p`` the input
    projection, ``hr = h @ recurrent_kernel + recurrent_bias``; returns ``(h_new, c_new)``."""
    if cell == "simple":
        return tanh(p + hr), c
    u = hr.shape[-1] // GATES[cell]
    if cell == "lstm":
        z = p + hr
        i, f = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u])
        g, o = tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        cn = f * c + i * g
        return o * tanh(cn), cn
    zg = sigmoid(p[:, :u] + hr[:, :u])
    rg = sigmoid(p[:, u:2 * u] + hr[:, u:2 * u])
    hh = tanh(p[:, 2 * u:] + rg * hr[:, 2 * u:])
    return zg * h + (1.0 - zg) * hh, c


def unrolled(cell: str, xp: Any, h0: Any, c0: Any, r: Any, rb: Any, mask: Any,
             time_major: bool = False) -> tuple:
    """``(hs, cs)`` as :func:`rnn_sequence` computes them, one primitive op at a time."""
    if time_major:
        xp, mask = transpose(xp, [1, 0, 2]), transpose(mask)
        hs, cs = unrolled(cell, xp, h0, c0, r, rb, mask)
        return transpose(hs, [1, 0, 2]), transpose(cs, [1, 0, 2])
    if xp.shape[1] is None or r.shape[0] is None:
        raise ValueError(f"RNNSequence: differentiating twice unrolls the recurrence, so the "
                         f"number of steps and units must be known; got inputs {xp.shape} and "
                         f"recurrent_kernel {r.shape}")
    h, c, hs, cs = h0, c0, [], []
    for t in range(xp.shape[1]):
        hn, cn = cell_step(cell, xp[:, t], matmul(h, r) + rb, h, c)
        m = mask[:, t:t + 1]
        h = h + m * (hn - h)
        c = c + m * (cn - c) if cell == "lstm" else c
        hs.append(h)
        cs.append(c)
    return stack(hs, axis=1), stack(cs, axis=1)


def vjp(fn: Any, inputs: list, cotangents: list) -> list:
    """Gradients of ``fn(*inputs)`` (a tuple of tensors) with respect to ``inputs``, weighted
    by ``cotangents`` (None = 0), as minitf ops: a backward subgraph in graph mode, taped ops
    eagerly (so an outer tape differentiates them again)."""
    from ..framework.backprop import GradientTape, backprop
    from ..framework.graph import active_graph
    from ..framework.tensor import is_symbolic

    g = active_graph() or next((x.graph for x in inputs if is_symbolic(x)), None)
    if g is not None:
        with g.as_default():
            start = len(g._ops)
            outs = fn(*inputs)
            seeds = [(o, c) for o, c in zip(outs, cotangents) if c is not None]
            grads = backprop(g._ops[start:], seeds, inputs)
        return [grads.get(id(x)) for x in inputs]
    with GradientTape(persistent=True) as tape:
        for x in inputs:
            tape.watch(x)
        outs = fn(*inputs)
    keep = [(o, c) for o, c in zip(outs, cotangents) if c is not None]
    if not keep:
        return [None] * len(inputs)
    return tape.gradient([o for o, _ in keep], inputs,
                         output_gradients=[c for _, c in keep])
