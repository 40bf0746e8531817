"""``tf.profiler``: time every kernel minitf runs, and summarise per op type.

    with tf.profiler.Profile() as prof:
        model.fit(x, y, epochs=1)
    print(prof.table())          # calls, time, share of the total, GFLOP/s per op type
    prof.plot()                  # the same as a horizontal bar chart

A ``Profile`` records each kernel executed while it is active, wherever it runs: eagerly
(``framework/execute.py``), in ``Session.run`` and in ``tf.function`` replay (both go through
``Session._execute``). Only the kernel call is timed, so the difference between the wall time
of the block and the summed kernel time is what the framework itself (Python dispatch, shape
checks, tape recording) costs.

How it differs from TensorFlow's ``tf.profiler``: TF writes a trace to a log directory for
TensorBoard (``tf.profiler.experimental.start(logdir)`` / ``stop()``, or the ``Profile(logdir)``
context manager), and TF1's ``tf.profiler.profile(graph, run_meta, ...)`` reads ``RunMetadata``.
minitf keeps the records in memory and reports them itself; ``experimental.start/stop/Profile``
accept a ``logdir`` for compatibility and ignore it, and there is no ``RunMetadata``.

When no profile is active the only cost is one ``is None`` test per eager op and one per
``Session.run`` (not per op): the timed path is a separate wrapper of the kernels. When ops may
run on a GPU, every timed kernel is followed by ``numba.cuda.synchronize()``, since GPU kernels
run asynchronously and otherwise only their launch would be timed.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .framework import context as _ctx
from .framework import device as _device
from .framework import execute as _execute

__all__ = ["OpStats", "Profile", "experimental", "flop_count", "register_flops", "start", "stop"]

# -- FLOP counts ------------------------------------------------------------------------------------

FlopCounter = Callable[[Sequence[Any], Any, dict], int]
_FLOPS: dict[str, FlopCounter] = {}


def register_flops(op_type: str, counter: FlopCounter) -> None:
    """Teach the profiler the FLOPs of ``op_type``: ``counter(inputs, result, attrs) -> int``
    gets the kernel's input arrays, its result (array or tuple) and the op's attributes."""
    _FLOPS[op_type] = counter


def flop_count(op_type: str, inputs: Sequence[Any], result: Any, attrs: dict) -> int | None:
    """Floating-point operations of one kernel call, or None when unknown for ``op_type``."""
    counter = _FLOPS.get(op_type)
    return None if counter is None else int(counter(inputs, result, attrs))


def _count(counter: FlopCounter | None, inputs: Sequence[Any], result: Any,
           attrs: dict) -> int | None:
    """``counter``'s FLOPs, or None: inputs a counter does not expect must not fail the op."""
    if counter is None:
        return None
    try:
        return int(counter(inputs, result, attrs))
    except (TypeError, ValueError, IndexError, StopIteration):
        return None


def _shape(x: Any) -> tuple[int, ...]:
    # a plain tuple: the CUDA simulator's shape objects do not support negative indices
    return tuple(int(d) for d in np.shape(x))


def _size(x: Any) -> int:
    return math.prod(_shape(x))


def _matmul_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    a = _shape(inputs[0])
    k = a[-2] if attrs.get("transpose_a") else a[-1]
    return 2 * _size(result) * k  # one multiply and one add per (output element, k)


def _conv_flops(dy: Any, filt_shape: tuple[int, ...]) -> int:
    # every output element is a dot product over kh * kw * c_in taps (filter: kh, kw, c_in, c_out)
    return 2 * _size(dy) * math.prod(filt_shape[:-1])


def _conv2d_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    return _conv_flops(result, _shape(inputs[1]))


def _conv2d_backprop_input_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    # the filter is the second input in minitf's (x, w, dy) and in TF's (sizes, w, dy)
    return _conv_flops(inputs[-1], _shape(inputs[1]))


def _conv2d_backprop_filter_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    return _conv_flops(inputs[-1], _shape(result))  # the result is the filter's gradient


def _fused_conv2d_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    return _conv_flops(result, _shape(inputs[1])) + 2 * _size(result)  # + bias + activation


