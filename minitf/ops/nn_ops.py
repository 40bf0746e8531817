"""Softmax and the fused softmax cross-entropy ops (``tf.nn``).

The cross-entropy ops return two outputs, the loss and ``softmax(logits) - labels``: the second
is exactly the gradient, so backprop costs one multiply. Their gradients are still written in
ops, so second derivatives work too.
"""

from __future__ import annotations

from typing import Any

from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, tf_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape, fmt
from . import _rules
from .array_ops import expand_dims, transpose
from .math_ops import exp, multiply, negative
from .reduction_ops import reduce_sum


def _last_axis_infer(shapes, dtypes, attrs):
    _rules.require(dtypes[0], "f", "softmax")
    if len(shapes[0]) < 1:
        raise ShapeError("logits must have at least one dimension (the classes)")
    return [(shapes[0], dtypes[0])]


def _softmax_grad(op, g):
    y = op.outputs[0]
    return [y * (g - reduce_sum(g * y, -1, keepdims=True))]


def _log_softmax_grad(op, g):
    y = op.outputs[0]
    return [g - exp(y) * reduce_sum(g, -1, keepdims=True)]


defop("Softmax", _last_axis_infer, lambda rt, x: rt.be.softmax(x), _softmax_grad,
      doc="exp(x) / sum(exp(x)) over the last axis, computed stably.", device="kernels")
defop("LogSoftmax", _last_axis_infer, lambda rt, x: rt.be.log_softmax(x), _log_softmax_grad,
      doc="x - log(sum(exp(x))) over the last axis, computed stably.", device="kernels")


def _on_axis(fn_type: str, logits: Any, axis: int, name: str | None) -> Tensor:
    logits = convert_to_tensor(logits)
    rank = len(logits.shape)
    axis = _rules.norm_axis(axis, rank)
    if axis == rank - 1:
        return execute(fn_type, [logits], name=name)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return transpose(execute(fn_type, [transpose(logits, perm)]), perm)


@tf_export("nn.softmax")
def softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    """exp(logits) / sum(exp(logits)) along ``axis``."""
    return _on_axis("Softmax", logits, axis, name)


@tf_export("nn.log_softmax")
def log_softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    """log(softmax(logits)), without overflow for large logits."""
    return _on_axis("LogSoftmax", logits, axis, name)


def _softmax_backprop_grad(g_bp: Tensor, softmax_: Tensor) -> Tensor:
    """Gradient through the ``softmax(logits) - labels`` output, with respect to logits."""
    return softmax_ * (g_bp - reduce_sum(g_bp * softmax_, -1, keepdims=True))


def _xent_infer(shapes, dtypes, attrs):
    logits, labels = shapes
    d = _rules.same_dtype(dtypes, ["logits", "labels"])
    _rules.require(d, "f", "softmax_cross_entropy_with_logits")
    if len(logits) < 1 or not TensorShape(logits).is_compatible_with(labels):
        raise ShapeError(f"logits and labels must have the same shape, got {fmt(logits)} and "
                         f"{fmt(labels)}")
    return [(logits[:-1], d), (logits, d)]


def _xent_grad(op, g_loss, g_bp):
    logits, labels = op.inputs
    backprop = op.outputs[1]
    grads_logits = grads_labels = None
    if g_loss is not None:
        gl = expand_dims(g_loss, -1)
        grads_logits = gl * backprop
        grads_labels = gl * negative(log_softmax(logits))
    if g_bp is not None:
        extra = _softmax_backprop_grad(g_bp, backprop + labels)
        grads_logits = extra if grads_logits is None else grads_logits + extra
        grads_labels = negative(g_bp) if grads_labels is None else grads_labels - g_bp
    return [grads_logits, grads_labels]


defop("SoftmaxCrossEntropyWithLogits", _xent_infer,
      lambda rt, logits, labels: rt.be.softmax_xent(logits, labels), _xent_grad, num_outputs=2,
      doc="Fused, stable softmax + cross-entropy over the last axis: (loss, softmax - labels).",
      device="kernels")


def _sparse_xent_infer(shapes, dtypes, attrs):
    logits, labels = shapes
    _rules.require(dtypes[0], "f", "sparse_softmax_cross_entropy_with_logits")
    if not dtypes[1].is_integer:
        raise ShapeError(f"labels must be integer class ids, got {dtypes[1].name} (for one-hot "
                         "labels use softmax_cross_entropy_with_logits)")
    if len(logits) < 1 or not TensorShape(logits[:-1]).is_compatible_with(labels):
        raise ShapeError(f"labels must have the shape of logits without the last axis: logits "
                         f"{fmt(logits)}, labels {fmt(labels)}")
    return [(logits[:-1], dtypes[0]), (logits, dtypes[0])]


