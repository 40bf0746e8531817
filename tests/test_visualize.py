"""tf.visualize: SVG graph drawings (draw_graph, draw_function) and the GraphExplorer widget."""

from __future__ import annotations

import itertools
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import minitf as tf
from minitf import visualize as viz

SVG = "{http://www.w3.org/2000/svg}"


def _regression_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        with tf.name_scope("dense"):
            w = tf.Variable([[0.5], [-1.0], [2.0]], name="W")
            b = tf.Variable([0.25], name="b")
            out = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.square(out - y), name="loss")
    feed = {x: np.arange(6, dtype=np.float32).reshape(2, 3), y: np.ones((2, 1), np.float32)}
    return g, x, y, w, b, loss, feed


def _nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-name"): g for g in root.iter(SVG + "g")
            if "node" in (g.get("class") or "").split()}


def _texts(el: ET.Element) -> list[str]:
    return [t.text or "" for t in el.iter(SVG + "text")]


def test_svg_is_well_formed_and_names_every_node():
    *_, loss, _ = _regression_graph()
    d = viz.draw_graph(loss)
    root = ET.fromstring(d.svg)
    assert root.tag == SVG + "svg"
    nodes = _nodes(d.svg)
    expected = {"x", "y", "dense/W", "dense/b", "dense/MatMul", "dense/AddV2", "Sub", "Square",
                "loss"}
    assert set(nodes) == expected
    for name in expected:
        assert name in _texts(nodes[name])
    assert "Placeholder" in _texts(nodes["x"]) and "MatMul" in _texts(nodes["dense/MatMul"])
    assert "float32 (?, 3)" in _texts(nodes["x"])  # output dtype and shape
    # one kind per node: placeholders, variables and ops are told apart
    assert "placeholder" in nodes["x"].get("class")
    assert "variable" in nodes["dense/W"].get("class")
    assert "op" in nodes["Square"].get("class").split()
    assert "fetched" in nodes["loss"].get("class")


def test_constants_and_whole_graph():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.constant([3.0, 4.0], name="b")
        tf.add(a, b, name="sum")
    d = viz.draw_graph(g)
    nodes = _nodes(d.svg)
    assert set(nodes) == {"a", "b", "sum"}
    assert "constant" in nodes["a"].get("class")
    legend = ET.fromstring(d.svg).find(f".//{SVG}g[@class='legend']")
    assert "constant" in _texts(legend) and "operation" in _texts(legend)


def test_backward_nodes_are_marked():
    g, _x, _y, w, b, loss, _ = _regression_graph()
    with g.as_default():
        gw, gb = tf.gradients(loss, [w, b])
    d = viz.draw_graph([loss, gw, gb])
    nodes = _nodes(d.svg)
    backward = {n for n, el in nodes.items() if "backward" in el.get("class").split()}
    forward = {n for n, el in nodes.items() if "forward" in el.get("class").split()}
    assert backward and forward
    assert backward == {n for n in nodes if n.startswith("gradients/")}
    assert "loss" in forward and "x" in forward
    assert "backward (gradients/)" in d.svg  # the legend explains the colour
    assert viz.is_backward(gw.op) and not viz.is_backward(loss.op)


def test_values_appear_after_a_run():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.constant([3.0, 4.0], name="b")
        s = tf.add(a, b, name="sum")
    with tf.Session(graph=g) as sess:
        d = viz.draw_graph(s, session=sess)
        assert "= [4, 6]" in _texts(_nodes(d.svg)["sum"])
        assert d.values["sum"][0].tolist() == [4.0, 6.0]
        plain = viz.draw_graph(s)
    assert "= [4, 6]" not in plain.svg


def test_values_and_gradients_of_a_loss():
    g, _x, _y, w, b, loss, feed = _regression_graph()
    sess = tf.Session(graph=g)
    sess.run([w.initializer, b.initializer])
    d = viz.draw_graph(loss, session=sess, feed_dict=feed, grads_of=loss)
    expected_loss = sess.run(loss, feed)
    nodes = _nodes(d.svg)
    assert f"= {float(expected_loss):.4g}" in _texts(nodes["loss"])
    assert "grad 1" in _texts(nodes["loss"])  # d loss / d loss
    assert any(t.startswith("grad ") for t in _texts(nodes["dense/W"]))
    gw = sess.run(tf.gradients(loss, [w])[0], feed)
    np.testing.assert_allclose(d.grads["dense/W"], gw, rtol=1e-5)
    assert "d loss:0 / d (node output)" in d.svg
    # the gradient subgraph is built once: drawing again does not grow the graph
    n_ops = len(g.get_operations())
    d2 = viz.draw_graph(loss, session=sess, feed_dict=feed, grads_of=loss)
    assert len(g.get_operations()) == n_ops
    assert d2.svg == d.svg