def _conv_pool_flops(inputs: Sequence[Any], result: Any, attrs: dict) -> int:
    # FusedConv2DMaxPool and its backprop ops (x, w, ...): the convolution's products, as
    # if its full-size output (never stored) were computed
    from .backends.conv_geometry import window_2d

    x, w = _shape(inputs[0]), _shape(inputs[1])
    oh, ow, _ = window_2d(x[1], x[2], w[:2], attrs["strides"], attrs["dilations"],
                          attrs["padding"])
    return 2 * x[0] * oh * ow * w[3] * math.prod(w[:3])


register_flops("MatMul", _matmul_flops)
register_flops("BatchMatMul", _matmul_flops)
register_flops("BatchMatMulV2", _matmul_flops)
register_flops("Conv2D", _conv2d_flops)
register_flops("Conv2DBackpropInput", _conv2d_backprop_input_flops)
register_flops("Conv2DBackpropFilter", _conv2d_backprop_filter_flops)
register_flops("FusedConv2D", _fused_conv2d_flops)
for _op in ("FusedConv2DMaxPool", "FusedConv2DMaxPoolBackpropInput",
            "FusedConv2DMaxPoolBackpropFilter"):
    register_flops(_op, _conv_pool_flops)

# Element-wise arithmetic: one flop per output element, by convention (a ReLU's compare, an
# exp's dozen instructions and an add all count as one).
ELEMENTWISE = (
    "Abs AddV2 Add Sub Mul RealDiv Div Neg Square Sqrt Rsqrt Reciprocal Exp Expm1 Log Log1p "
    "Sin Cos Tanh Sigmoid Relu Relu6 Elu Softplus LeakyRelu Maximum Minimum SquaredDifference "
    "Pow FloorDiv FloorMod Sign Floor Ceil Round ReluGrad Relu6Grad SigmoidGrad TanhGrad "
    "SqrtGrad RsqrtGrad ReciprocalGrad SoftplusGrad EluGrad LeakyReluGrad BiasAdd"
).split()
# Reductions: one flop per input element.
REDUCTIONS = ("Sum", "Mean", "Max", "Min", "Prod")

for _t in ELEMENTWISE:
    register_flops(_t, lambda inputs, result, attrs: _size(result))
for _t in REDUCTIONS:
    register_flops(_t, lambda inputs, result, attrs: _size(inputs[0]))

# -- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpStats:
    """One row of a profile: every call of one op type (or one op name)."""

    key: str  # the op type, or the op name with ``by="name"``
    calls: int
    total_s: float  # kernel time, summed over calls
    share: float  # total_s / kernel time of all rows (the shares sum to 1)
    flops: int | None  # summed over calls; None if unknown for this op type

    @property
    def mean_us(self) -> float:
        return 1e6 * self.total_s / self.calls

    @property
    def gflops_per_s(self) -> float | None:
        if self.flops is None or self.total_s <= 0:
            return None
        return self.flops / self.total_s / 1e9


