"""``tf.errors``."""

from .framework.errors import (  # noqa: F401
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OpError,
    UnimplementedError,
)
