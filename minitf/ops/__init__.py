"""Every op of minitf. Importing this package registers them all in the registry."""

from . import (  # noqa: F401 - imported to register the ops
    array_ops,
    complex_ops,
    control_ops,
    conv_ops,
    conv_pool_ops,
    image_ops,
    init_ops_v1,
    linalg_ops,
    math_ops,
    nn_ops,
    operators,
    optimizer_ops,
    quant_ops,
    random_ops,
    reduction_ops,
    rnn_ops,
    script_ops,
    signal_ops,
    state_ops,
    variable_scope,
)
