"""Layer pairs ``Sequential`` runs as one op: a ``Conv2D`` (with bias, ReLU or linear)
followed by a ``MaxPooling2D`` becomes ``FusedConv2DMaxPool`` (``minitf/ops/conv_pool_ops.py``),
which pools each block of the convolution while it is in cache instead of writing and
re-reading the full-size output, forward and backward (the first MNIST CNN layer's output is
5.5 MB per batch of 64). Values and gradients are those of the two layers run one after the
other; ``tf.config.optimizer.set_experimental_options({"remapping": False})`` turns it off.

Only for ops placed on the CPU (the op has no GPU kernel), and only once both layers are built
(their first call, in ``build`` or the first trace, runs them one by one and records their
shapes for ``summary``).
"""

from __future__ import annotations

from typing import Any

from .. import config
from ..framework import device
from ..framework.graph import name_scope
from ..ops import conv_pool_ops
from . import activations
from .layers.base import Layer, layer_input
from .layers.conv import Conv2D
from .layers.pooling import MaxPooling2D


def conv_pool(conv: Layer, pool: Layer | None) -> bool:
    """Whether ``conv`` then ``pool`` can run as one ``FusedConv2DMaxPool``."""
    return (pool is not None and type(conv) is Conv2D and type(pool) is MaxPooling2D
            and conv.built and pool.built and conv.output_shape_ is not None
            and pool.output_shape_ is not None and conv.bias is not None
            and conv.activation in (activations.relu, activations.linear)
            and config.get_experimental_options()["remapping"] and device.resolve() == "CPU")


def call_conv_pool(conv: Conv2D, pool: MaxPooling2D, inputs: Any) -> Any:
    """``pool(conv(inputs))`` as one op, named under the convolution's scope."""
    x = conv._float_input(layer_input(inputs))
    act = "relu" if conv.activation is activations.relu else "linear"
    with name_scope(conv.name):
        return conv_pool_ops.fused_conv2d_max_pool(
            x, conv.kernel, conv.bias, conv.strides, conv.padding, conv.dilation_rate, act,
            pool.pool_size, pool.strides, pool.padding)
