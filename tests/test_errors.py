"""Error messages name the op (type and graph name), the shapes and dtypes involved, and say
what to do, both when a graph is built and when a Session runs it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import minitf as tf
from minitf.framework.errors import InvalidArgumentError, OpError


def _message(fn) -> str:
    with pytest.raises(InvalidArgumentError) as err:
        fn()
    return str(err.value)


# -- shape errors at build time ------------------------------------------------------------------


def test_matmul_inner_dimension_error_names_op_scope_and_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [32, 784])
        w = tf.placeholder(tf.float32, [128, 10])
        with tf.name_scope("dense"):
            msg = _message(lambda: tf.matmul(x, w))
    assert msg.startswith("MatMul 'dense/MatMul': inner dimensions differ: [32,784] @ [128,10]")


def test_matmul_error_with_unknown_batch_and_transpose():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.placeholder(tf.float32, [2, 4])
        msg = _message(lambda: tf.matmul(x, w, transpose_b=True, name="logits"))
    assert "MatMul 'logits'" in msg and "[?,3] @ [2,4]ᵀ" in msg


def test_eager_matmul_error_names_the_op_type():
    msg = _message(lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3])))
    assert msg.startswith("MatMul: inner dimensions differ: [2,3] @ [2,3]")


def test_matmul_of_a_vector_says_2d():
    msg = _message(lambda: tf.matmul(tf.ones([3]), tf.ones([3, 2])))
    assert "at least 2-D" in msg and "[3]" in msg


def test_broadcast_error_names_both_shapes():
    msg = _message(lambda: tf.ones([2, 3]) + tf.ones([4]))
    assert msg.startswith("AddV2: shapes [2,3] and [4] cannot be broadcast")
    assert "3 vs 4" in msg
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, 3])
        with tf.name_scope("layer"):
            msg = _message(lambda: tf.multiply(a, tf.ones([5])))
    assert "Mul 'layer/Mul'" in msg and "[?,3]" in msg and "[5]" in msg


def test_dtype_mismatch_suggests_cast():
    msg = _message(lambda: tf.ones([2]) + tf.constant([1, 2]))
    assert "float32" in msg and "int32" in msg and "tf.cast" in msg
    msg = _message(lambda: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64)))
    assert "MatMul" in msg and "float64" in msg and "tf.cast" in msg


def test_unsupported_dtype_names_the_op():
    msg = _message(lambda: tf.sqrt(tf.constant([1, 4])))
    assert msg.startswith("Sqrt:") and "int32" in msg


def test_reshape_size_mismatch():
    msg = _message(lambda: tf.reshape(tf.ones([2, 3]), [4, 2], name="flat"))
    assert msg.startswith("Reshape 'flat': cannot reshape a tensor with 6 elements")
    assert "[4,2]" in msg and "8 elements" in msg
    msg = _message(lambda: tf.reshape(tf.ones([2, 3]), [4, -1]))
    assert "6 elements" in msg
    msg = _message(lambda: tf.reshape(tf.ones([2, 3]), [-1, -1]))
    assert "only one dimension" in msg


def test_slicing_out_of_range():
    t = tf.ones([2, 3])
    msg = _message(lambda: t[5])
    assert "StridedSlice" in msg and "index 5 is out of bounds for axis 0 with size 2" in msg
    msg = _message(lambda: t[:, -4])
    assert "index -4 is out of bounds for axis 1 with size 3" in msg
    msg = _message(lambda: t[0, 1, 2])
    assert "too many indices (3) for a tensor of rank 2" in msg


def test_slicing_with_a_symbolic_index_is_explained():
    with tf.Graph().as_default():
        t = tf.placeholder(tf.float32, [3])
        i = tf.placeholder(tf.int32, [])
        with pytest.raises(TypeError, match="tf.gather"):
            t[i]


def test_reduction_axis_out_of_range():
    msg = _message(lambda: tf.reduce_sum(tf.ones([2, 3]), axis=2))
    assert msg.startswith("Sum") and "axis 2 is out of range for a tensor of rank 2" in msg


def test_concat_and_stack_mismatches():
    msg = _message(lambda: tf.concat([tf.ones([2, 3]), tf.ones([3, 3])], axis=1))
    assert "ConcatV2" in msg and "[2,3] vs [3,3]" in msg
    msg = _message(lambda: tf.stack([tf.ones([2]), tf.ones([3])]))
    assert "Pack" in msg and "[2] vs [3]" in msg


def test_cross_entropy_shape_mismatch():
    msg = _message(lambda: tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones([2, 4]),
                                                                   logits=tf.ones([2, 3])))
    assert "SoftmaxCrossEntropyWithLogits" in msg and "[2,3]" in msg and "[2,4]" in msg
    msg = _message(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0.0, 1.0]), logits=tf.ones([2, 3])))
    assert "integer class ids" in msg


def test_where_condition_must_be_bool():
    msg = _message(lambda: tf.where(tf.ones([2]), tf.ones([2]), tf.zeros([2])))
    assert "SelectV2" in msg and "condition must be bool" in msg


def test_variable_assign_errors():
    v = tf.Variable([1.0, 2.0], name="w")
    with pytest.raises(TypeError, match="tf.cast"):
        v.assign(tf.constant([1.0, 2.0], tf.float64))
    msg = _message(lambda: v.assign([1.0, 2.0, 3.0]))
    assert "AssignVariableOp" in msg and "'w:0'" in msg and "[3]" in msg and "[2]" in msg


def test_conversion_errors():
    with pytest.raises(TypeError, match="integer tensor"):
        tf.constant([1.5], dtype=tf.int32)
    with pytest.raises(TypeError, match="no string tensors"):
        tf.constant("abc")
    with pytest.raises(TypeError, match="Unknown dtype"):
        tf.cast(tf.ones([2]), "string")


# -- errors at run time inside Session.run ---------------------------------------------------------


def test_gather_out_of_range_at_run_time_names_the_node():
    with tf.Graph().as_default() as g:
        params = tf.placeholder(tf.float32, [3, 2], name="table")
        ids = tf.placeholder(tf.int32, [None], name="ids")
        with tf.name_scope("embed"):
            out = tf.gather(params, ids, name="lookup")
    with tf.Session(graph=g) as sess, pytest.raises(InvalidArgumentError) as err:
        sess.run(out, {params: np.ones((3, 2)), ids: [0, 7]})
    msg = str(err.value)
    assert msg.startswith("GatherV2 'embed/lookup':")
    assert "index 7 is out of range for axis 0 of size 3" in msg
    assert "[3,2] float32" in msg and "[2] int32" in msg
    assert err.value.op.name == "embed/lookup"


def test_eager_gather_out_of_range():
    msg = _message(lambda: tf.gather(tf.ones([3, 2]), [0, -4]))
    assert msg.startswith("GatherV2:") and "index -4 is out of range" in msg


def test_sparse_labels_out_of_range_eager_and_in_session():
    msg = _message(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=[0, 3], logits=tf.ones([2, 3])))
    assert "SparseSoftmaxCrossEntropyWithLogits" in msg
    assert "label value of 3" in msg and "[0, 3)" in msg
    with tf.Graph().as_default() as g:
        labels = tf.placeholder(tf.int32, [None])
        logits = tf.placeholder(tf.float32, [None, 3])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                              name="xent")
    with tf.Session(graph=g) as sess, pytest.raises(InvalidArgumentError) as err:
        sess.run(loss, {labels: [1, -1], logits: np.zeros((2, 3))})
    assert "SparseSoftmaxCrossEntropyWithLogits 'xent'" in str(err.value)
    assert "label value of -1" in str(err.value)


def test_run_time_shape_errors_use_the_fed_shapes():
    with tf.Graph().as_default() as g:
        a = tf.placeholder(tf.float32, [None, 4])
        b = tf.placeholder(tf.float32, [None, 2])
        mm = tf.matmul(a, b, name="mm")
        flat = tf.reshape(a, [-1, 3], name="flat")
        total = tf.add(a, b[:, :1], name="total")
    feed = {a: np.ones((2, 4)), b: np.ones((3, 2))}
    with tf.Session(graph=g) as sess:
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "MatMul 'mm': inner dimensions differ: [2,4] @ [3,2]")):
            sess.run(mm, feed)
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "Reshape 'flat': cannot reshape a tensor with 8 elements")):
            sess.run(flat, feed)
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "AddV2 'total': shapes [2,4] and [3,1] cannot be broadcast")):
            sess.run(total, feed)


def test_errors_are_op_errors_with_tf_names():
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)
    assert tf.errors.InvalidArgumentError is InvalidArgumentError
    assert issubclass(tf.errors.FailedPreconditionError, OpError)


# -- mode errors -----------------------------------------------------------------------------------


def test_tf_gradients_in_eager_mode_points_to_the_tape():
    x = tf.constant(1.0)
    with pytest.raises(RuntimeError, match="GradientTape"):
        tf.gradients(x * 2.0, x)


def test_symbolic_tensor_as_eager_value_is_explained():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [2], name="inputs")
    with pytest.raises(ValueError, match="'inputs:0' is symbolic"):
        p.numpy()
    with pytest.raises(ValueError, match="needs a value"):
        tf.Variable(p)


def test_integer_ops_cut_the_gradient_path():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        y = tf.cast(tf.argmax(x), tf.float32)
        assert tf.gradients(y, x) == [None]  # integer ops cut the path: no error, no gradient


# -- one error policy: the same fault raises the same class in every mode ---------------------------

_FAULTS = {
    # a value of the wrong dtype reaches the kernel (NumPy raises a TypeError inside it)
    "bad dtype": (lambda x: tf.one_hot(x, 3, on_value="a"), np.array([0], np.int32), "OneHot"),
    "shape mismatch": (lambda x: tf.reshape(x, [3]), np.ones(2, np.float32), "Reshape"),
    "index out of range": (lambda x: tf.gather(x, tf.constant([5])), np.ones(2, np.float32),
                           "GatherV2"),
}


def _eager(fn, value):
    return fn(tf.constant(value))


def _function(fn, value):
    return tf.function(fn)(tf.constant(value))


def _session(fn, value):
    with tf.Graph().as_default():
        p = tf.placeholder(tf.as_dtype(value.dtype), [None] * value.ndim)
        y = fn(p)
        with tf.Session() as sess:
            return sess.run(y, {p: value})


@pytest.mark.parametrize("fault", sorted(_FAULTS))
@pytest.mark.parametrize("mode", [_eager, _function, _session], ids=["eager", "function",
                                                                     "session"])
def test_same_fault_same_error_class_in_every_mode(fault, mode):
    fn, value, op_type = _FAULTS[fault]
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        mode(fn, value)
    assert type(err.value) is tf.errors.InvalidArgumentError
    assert str(err.value).startswith(op_type)


def test_a_missing_kernel_is_unimplemented_in_both_modes(monkeypatch):
    from minitf.backends import get_backend

    be = get_backend()

    def missing(*args, **kwargs):
        raise NotImplementedError("this backend has no such kernel")

    monkeypatch.setattr(be, "matmul", missing)
    with pytest.raises(tf.errors.UnimplementedError, match="MatMul.*no such kernel"):
        tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]))
    with tf.Graph().as_default():
        y = tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]))
        with tf.Session() as sess, pytest.raises(tf.errors.UnimplementedError, match="MatMul"):
            sess.run(y)