def _sparse_xent_grad(op, g_loss, g_bp):
    logits = op.inputs[0]
    backprop = op.outputs[1]
    grads = None
    if g_loss is not None:
        grads = expand_dims(g_loss, -1) * backprop
    if g_bp is not None:
        soft = softmax(logits)  # not backprop + one_hot(labels): needs no static class count
        extra = _softmax_backprop_grad(g_bp, soft)
        grads = extra if grads is None else grads + extra
    return [grads, None]


defop("SparseSoftmaxCrossEntropyWithLogits", _sparse_xent_infer,
      lambda rt, logits, labels: rt.be.sparse_softmax_xent(logits, labels), _sparse_xent_grad,
      num_outputs=2, doc="As SoftmaxCrossEntropyWithLogits with integer class ids as labels.",
      device="kernels")


@tf_export("nn.softmax_cross_entropy_with_logits", "nn.softmax_cross_entropy_with_logits_v2")
def softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """Cross-entropy between ``labels`` (probabilities) and ``softmax(logits)``, per example."""
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
    if labels.dtype != logits.dtype and labels.dtype.is_floating:
        from .math_ops import cast

        labels = cast(labels, logits.dtype)
    if _rules.norm_axis(axis, len(logits.shape)) != len(logits.shape) - 1:
        perm = list(range(len(logits.shape)))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        logits, labels = transpose(logits, perm), transpose(labels, perm)
    loss, _ = execute("SoftmaxCrossEntropyWithLogits", [logits, labels], name=name)
    return loss


@tf_export("nn.sparse_softmax_cross_entropy_with_logits")
def sparse_softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                             name: str | None = None) -> Tensor:
    """Cross-entropy with integer class ids: ``labels[i]`` in [0, classes)."""
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    loss, _ = execute("SparseSoftmaxCrossEntropyWithLogits", [logits, labels], name=name)
    return loss


@tf_export("nn.bias_add")
def bias_add(value: Any, bias: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """value + bias, with bias broadcast along the last axis."""
    from .math_ops import add

    return add(value, bias, name=name)


@tf_export("nn.l2_loss")
def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2."""
    t = convert_to_tensor(t)
    return multiply(reduce_sum(t * t), 0.5, name=name)


@tf_export("nn.compute_average_loss")
def compute_average_loss(per_example_loss: Any, sample_weight: Any = None,
                         global_batch_size: Any = None) -> Tensor:
    """sum(per_example_loss * sample_weight) / global_batch_size: the loss a replica minimizes so
    that the gradients summed over the replicas are those of the global batch's mean. The
    default global_batch_size is this batch's size times the active strategy's replicas."""
    from ..framework import context
    from .array_ops import shape
    from .math_ops import cast, divide

    loss = convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = multiply(loss, cast(sample_weight, loss.dtype))
    if global_batch_size is None:
        strategy = context.state.strategy
        replicas = 1 if strategy is None else strategy.num_replicas_in_sync
        local = shape(loss)[0] if loss.shape.rank else 1
        global_batch_size = multiply(cast(local, loss.dtype), float(replicas))
    return divide(reduce_sum(loss), cast(global_batch_size, loss.dtype))


@tf_export("nn.moments")
def moments(x: Any, axes: Any, keepdims: bool = False, name: str | None = None):
    """Mean and variance of ``x`` over ``axes``."""
    from .reduction_ops import reduce_mean

    mean = reduce_mean(x, axes, keepdims=True)
    variance = reduce_mean((x - mean) * (x - mean), axes, keepdims=True)
    if not keepdims:
        from .array_ops import squeeze

        mean, variance = squeeze(mean, axes), squeeze(variance, axes)
    return mean, variance


@tf_export("nn.dropout")
def dropout(x: Any, rate: float, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Zero each element with probability ``rate`` and scale the rest by 1/(1 - rate)."""
    from .math_ops import cast, divide, greater_equal
    from .random_ops import uniform

    x = convert_to_tensor(x)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    if rate == 0:
        return x
    shape = noise_shape if noise_shape is not None else x.shape
    if any(d is None for d in shape):
        from .array_ops import ones_like

        keep = greater_equal(uniform_like(ones_like(x), seed), rate)
    else:
        keep = greater_equal(uniform(list(shape), dtype=x.dtype, seed=seed), rate)
    return divide(x * cast(keep, x.dtype), 1.0 - rate, name=name)


def uniform_like(x: Tensor, seed: int | None = None) -> Tensor:
    from .random_ops import random_uniform_like

    return random_uniform_like(x, seed)

