"""TF1 graph and Session semantics: default graph, names, placeholders, fetch structures, feeds,
variables and initializers, the plan cache, control dependencies, and textbook training loops."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import minitf as tf
from minitf.framework.errors import FailedPreconditionError, InvalidArgumentError

# -- the default graph -----------------------------------------------------------------------------


def test_default_graph_is_stable_and_reset_replaces_it():
    g = tf.get_default_graph()
    assert tf.get_default_graph() is g
    x = tf.placeholder(tf.float32, [2])  # outside any `with`: goes into the default graph
    assert x.graph is g
    assert g.get_operations() == [x.op]
    tf.reset_default_graph()
    assert tf.get_default_graph() is not g
    assert tf.get_default_graph().get_operations() == []


def test_as_default_nests_and_restores():
    outer, inner = tf.Graph(), tf.Graph()
    base = tf.get_default_graph()
    with outer.as_default() as g1:
        assert g1 is outer and tf.get_default_graph() is outer
        assert not tf.executing_eagerly()
        a = tf.constant(1.0)
        with inner.as_default():
            assert tf.get_default_graph() is inner
            b = tf.constant(2.0)
        assert tf.get_default_graph() is outer
    assert tf.get_default_graph() is base
    assert tf.executing_eagerly()
    assert a.graph is outer and b.graph is inner
    assert isinstance(tf.constant(3.0), tf.EagerTensor)


def test_reset_default_graph_inside_as_default_is_refused():
    with tf.Graph().as_default(), pytest.raises(AssertionError):
        tf.reset_default_graph()


def test_ops_of_two_graphs_cannot_be_joined():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
    with g2.as_default():
        b = tf.constant(2.0)
        with pytest.raises(ValueError, match="another graph"):
            tf.add(a, b)


# -- names -----------------------------------------------------------------------------------------


def test_unique_names_get_numbered_suffixes():
    with tf.Graph().as_default():
        a, b = tf.constant(1.0), tf.constant(2.0)
        assert (a.name, b.name) == ("Const:0", "Const_1:0")
        assert [tf.multiply(a, b).name for _ in range(3)] == ["Mul:0", "Mul_1:0", "Mul_2:0"]
        assert tf.add(a, b, name="Add").name == "Add:0"
        assert tf.add(a, b, name="Add").name == "Add_1:0"
        assert tf.identity(a, name="out").op.name == "out"
        assert tf.identity(a, name="out").op.name == "out_1"


def test_tf_add_is_named_add_as_in_tensorflow():
    with tf.Graph().as_default():
        a, b = tf.constant(1.0), tf.constant(2.0)
        assert [tf.add(a, b).name, tf.add(a, b).name] == ["Add:0", "Add_1:0"]


def test_name_scopes_prefix_names_and_are_made_unique():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        with tf.name_scope("dense"):
            w = tf.Variable(tf.zeros([4, 2]), name="W")
            y = tf.matmul(x, w)
        with tf.name_scope("dense") as scope:
            y2 = tf.matmul(x, w)
            assert scope == "dense_1/"
        with tf.name_scope("outer"), tf.name_scope("inner"):
            z = tf.multiply(y, 2.0)
        assert y.name == "dense/MatMul:0"
        assert y2.name == "dense_1/MatMul:0"
        assert z.name == "outer/inner/Mul:0"
        assert w.name == "dense/W:0"
        assert x.name == "x:0"
        assert g.get_operation_by_name("dense/MatMul") is y.op


def test_eager_name_scope_prefixes_variable_names():
    with tf.name_scope("layer"):
        v = tf.Variable(1.0, name="kernel")
    assert v.name == "layer/kernel:0"


def test_get_tensor_by_name():
    with tf.Graph().as_default() as g:
        with tf.name_scope("dense"):
            y = tf.matmul(tf.ones([2, 3]), tf.ones([3, 1]))
        assert g.get_tensor_by_name("dense/MatMul:0") is y
        assert g.get_operation_by_name("dense/MatMul").outputs[0] is y
        with pytest.raises(KeyError, match="no operation named 'nothing'"):
            g.get_tensor_by_name("nothing:0")
        with pytest.raises(ValueError, match="op_name:0"):
            g.get_tensor_by_name("dense/MatMul")


def test_fetch_and_feed_by_name():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.multiply(x, 3.0, name="triple")
    with tf.Session(graph=g) as sess:
        out = sess.run("triple:0", feed_dict={"x:0": [1.0, 2.0]})
    np.testing.assert_array_equal(out, [3.0, 6.0])


# -- placeholders and feeds ------------------------------------------------------------------------


def test_placeholder_with_none_dims_takes_any_batch():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.constant(np.ones((3, 2), np.float32))
        y = tf.matmul(x, w)
        n = tf.shape(x)[0]
        assert x.shape.as_list() == [None, 3]
        assert y.shape.as_list() == [None, 2]
        assert tf.reduce_sum(y, axis=1).shape.as_list() == [None]
    with tf.Session(graph=g) as sess:
        for batch in (1, 5):
            xv = np.arange(batch * 3, dtype=np.float32).reshape(batch, 3)
            out, nv = sess.run([y, n], {x: xv})
            np.testing.assert_allclose(out, xv @ np.ones((3, 2)))
            assert nv == batch


def test_unfed_placeholder_error_names_it():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3], name="images")
        y = x * 2.0
    with tf.Session(graph=g) as sess, pytest.raises(InvalidArgumentError) as err:
        sess.run(y)
    msg = str(err.value)
    assert "You must feed a value for placeholder tensor 'images:0'" in msg
    assert "float32" in msg and "[?,3]" in msg


def test_wrongly_shaped_feed_is_refused():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = x + 1.0
    with tf.Session(graph=g) as sess, pytest.raises(ValueError) as err:
        sess.run(y, {x: np.zeros((2, 4))})
    assert "Cannot feed value of shape [2,4] for Tensor 'x:0', which has shape [?,3]" in str(
        err.value)


def test_float_feed_into_int_placeholder_is_refused():
    with tf.Graph().as_default() as g:
        i = tf.placeholder(tf.int32, [2], name="ids")
    with tf.Session(graph=g) as sess:
        with pytest.raises(InvalidArgumentError, match="ids:0"):
            sess.run(i, {i: np.array([1.5, 2.0])})
        out = sess.run(i, {i: [1, 2]})
    assert out.dtype == np.int32


def test_graph_constant_is_a_snapshot_of_the_array():
    src = np.array([1.0, 2.0], np.float32)
    with tf.Graph().as_default() as g:
        c = tf.constant(src)
        v = tf.Variable(src)
        init = tf.global_variables_initializer()
    src[:] = 0.0
    with tf.Session(graph=g) as sess:
        sess.run(init)
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_feeding_a_non_placeholder_tensor_replaces_its_value():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 2.0
        z = y + 1.0
    with tf.Session(graph=g) as sess:
        assert sess.run(z, {x: 1.0}) == 3.0
        assert sess.run(z, {y: 10.0}) == 11.0  # x is not needed when y is fed
        assert sess.run(y, {y: 5.0}) == 5.0


def test_feed_keys_must_be_graph_tensors():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [])
    with tf.Session(graph=g) as sess, pytest.raises(TypeError, match="feed_dict keys"):
        sess.run(x, {object(): 2.0})


def test_placeholder_without_shape_accepts_any_shape():
    with tf.Graph().as_default() as g:
        a = tf.placeholder(tf.float32)
        b = tf.placeholder(tf.float32)
        adder = a + b
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(adder, {a: [1, 3], b: [2, 4]}), [3.0, 7.0])


# -- fetches ---------------------------------------------------------------------------------------

Pair = collections.namedtuple("Pair", ["total", "product"])


def test_nested_fetch_structures_are_kept():
    with tf.Graph().as_default() as g:
        a, b = tf.constant(2.0), tf.constant(3.0)
        s, p = a + b, a * b
    with tf.Session(graph=g) as sess:
        assert sess.run([s, p]) == [5.0, 6.0]
        assert sess.run((s, p)) == (5.0, 6.0)
        assert sess.run({"s": s, "p": p}) == {"s": 5.0, "p": 6.0}
        pair = sess.run(Pair(s, p))
        assert isinstance(pair, Pair) and pair.total == 5.0 and pair.product == 6.0
        nested = sess.run({"a": [s, (p, {"deep": s})], "b": Pair(p, s)})
    assert nested["a"][0] == 5.0
    assert isinstance(nested["a"][1], tuple) and nested["a"][1][1] == {"deep": 5.0}
    assert nested["b"] == Pair(6.0, 5.0)


def test_fetching_an_operation_returns_none():
    with tf.Graph().as_default() as g:
        v = tf.Variable(1.0)
        init = tf.global_variables_initializer()
        step = tf.group(v.assign_add(1.0))
    with tf.Session(graph=g) as sess:
        assert sess.run(init) is None
        out = sess.run([step, v])
        assert out[0] is None
        assert sess.run(step) is None
        assert sess.run(v) == 3.0


def test_fetch_none_and_bad_types_raise():
    with tf.Graph().as_default() as g:
        a = tf.constant(1.0)
    with tf.Session(graph=g) as sess:
        with pytest.raises(TypeError):
            sess.run(None)
        with pytest.raises(TypeError, match="invalid type"):
            sess.run([a, 3])


def test_fetch_from_another_graph_raises():
    with tf.Graph().as_default():
        a = tf.constant(1.0)
    with (tf.Session(graph=tf.Graph()) as sess,
          pytest.raises(ValueError, match="not an element of this session's graph")):
        sess.run(a)


def test_closed_session_refuses_to_run():
    with tf.Graph().as_default() as g:
        a = tf.constant(1.0)
    sess = tf.Session(graph=g)
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(a)


# -- variables -------------------------------------------------------------------------------------


def test_uninitialized_variable_raises_failed_precondition():
    with tf.Graph().as_default() as g:
        w = tf.Variable(tf.ones([2]), name="weights")
        y = w * 2.0
    with (tf.Session(graph=g) as sess,
          pytest.raises(FailedPreconditionError, match="uninitialized value weights")):
        sess.run(y)


def test_global_variables_initializer_sets_every_variable():
    with tf.Graph().as_default() as g:
        a = tf.Variable([1.0, 2.0], name="a")
        b = tf.Variable(tf.zeros([3]), name="b", trainable=False)
        c = tf.Variable(7, name="c")
        assert tf.global_variables() == [a, b, c]
        assert tf.trainable_variables() == [a, c]
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        av, bv, cv = sess.run([a, b, c])
    np.testing.assert_array_equal(av, [1.0, 2.0])
    np.testing.assert_array_equal(bv, np.zeros(3))
    assert cv == 7 and cv.dtype == np.int32


def test_variables_initializer_and_initializer_property():
    with tf.Graph().as_default() as g:
        a = tf.Variable(1.0)
        b = tf.Variable(2.0)
    with tf.Session(graph=g) as sess:
        sess.run(a.initializer)
        assert sess.run(a) == 1.0
        with pytest.raises(FailedPreconditionError):
            sess.run(b)
        sess.run(tf.variables_initializer([b]))
        assert sess.run(b) == 2.0


def test_two_sessions_on_one_graph_keep_separate_variable_values():
    with tf.Graph().as_default() as g:
        v = tf.Variable(0.0)
        inc = v.assign_add(1.0)
        init = tf.global_variables_initializer()
    s1, s2 = tf.Session(graph=g), tf.Session(graph=g)
    s1.run(init)
    s2.run(init)
    for _ in range(3):
        s1.run(inc)
    s2.run(inc)
    assert s1.run(v) == 3.0
    assert s2.run(v) == 1.0
    s1.close()
    s2.close()


def test_assign_returns_the_new_value_in_a_session():
    with tf.Graph().as_default() as g:
        v = tf.Variable([1.0, 2.0])
        set_v = v.assign([5.0, 6.0])
        sub = v.assign_sub([1.0, 1.0])
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        np.testing.assert_array_equal(sess.run(set_v), [5.0, 6.0])
        np.testing.assert_array_equal(sess.run(sub), [4.0, 5.0])
        np.testing.assert_array_equal(sess.run(v), [4.0, 5.0])


# -- tf.gradients ------------------------------------------------------------------------------------


def test_tf_gradients_builds_a_named_backward_graph():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable([[1.0], [2.0]], name="w")
        y = tf.reduce_sum(tf.matmul(x, w) ** 2)
        gx, gw = tf.gradients(y, [x, w])
        (gw2,) = tf.gradients(y, [w])
        init = tf.global_variables_initializer()
    assert gx.shape.as_list() == [None, 2] and gw.shape == (2, 1)
    assert gw.op.name.startswith("gradients/")
    assert gw2.op.name.startswith("gradients_1/")
    xv = np.array([[1.0, 1.0], [0.5, -1.0]], np.float32)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        gxv, gwv, gwv2 = sess.run([gx, gw, gw2], {x: xv})
    z = xv @ np.array([[1.0], [2.0]])
    np.testing.assert_allclose(gxv, 2 * z * np.array([[1.0, 2.0]]))
    np.testing.assert_allclose(gwv, xv.T @ (2 * z))
    np.testing.assert_allclose(gwv2, gwv)


def test_tf_gradients_unconnected_grad_ys_and_stop_gradient():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3])
        unused = tf.placeholder(tf.float32, [2])
        y = x * x
        assert tf.gradients(y, unused) == [None]
        (zero,) = tf.gradients(y, unused, unconnected_gradients="zero")
        (weighted,) = tf.gradients(y, x, grad_ys=tf.constant([1.0, 0.0, 2.0]))
        (stopped,) = tf.gradients(x * tf.stop_gradient(x), x)
        (both,) = tf.gradients([y, 3.0 * x], x)
    with tf.Session(graph=g) as sess:
        feed = {x: [1.0, 2.0, 3.0]}
        z, w, s, b = sess.run([zero, weighted, stopped, both], feed)
    np.testing.assert_array_equal(z, [0.0, 0.0])
    np.testing.assert_array_equal(w, [2.0, 0.0, 12.0])
    np.testing.assert_array_equal(s, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(b, [5.0, 7.0, 9.0])


# -- the plan cache --------------------------------------------------------------------------------


def test_plan_is_cached_per_fetches_and_feeds():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None])
        y = x * 2.0
        z = y + 1.0
    with tf.Session(graph=g) as sess:
        for i in range(5):
            np.testing.assert_array_equal(sess.run(y, {x: [float(i)]}), [2.0 * i])
        assert len(sess._plans) == 1
        sess.run(y, {x: np.zeros(7)})  # another batch size, same signature
        assert len(sess._plans) == 1
        sess.run([y, z], {x: [1.0]})
        assert len(sess._plans) == 2
        sess.run(z, {y: [1.0]})
        assert len(sess._plans) == 3
        sess.run([y, z], {x: [3.0]})
        assert len(sess._plans) == 3


def test_plan_is_reused_when_fetching_an_eager_variable():
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        for _ in range(3):
            assert sess.run(v) == 1.0
        assert len(sess._plans) == 1
        sess.run(v.assign_add(1.0))
        assert sess.run(v) == 2.0
        assert len(sess._plans) == 2


# -- control dependencies and groups ---------------------------------------------------------------


def test_control_dependencies_run_first():
    with tf.Graph().as_default() as g:
        v = tf.Variable(0.0)
        inc = v.assign_add(1.0)
        with tf.control_dependencies([inc]):
            out = tf.constant(10.0) + 0.0
        assert inc.op in out.op.control_inputs
        with tf.control_dependencies(None):
            free = tf.constant(1.0) + 0.0
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        sess.run(out)
        sess.run(out)
        assert sess.run(v) == 2.0
        sess.run(free)
        assert sess.run(v) == 2.0


def test_identity_of_variable_under_control_dependencies_reads_after_update():
    with tf.Graph().as_default() as g:
        v = tf.Variable(0.0)
        inc = v.assign_add(1.0)
        with tf.control_dependencies([inc]):
            after = tf.identity(v)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(after) == 1.0


def test_group_runs_all_its_inputs_in_creation_order():
    with tf.Graph().as_default() as g:
        log = tf.Variable(0.0)
        first = log.assign(1.0)
        second = log.assign(log * 10.0 + 2.0)
        both = tf.group(first, second)
        noop = tf.no_op()
        init = tf.global_variables_initializer()
    assert both.type == "NoOp" and {first.op, second.op} <= set(both.control_inputs)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(both) is None
        assert sess.run(noop) is None
        assert sess.run(log) in (2.0, 12.0)  # the read of `log` for `second` runs first


def test_eager_group_and_no_op_run_as_nothing():
    assert tf.group().run() is None
    assert tf.global_variables_initializer().run() is None
    with tf.Session() as sess:
        assert sess.run(tf.group(tf.no_op())) is None


# -- eager values inside a Session -----------------------------------------------------------------


def test_eager_tensors_inside_a_session_give_their_value():
    a = tf.constant(2.0)
    b = tf.constant(3.0)
    with tf.Session() as sess:
        assert sess.run(tf.add(a, b)) == 5.0
        assert sess.run(a) == 2.0
        assert sess.run([a, a * b]) == [2.0, 6.0]


def test_seed_code_prints_the_sum(capsys):
    a = tf.constant([1, 2])
    b = tf.constant([3, 4])
    with tf.Session() as sess:
        print(sess.run(tf.add(a, b)))
    assert capsys.readouterr().out.strip() == "[4 6]"


def test_eager_variable_in_a_session_is_read_and_updated():
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        assert sess.run(v) == 1.0
        sess.run(v.assign_add(2.0))
    assert v.numpy() == 3.0


def test_tensor_eval_and_operation_run_use_the_default_session():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [])
        y = x * x
        v = tf.Variable(5.0)
    with tf.Session(graph=g) as sess:
        assert y.eval({x: 3.0}) == 9.0
        v.initializer.run()
        assert v.eval() == 5.0
        assert tf.get_default_session() is sess
    assert tf.get_default_session() is None
    with pytest.raises(ValueError, match="needs a session"):
        y.eval({x: 1.0})


def test_interactive_session_is_default_until_closed():
    with tf.Graph().as_default() as g:
        c = tf.constant(4.0) * 2.0
    sess = tf.InteractiveSession(graph=g)
    assert c.eval() == 8.0
    sess.close()
    assert tf.get_default_session() is None


def test_graph_tensor_has_no_value_outside_a_session():
    with tf.Graph().as_default():
        t = tf.constant(1.0) + 1.0
    with pytest.raises(ValueError, match="symbolic"):
        t.numpy()
    with pytest.raises(TypeError, match="Python bool"):
        bool(t)


# -- TF1 textbook loops ----------------------------------------------------------------------------


def _regression_data():
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (64, 1)).astype(np.float32)
    ys = (3.0 * xs - 0.5 + rng.normal(0, 0.01, (64, 1))).astype(np.float32)
    return xs, ys


def test_tf1_linear_regression_converges():
    xs, ys = _regression_data()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 1], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(tf.zeros([1, 1]), name="W")
        b = tf.Variable(tf.zeros([1]), name="b")
        pred = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.square(pred - y))
        gw, gb = tf.gradients(loss, [w, b])
        lr = 0.5
        train = tf.group(w.assign_sub(lr * gw), b.assign_sub(lr * gb))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, {x: xs, y: ys})
            for _ in range(100):
                sess.run(train, feed_dict={x: xs, y: ys})
            last, w_val, b_val = sess.run([loss, w, b], {x: xs, y: ys})
            assert len(sess._plans) == 4  # init, first loss, train, last fetch
    assert last < 1e-3 < first
    np.testing.assert_allclose(w_val, [[3.0]], atol=0.02)
    np.testing.assert_allclose(b_val, [-0.5], atol=0.02)


def test_tf1_style_with_eager_execution_disabled():
    xs, ys = _regression_data()
    tf.compat.v1.disable_eager_execution()
    assert not tf.executing_eagerly()
    x = tf.compat.v1.placeholder(tf.float32, [None, 1])
    y = tf.compat.v1.placeholder(tf.float32, [None, 1])
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    assert w.graph is tf.get_default_graph()
    loss = tf.reduce_mean(tf.square(x * w + b - y))
    grads = tf.gradients(loss, [w, b])
    train = [v.assign_sub(0.5 * gr) for v, gr in zip([w, b], grads)]
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(100):
            sess.run(train, {x: xs, y: ys})
        wv, bv = sess.run([w, b])
    assert abs(wv - 3.0) < 0.02 and abs(bv + 0.5) < 0.02


# -- TF semantics textbook code relies on (issue 14) -----------------------------------------------


def test_zero_d_fetches_are_numpy_scalars_as_in_tensorflow():
    with tf.Graph().as_default() as g:
        s = tf.reduce_sum(tf.constant([1.0, 2.0]))
        n = tf.constant(3)
        v = tf.constant([1.0])
    with tf.Session(graph=g) as sess:
        out_s, out_n, out_v = sess.run([s, n, v])
    assert type(out_s) is np.float32 and out_s == 3.0
    assert type(out_n) is np.int32
    assert isinstance(out_v, np.ndarray)


def test_identity_after_minimize_reads_the_new_weights():
    with tf.Graph().as_default() as g:
        w = tf.Variable(1.0)
        loss = tf.square(w)
        step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        with tf.control_dependencies([step]):
            after = tf.identity(w)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(after) == pytest.approx(0.5)  # 1 - 0.25 * 2
        assert sess.run(w) == pytest.approx(0.5)


def test_fetching_a_missing_output_names_the_op_and_its_outputs():
    with tf.Graph().as_default() as g:
        tf.constant(1.0, name="a")
    with tf.Session(graph=g) as sess, pytest.raises(ValueError, match=r"'a' \(type Const\).*a:0"):
        sess.run("a:5")


def test_concurrent_assign_add_loses_no_update():
    import threading

    with tf.Graph().as_default() as g:
        v = tf.Variable(0.0)
        inc = v.assign_add(1.0)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)

        def work() -> None:
            for _ in range(2000):
                sess.run(inc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=100)
        assert not any(t.is_alive() for t in threads)
        assert sess.run(v) == 8000.0


def test_a_shapeless_placeholder_has_unknown_rank_until_fed():
    with tf.Graph().as_default() as g:
        a = tf.placeholder(tf.float32)
        b = tf.placeholder(tf.float32)
        y = tf.identity(tf.sqrt(a * 2.0 + b))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Sum.*unknown rank.*shape"):
            tf.reduce_sum(a)  # minitf refuses what it cannot shape (TF allows it)
        with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
            a + tf.constant(1)  # dtypes are still checked
    assert str(a.shape) == "<unknown>" and a.shape.rank is None and a.shape != ()
    assert y.shape.rank is None and y.dtype == tf.float32 and not y.shape.is_fully_defined()
    with pytest.raises(ValueError, match="unknown TensorShape"):
        a.shape.as_list()
    with tf.Session(graph=g) as sess:
        np.testing.assert_allclose(sess.run(y, {a: [[1.0, 4.0]], b: 1.0}), [[np.sqrt(3), 3.0]])
        assert sess.run(y, {a: 4.0, b: 1.0}) == 3.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
            sess.run(y, {a: np.ones((2, 3)), b: np.ones(2)})  # the kernel checks real shapes


def test_make_callable_runs_like_run_and_checks_its_feeds():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2])
        y = tf.reduce_sum(x * 2.0, axis=1)
        v = tf.Variable(0.0)
        inc = v.assign_add(1.0)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        f = sess.make_callable({"y": y, "t": (inc,)}, [x])
        out = f(np.ones((3, 2), np.float32))
        np.testing.assert_allclose(out["y"], [4.0, 4.0, 4.0])
        assert out["t"] == (1.0,)
        np.testing.assert_allclose(f([[1, 2]])["y"], [6.0])  # cast as run() casts a feed
        flat = sess.make_callable([y], [x])
        np.testing.assert_allclose(flat(np.ones((1, 2), np.float32))[0], [4.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
            flat(np.ones((1, 3), np.float32))
        with pytest.raises(TypeError, match="1 feed values"):
            flat()
    with pytest.raises(RuntimeError, match="closed Session"):
        flat(np.ones((1, 2), np.float32))