def test_unfed_placeholders_and_state_updates_are_not_run():
    g, x, _y, w, b, _loss, feed = _regression_graph()
    with g.as_default():
        step = w.assign_add([[1.0], [1.0], [1.0]])
    sess = tf.Session(graph=g)
    sess.run([w.initializer, b.initializer])
    before = sess.run(w).copy()
    d = viz.draw_graph(g, session=sess, feed_dict={x: feed[x]})  # y not fed
    np.testing.assert_array_equal(sess.run(w), before)  # the assignment never ran
    nodes = _nodes(d.svg)
    assert "(not fed)" in _texts(nodes["y"])
    assert "(not computed)" in _texts(nodes["loss"])
    assert "(writes state: not run)" in _texts(nodes[step.op.name])
    assert "update" in nodes[step.op.name].get("class")
    assert any(t.startswith("= ") for t in _texts(nodes["dense/MatMul"]))


def test_closed_sessions_and_finalized_graphs_give_clear_errors():
    g, _x, _y, w, b, loss, feed = _regression_graph()
    with tf.Session(graph=g) as sess:
        sess.run([w.initializer, b.initializer])
        viz.draw_graph(loss, session=sess, feed_dict=feed)
    with pytest.raises(RuntimeError, match="session is closed"):
        viz.draw_graph(loss, session=sess, feed_dict=feed)
    g.finalize()
    sess = tf.Session(graph=g)
    sess.run([w.initializer, b.initializer])
    assert "= " in viz.draw_graph(loss, session=sess, feed_dict=feed).svg  # running is fine
    with pytest.raises(RuntimeError, match="finalized"):
        viz.draw_graph(loss, session=sess, feed_dict=feed, grads_of=loss)


def test_random_ops_do_not_change_the_random_stream():
    def build():
        g = tf.Graph()
        with g.as_default():
            r = tf.random.normal([3], name="r")
            out = tf.multiply(r, 2.0, name="out")
        return g, r, out

    tf.random.set_seed(7)
    g, r, out = build()
    with tf.Session(graph=g) as sess:
        viz.draw_graph(out, session=sess)
        first = sess.run(r)
    tf.random.set_seed(7)
    g, r, out = build()
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(r), first)


def test_output_is_deterministic():
    def drawing():
        g, _x, _y, w, b, loss, feed = _regression_graph()
        with g.as_default():
            gw, gb = tf.gradients(loss, [w, b])
        sess = tf.Session(graph=g)
        sess.run([w.initializer, b.initializer])
        return viz.draw_graph([loss, gw, gb], session=sess, feed_dict=feed, grads_of=loss)

    d = drawing()
    assert d.svg == d.to_svg()
    again = drawing()  # a new graph, new objects: the same picture
    assert again.svg == d.svg
    assert not re.search(r"0x[0-9a-fA-F]{4,}", d.svg)  # no memory addresses
    assert " id=" not in d.svg


def test_max_nodes_truncation_says_so():
    g = tf.Graph()
    with g.as_default():
        h = tf.placeholder(tf.float32, [4], name="h")
        for i in range(20):
            h = tf.tanh(h * 0.5, name=f"t{i}")
    d = viz.draw_graph(h, max_nodes=6)
    assert d.truncated and len(d.ops) == 6 and d.total == 61
    assert "Truncated: showing 6 of 61 ops (max_nodes=6)" in d.svg
    nodes = _nodes(d.svg)
    assert len(nodes) == 6
    assert "t19" in nodes  # the ops nearest the fetch are kept
    assert "+1 input not drawn" in d.svg
    full = viz.draw_graph(h, max_nodes=None)
    assert not full.truncated and "Truncated" not in full.svg


def test_layout_is_layered_without_overlaps():
    g, _x, _y, w, b, loss, _ = _regression_graph()
    with g.as_default():
        tf.gradients(loss, [w, b])
    d = viz.draw_graph(g)
    lay = d._layout
    for src, dst, *_ in lay.edges:
        assert src.layer < dst.layer  # every edge points down
    for layer in lay.layers:
        real = [n for n in layer if not n.dummy]
        for a, c in itertools.pairwise(real):
            assert a.x + a.w / 2 < c.x - c.w / 2  # same layer, left to right, no overlap
    # a tree draws without crossings
    t = tf.Graph()
    with t.as_default():
        leaves = [tf.constant(float(i), name=f"c{i}") for i in range(4)]
        tf.add(tf.add(leaves[0], leaves[3]), tf.add(leaves[1], leaves[2]))
    assert viz.draw_graph(t)._layout.crossings == 0


