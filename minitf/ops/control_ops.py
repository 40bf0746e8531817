"""``tf.group`` and ``tf.no_op``: operations that only order other operations."""

from __future__ import annotations

from typing import Any

from ..framework.execute import execute
from ..framework.graph import active_graph
from ..framework.registry import defop, tf_export
from ..framework.session import _NoOpResult
from ..framework.tensor import is_symbolic

defop("NoOp", lambda shapes, dtypes, attrs: [], lambda rt: None, None, num_outputs=0,
      doc="Does nothing; with control inputs it groups other ops.")


@tf_export("no_op")
def no_op(name: str | None = None) -> Any:
    if active_graph() is None:
        return _NoOpResult()
    return execute("NoOp", [], name=name)


@tf_export("group")
def group(*inputs: Any, name: str | None = None) -> Any:
    """One op that runs all ``inputs`` (ops or tensors) when run. Eagerly: a no-op."""
    graph_inputs = [x for x in inputs if x is not None and not isinstance(x, _NoOpResult)
                    and (is_symbolic(x) or hasattr(x, "graph") and x.graph is not None)]
    if active_graph() is None and not graph_inputs:
        return _NoOpResult()
    g = active_graph() or graph_inputs[0].graph
    with g.as_default():
        return execute("NoOp", [], name=name or "group_deps", control_inputs=graph_inputs)
