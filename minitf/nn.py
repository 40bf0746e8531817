"""``tf.nn``: activations, softmax and losses on logits."""

from .ops.conv_ops import avg_pool2d, conv2d, max_pool2d  # noqa: F401
from .ops.math_ops import (  # noqa: F401
    elu,
    leaky_relu,
    relu,
    relu6,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    softplus,
    tanh,
)
from .ops.nn_ops import (  # noqa: F401
    bias_add,
    dropout,
    l2_loss,
    log_softmax,
    moments,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)

softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits
max_pool = max_pool2d
avg_pool = avg_pool2d


def __getattr__(name: str):  # noqa: ANN202 - module attribute hook
    # TF1's recurrent API (tf.compat.v1.nn.rnn_cell, dynamic_rnn), loaded on first use
    if name in ("rnn_cell", "dynamic_rnn"):
        from .compat import rnn

        return getattr(rnn, name)
    raise AttributeError(f"module 'minitf.nn' has no attribute {name!r}")