class Profile:
    """Context manager recording every kernel run inside it; see the module docstring.

    ``events`` holds one ``(op_type, op_name, source, seconds, flops)`` tuple per kernel call,
    ``source`` being ``"eager"``, ``"graph"`` (``Session.run``) or ``"tf.function"``.
    Profiles nest: an outer profile also receives the records of an inner one.
    """

    def __init__(self, logdir: str | None = None) -> None:
        self.logdir = logdir  # accepted for TF compatibility; nothing is written
        self.events: list[tuple[str, str, str, float, int | None]] = []
        self.wall_s = 0.0  # time spent inside the ``with`` block(s)
        self._outer: Profile | None = None
        self._t0: float | None = None
        self._first = 0
        self._wrapped: dict[int, tuple[Any, list]] = {}  # id(plan) -> (plan, timed steps)

    # -- recording ------------------------------------------------------------------------------
    def __enter__(self) -> Profile:
        if self._t0 is not None:
            raise RuntimeError("this Profile is already recording")
        self._first = len(self.events)  # records of this entry start here (passed to _outer)
        self._t0 = time.perf_counter()
        self._outer = _ctx.set_profiler(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _ctx.set_profiler(self._outer)
        self.wall_s += time.perf_counter() - self._t0
        self._t0 = None
        self._wrapped.clear()  # drop references to session plans
        if self._outer is not None:
            self._outer.events.extend(self.events[self._first:])
        self._outer = None

    def timed(self, op_type: str, name: str, source: str, forward: Callable) -> Callable:
        """``forward`` wrapped to time each call and record it here."""
        events = self.events
        counter = _FLOPS.get(op_type)
        clock = time.perf_counter
        sync = _gpu_sync()

        def run(rt: Any, *args: Any, **attrs: Any) -> Any:
            t = clock()
            result = forward(rt, *args, **attrs)
            if sync is not None:
                sync()  # GPU kernels run asynchronously: wait, or only the launch is timed
            dt = clock() - t
            events.append((op_type, name, source, dt, _count(counter, args, result, attrs)))
            return result

        return run

    def run_eager(self, opdef: Any, name: str | None, tensors: list, attrs: dict) -> Any:
        """Run one eager op as ``execute._run_eager`` would, timed (the eager hook)."""
        device = _device
        if device.ACTIVE:  # a GPU may be in play: placement decides
            def forward(rt: Any, *args: Any, **kw: Any) -> Any:
                return device.run_eager(opdef, rt, tensors, kw)
        else:
            forward = opdef.forward
        run = self.timed(opdef.type, name or opdef.type, "eager", forward)
        # a GpuTensor's value stays on the device (``_dev``): reading ``_value`` would copy it
        values = [t._dev if hasattr(t, "_dev") else t._value for t in tensors]
        return run(_execute.EAGER, *values, **attrs)

    def timed_steps(self, plan: Any, session: Any) -> list:
        """A Session plan's steps with timed kernels, built once per plan (the graph hook)."""
        hit = self._wrapped.get(id(plan))
        if hit is not None and hit[0] is plan:
            return hit[1]
        source = getattr(session, "_profile_source", "graph")
        timed = [(self.timed(op.type, op.name, source, forward), attrs, ins, outs, nout, op)
                 for forward, attrs, ins, outs, nout, op in plan.steps]
        self._wrapped[id(plan)] = (plan, timed)
        return timed

    def reset(self) -> None:
        """Forget all records."""
        self.events.clear()
        self.wall_s = 0.0

    # -- summaries -----------------------------------------------------------------------------
    @property
    def total_s(self) -> float:
        """Kernel time of all records."""
        return math.fsum(e[3] for e in self.events)

    def stats(self, by: str = "type", source: str | None = None) -> list[OpStats]:
        """Per op type (``by="type"``) or per op name (``by="name"``), slowest first;
        ``source`` keeps only ``"eager"``, ``"graph"`` or ``"tf.function"`` records."""
        if by not in ("type", "name"):
            raise ValueError(f"Profile.stats: by must be 'type' or 'name', not {by!r}")
        col = 0 if by == "type" else 1
        groups: dict[str, list] = {}
        for e in self.events:
            if source is not None and e[2] != source:
                continue
            g = groups.get(e[col])
            if g is None:
                g = groups[e[col]] = [0, 0.0, 0, True]
            g[0] += 1
            g[1] += e[3]
            if e[4] is None:
                g[3] = False
            else:
                g[2] += e[4]
        total = math.fsum(g[1] for g in groups.values())
        rows = [OpStats(k, g[0], g[1], g[1] / total if total > 0 else 0.0, g[2] if g[3] else None)
                for k, g in groups.items()]
        rows.sort(key=lambda r: (-r.total_s, r.key))
        return rows

    def table(self, by: str = "type", top: int | None = None, source: str | None = None) -> str:
        """The profile as aligned text, slowest op first (``top``: only the first rows)."""
        rows = self.stats(by, source)
        shown = rows[:top] if top else rows
        width = max([len(r.key) for r in shown] + [len("op " + by)])
        head = (f"{'op ' + by:<{width}}  {'calls':>7}  {'total ms':>9}  {'share':>6}  "
                f"{'mean us':>9}  {'GFLOP/s':>8}")
        lines = [head, "-" * len(head)]
        for r in shown:
            gf = r.gflops_per_s
            lines.append(f"{r.key:<{width}}  {r.calls:>7d}  {1e3 * r.total_s:>9.3f}  "
                         f"{100 * r.share:>5.1f}%  {r.mean_us:>9.1f}  "
                         f"{_fmt_gflops(gf):>8}")
        if len(shown) < len(rows):
            lines.append(f"... {len(rows) - len(shown)} more op {by}s")
        lines.append(self._summary(rows))
        return "\n".join(lines)

    def _summary(self, rows: list[OpStats]) -> str:
        kernel = math.fsum(r.total_s for r in rows)
        calls = sum(r.calls for r in rows)
        text = f"{calls} kernel calls, {1e3 * kernel:.3f} ms in kernels"
        if self.wall_s > 0:
            text += f" of {1e3 * self.wall_s:.3f} ms wall ({100 * kernel / self.wall_s:.0f}%)"
        return text

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        state = "recording" if self._t0 is not None else "stopped"
        return f"<tf.profiler.Profile: {len(self.events)} kernel calls, {state}>"

    def _repr_html_(self) -> str:
        rows = self.stats()
        peak = max([r.share for r in rows] + [1e-12])
        out = ['<table style="font-family: monospace; border-collapse: collapse">',
               "<tr><th style='text-align:left'>op type</th><th>calls</th><th>total ms</th>"
               "<th style='text-align:left'>share</th><th>mean &micro;s</th><th>GFLOP/s</th></tr>"]
        for r in rows:
            gf = r.gflops_per_s
            bar = (f"<div style='background:#0072B2;height:0.8em;display:inline-block;"
                   f"width:{100 * r.share / peak:.0f}px'></div> {100 * r.share:.1f}%")
            out.append(f"<tr><td style='text-align:left'>{html.escape(r.key)}</td>"
                       f"<td>{r.calls}</td><td>{1e3 * r.total_s:.3f}</td>"
                       f"<td style='text-align:left'>{bar}</td><td>{r.mean_us:.1f}</td>"
                       f"<td>{_fmt_gflops(gf)}</td></tr>")
        out.append(f"</table><p>{html.escape(self._summary(rows))}</p>")
        return "\n".join(out)

    def plot(self, by: str = "type", top: int = 15, ax: Any = None) -> Any:
        """Horizontal bars of kernel time per op type (slowest on top), labelled with the share
        and, where FLOPs are known, GFLOP/s. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        rows = self.stats(by)[:top][::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 3) + 1))
        ms = [1e3 * r.total_s for r in rows]
        colors = ["#0072B2" if r.flops is not None else "#a0a0a0" for r in rows]
        ax.barh([r.key for r in rows], ms, color=colors)
        for y, (r, m) in enumerate(zip(rows, ms)):
            gf = r.gflops_per_s
            label = f" {100 * r.share:.1f}%" + ("" if gf is None else f", {_fmt_gflops(gf)} GFLOP/s")
            ax.text(m, y, label, va="center", fontsize=9)
        ax.set_xlabel("kernel time (ms)")
        ax.set_title(f"Kernel time per op {by} ({sum(r.calls for r in self.stats(by))} calls)")
        ax.set_xlim(0, max(ms + [1e-9]) * 1.35)
        return ax


def _fmt_gflops(gf: float | None) -> str:
    if gf is None:
        return "-"
    return f"{gf:.2f}" if gf >= 0.1 else f"{gf:.2g}"


def _gpu_sync() -> Callable[[], None] | None:
    """``numba.cuda.synchronize`` when ops may run on a GPU, else None (no CUDA import)."""
    if not _device.ACTIVE:
        return None
    from numba import cuda

    return cuda.synchronize


# -- TF-style functions ------------------------------------------------------------------------

_started: list[Profile] = []


def start(logdir: str | None = None) -> Profile:
    """Start recording into a new Profile (``tf.profiler.experimental.start``); returns it."""
    prof = Profile(logdir)
    prof.__enter__()
    _started.append(prof)
    return prof


def stop() -> Profile:
    """Stop the profile ``start()`` began and return it."""
    if not _started or _ctx.state.profiler is not _started[-1]:
        raise RuntimeError("tf.profiler.stop(): no profile started with tf.profiler.start() "
                           "is recording")
    prof = _started.pop()
    prof.__exit__(None, None, None)
    return prof


class _Experimental:
    """``tf.profiler.experimental``: TF's names for the same things."""

    Profile = Profile
    start = staticmethod(start)
    stop = staticmethod(stop)


experimental = _Experimental()
