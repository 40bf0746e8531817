"""Execution state lives in ``minitf/framework/context.py``: per thread where TF keeps it per
thread (graphs, sessions, tapes, tracing, scopes), process-wide otherwise."""

from __future__ import annotations

import threading

import minitf as tf
from minitf.framework import context


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()))
    t.start()
    t.join(timeout=60)
    assert not t.is_alive()
    return out["v"]


def test_a_tape_does_not_record_another_threads_ops():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        mine = x * x
        theirs = _in_thread(lambda: x * x)
    assert float(tape.gradient(mine, x)) == 6.0
    assert tape.gradient(theirs, x) is None


def test_graphs_sessions_and_scopes_are_per_thread():
    g = tf.Graph()
    with g.as_default(), tf.Session(graph=g) as sess, tf.device("/CPU:0"):
        assert tf.get_default_session() is sess and not tf.executing_eagerly()
        seen = _in_thread(lambda: (tf.executing_eagerly(), tf.get_default_session(),
                                   list(context.local.devices)))
    assert seen == (True, None, [])


def test_init_scope_leaves_the_graph_and_the_trace_and_comes_back():
    g = tf.Graph()
    with g.as_default(), context.tracing():
        assert context.is_tracing() and not tf.executing_eagerly()
        with tf.init_scope():
            assert not context.is_tracing() and tf.executing_eagerly()
        assert context.is_tracing() and tf.get_default_graph() is g
    assert not context.is_tracing()


def test_eager_name_scopes_are_kept_in_the_context():
    with tf.name_scope("outer"), tf.name_scope("inner"):
        assert context.local.name_scope == ["outer", "inner"]
        assert tf.Variable(1.0, name="v").name == "outer/inner/v:0"
    assert context.local.name_scope == []


def test_the_backend_is_context_state():
    before = tf.config.get_backend()
    try:
        be = tf.config.set_backend("numpy")
        assert context.state.backend is be and tf.config.get_backend() is be
    finally:
        tf.config.set_backend(before)
