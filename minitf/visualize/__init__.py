"""``tf.visualize``: draw computation graphs, with values and gradients, inside a notebook.

Three entry points:

* :func:`draw_graph` draws the operations that some fetches depend on (or a whole
  ``tf.Graph``) as an SVG picture. Give it a ``session`` (and ``feed_dict``) and every node
  also shows the value it computes; give it ``grads_of=loss`` as well and every forward node
  shows d loss / d (its output).
* :func:`draw_function` does the same for a plain Python function written for eager mode: the
  function is *traced* into a fresh ``tf.Graph`` (its tensor arguments become placeholders of the
  example inputs' shapes) and that graph is drawn, with the example inputs' values;
  :func:`trace` alone returns that graph, its placeholders, a session and a feed_dict.
* :func:`GraphExplorer` is an ipywidgets widget that steps through the graph in execution order,
  highlighting the current node and showing its inputs, value and gradient.

The drawing is pure Python (no graphviz). The layout is a small Sugiyama-style layered layout:

1. *layering*: every op gets the length of the longest path from a graph input (sources are then
   moved down next to their first consumer, so constants sit just above where they are used);
2. edges that skip layers get invisible "dummy" points in each layer they cross;
3. *ordering*: each layer is sorted by the barycentre (mean position) of its neighbours in the
   layer above, then below, a few times (an op's inputs keep their left-to-right order); the
   ordering with the fewest edge crossings wins;
4. *coordinates*: each node is pulled towards the mean x of its neighbours, keeping the order
   and a minimum gap (a small isotonic regression per layer); long edges are then straightened
   into vertical lines where their neighbours leave room.

Everything is deterministic (creation order breaks ties, numbers are rounded), so the same graph
always gives byte-identical SVG and notebooks stay reproducible.

The package, one job per module: ``selection`` (which ops to draw), ``evaluation`` (their values
and gradients, in one ``Session.run`` that changes no state), ``values`` (short texts of arrays),
``layout`` (the layered layout), ``render`` (SVG; :class:`GraphDrawing`, :func:`draw_graph`),
``tracing`` (:func:`trace`, :func:`draw_function`), ``widget`` (:func:`GraphExplorer`) and
``style`` (node kinds, colours and sizes).
"""

from .render import GraphDrawing, draw_graph
from .style import is_backward
from .tracing import Traced, draw_function, trace
from .values import summarize
from .widget import GraphExplorer

__all__ = ["GraphDrawing", "GraphExplorer", "Traced", "draw_function", "draw_graph", "is_backward",
           "summarize", "trace"]