def test_eager_tensors_give_a_helpful_error():
    with pytest.raises(TypeError, match="draw_function"):
        viz.draw_graph(tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="draw_function"):
        viz.draw_graph(lambda x: x * 2)
    with pytest.raises(TypeError, match="draw_function"):
        viz.draw_graph(tf.Variable(1.0))


def test_draw_function_traces_eager_code():
    w = tf.Variable([1.0, 2.0, 3.0], name="w")

    def f(x, scale):
        return tf.reduce_sum(tf.tanh(x * w) * scale, name="total")

    d = viz.draw_function(f, tf.constant([0.5, 0.0, -1.0]), 2.0, grads=True)
    nodes = _nodes(d.svg)
    assert "x" in nodes and "placeholder" in nodes["x"].get("class")  # named after the parameter
    assert "scale" not in nodes  # a Python number stays a Python number
    assert "total" in nodes and "Traced f()" in d.svg
    expected = float(np.sum(np.tanh(np.array([0.5, 0.0, -3.0])) * 2.0))
    assert abs(float(d.values["total"][0]) - expected) < 1e-5
    assert "grad 1" in _texts(nodes["total"])
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, 3.0])
    tr = viz.trace(f, np.ones(3, np.float32), 1.0)
    assert [p.name for p in tr.inputs] == ["x:0"] and tr.inputs[0].shape == (3,)
    assert tf.executing_eagerly()


def test_display_methods_and_save(tmp_path):
    g = tf.Graph()
    with g.as_default():
        s = tf.add(tf.constant(1.0), tf.constant(2.0), name="s")
    d = viz.draw_graph(s)
    assert d._repr_svg_().startswith("<svg")
    assert "<svg" in d._repr_html_()
    path = d.save(tmp_path / "graph")
    assert path.endswith(".svg")
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    assert repr(d) == "<GraphDrawing: 3 ops>"


def test_graph_explorer_steps_and_highlights():
    pytest.importorskip("ipywidgets")
    g, _x, _y, w, b, loss, feed = _regression_graph()
    with g.as_default():
        gw, gb = tf.gradients(loss, [w, b])
    sess = tf.Session(graph=g)
    sess.run([w.initializer, b.initializer])
    ex = viz.GraphExplorer([loss, gw, gb], sess, feed, grads_of=loss)
    assert ex.step.max == len(ex.drawing.ops) - 1
    picture = ex.children[1].children[0]
    panel = ex.children[1].children[1]
    ex.step.value = 8
    current = ex.drawing.ops[8]
    nodes = _nodes(picture.value)
    assert "current" in nodes[current.name].get("class")
    assert current.name in panel.value and "step 9 of" in panel.value
    first_back = next(i for i, op in enumerate(ex.drawing.ops) if viz.is_backward(op))
    ex.children[0].children[3].click()  # "backward pass" button
    assert ex.step.value == first_back and "backward pass" in panel.value
    assert repr(ex) == f"GraphExplorer({len(ex.drawing.ops)} steps)"
    # a tall graph is shown through a window that follows the current op ...
    first_view = re.search(r'viewBox="([^"]*)"', picture.value).group(1)
    ex.step.value = len(ex.drawing.ops) - 1
    assert re.search(r'viewBox="([^"]*)"', picture.value).group(1) != first_view
    assert 'height="600"' in picture.value
    whole = ex.children[0].children[4]  # ... or scaled as a whole
    whole.value = True
    assert 'width="100%"' in picture.value
    ET.fromstring(picture.value)


def test_graph_explorer_without_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    g = tf.Graph()
    with g.as_default():
        s = tf.add(tf.constant(1.0), tf.constant(2.0))
    with pytest.raises(ImportError, match="needs ipywidgets"):
        viz.GraphExplorer(s, tf.Session(graph=g))


def test_package_keeps_its_names_and_small_modules():
    assert sorted(viz.__all__) == ["GraphDrawing", "GraphExplorer", "Traced", "draw_function",
                                   "draw_graph", "is_backward", "summarize", "trace"]
    assert all(callable(getattr(tf.visualize, name)) for name in viz.__all__)
    for module in Path(viz.__file__).parent.glob("*.py"):
        assert len(module.read_text().splitlines()) <= 800, module.name
