"""Every op of minitf. Importing this package registers them all in the registry."""

from . import (  # noqa: F401 - imported to register the ops
    array_ops,
    control_ops,
    conv_ops,
    conv_pool_ops,
    math_ops,
    nn_ops,
    operators,
    optimizer_ops,
    random_ops,
    reduction_ops,
    script_ops,
    state_ops,
)
