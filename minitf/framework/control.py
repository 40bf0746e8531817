"""``tf.group`` and ``tf.no_op``: ops that only order other ops (the ``NoOp`` op type is
defined in ``minitf/ops/control_ops.py``; these run it by type through ``execute``)."""

from __future__ import annotations

from typing import Any

from .execute import execute
from .graph import active_graph
from .session import _NoOpResult
from .tensor import is_symbolic


def no_op(name: str | None = None) -> Any:
    """An op that does nothing (eagerly: an object whose ``run()`` does nothing)."""
    if active_graph() is None:
        return _NoOpResult()
    return execute("NoOp", [], name=name)


def group(*inputs: Any, name: str | None = None) -> Any:
    """One op that runs all ``inputs`` (ops or tensors) when run. Eagerly: a no-op."""
    graph_inputs = [x for x in inputs if x is not None and not isinstance(x, _NoOpResult)
                    and (is_symbolic(x) or hasattr(x, "graph") and x.graph is not None)]
    if active_graph() is None and not graph_inputs:
        return _NoOpResult()
    g = active_graph() or graph_inputs[0].graph
    with g.as_default():
        return execute("NoOp", [], name=name or "group_deps", control_inputs=graph_inputs)
