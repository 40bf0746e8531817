"""``tf.errors``: the exception types TensorFlow raises, with the same names."""

from __future__ import annotations


class OpError(Exception):
    """An error raised while building or running an op; names the op when known."""

    def __init__(self, message: str, op: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.op = op


class InvalidArgumentError(OpError, ValueError):
    """An op received arguments it cannot work with (shapes, dtypes, values)."""


class FailedPreconditionError(OpError):
    """The system is not in a state to run the op, e.g. an uninitialized variable."""


class NotFoundError(OpError):
    """Something asked for does not exist (a file, a tensor name)."""


class UnimplementedError(OpError):
    """The op or the combination of arguments is not implemented in minitf."""


class InternalError(OpError):
    """A bug in minitf itself; please report it."""
