"""Sequential runs Conv2D + MaxPooling2D as one FusedConv2DMaxPool op: the same values,
gradients and training as the two layers, only where it is valid, and off with
``tf.config.optimizer.set_experimental_options({"remapping": False})``. Also the Numba
convolution kernels' split of a batch over worker threads."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.backends.numba_cpu import NumbaBackend, workers
from minitf.ops import conv_pool_ops

layers = tf.keras.layers


@pytest.fixture(autouse=True)
def _remapping_on():
    yield
    tf.config.optimizer.set_experimental_options({"remapping": True})


def _graph_ops(model, shape):
    with tf.Graph().as_default() as g:
        model(tf.placeholder(tf.float32, [None, *shape]))
        return [op.type for op in g.get_operations()]


def _cnn(seed=0, activation="relu", **conv):
    tf.random.set_seed(seed)
    return tf.keras.Sequential([
        layers.Conv2D(4, 3, activation=activation, input_shape=(9, 9, 2), **conv),
        layers.MaxPooling2D(2),
        layers.Conv2D(3, 2, activation="relu", padding="same"),
        layers.MaxPooling2D(3, strides=2, padding="same"),  # overlapping windows
        layers.Flatten(),
        layers.Dense(5),
    ])


def test_sequential_fuses_each_conv_and_the_pool_after_it():
    ops = _graph_ops(_cnn(), (9, 9, 2))
    assert ops.count("FusedConv2DMaxPool") == 2
    assert "MaxPool" not in ops and "FusedConv2D" not in ops


def test_fused_model_trains_exactly_as_the_two_layers(backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 9, 9, 2)).astype(np.float32)
    y = rng.integers(0, 5, 40).astype(np.int32)
    results = []
    for remapping in (True, False):
        tf.config.optimizer.set_experimental_options({"remapping": remapping})
        model = _cnn(seed=3)
        model.compile(optimizer="adam",
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        hist = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append((hist.history["loss"], model.predict(x, verbose=0), model.get_weights()))
    (loss_f, pred_f, w_f), (loss_p, pred_p, w_p) = results
    np.testing.assert_allclose(loss_f, loss_p, rtol=1e-5)
    np.testing.assert_allclose(pred_f, pred_p, rtol=1e-4, atol=1e-5)
    for a, b in zip(w_f, w_p):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_remapping_off_runs_the_layers_one_by_one():
    tf.config.optimizer.set_experimental_options({"remapping": False})
    assert tf.config.optimizer.get_experimental_options()["remapping"] is False
    ops = _graph_ops(_cnn(), (9, 9, 2))
    assert "FusedConv2DMaxPool" not in ops and ops.count("MaxPool") == 2


@pytest.mark.parametrize("conv", [
    {"activation": "tanh"},
    {"use_bias": False},
])
def test_no_fusion_where_the_fused_op_cannot_compute_the_pair(conv):
    model = _cnn(**conv)
    ops = _graph_ops(model, (9, 9, 2))
    assert ops.count("FusedConv2DMaxPool") == 1  # only the second pair
    assert ops.count("MaxPool") == 1


def test_no_fusion_for_other_pairs_or_subclasses():
    class MyConv(layers.Conv2D):
        pass

    model = tf.keras.Sequential([
        layers.Conv2D(2, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.AveragePooling2D(2),
        MyConv(2, 2, activation="relu"),
        layers.MaxPooling2D(2),
        layers.MaxPooling2D(1),
    ])
    ops = _graph_ops(model, (8, 8, 1))
    assert "FusedConv2DMaxPool" not in ops


def test_fused_layers_still_report_their_own_shapes():
    model = _cnn()
    model(np.zeros((1, 9, 9, 2), np.float32))
    shapes = [tuple(layer.output_shape_) for layer in model.layers[:4]]
    assert shapes == [(None, 7, 7, 4), (None, 3, 3, 4), (None, 3, 3, 3), (None, 2, 2, 3)]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 7, 7, 4)" in line for line in lines)


def test_experimental_options_take_a_dict():
    with pytest.raises(TypeError, match="dict"):
        tf.config.optimizer.set_experimental_options("remapping")
    tf.config.optimizer.set_experimental_options({"constant_folding": False})
    assert tf.config.optimizer.get_experimental_options()["constant_folding"] is False


def test_fused_op_returns_the_argmax_as_tensorflow_lays_it_out(backend):
    x = np.zeros((1, 4, 4, 1))
    x[0, 1, 2, 0] = 5.0  # the max of the top-right 2x2 window of the (identity) conv output
    w = np.ones((1, 1, 1, 2))
    z, argmax = _execute(x, w)
    assert argmax.dtype == tf.int32
    assert z.numpy()[0, 0, 1].tolist() == [5.0, 5.0]
    assert argmax.numpy()[0, 0, 1].tolist() == [(1 * 4 + 2) * 2 + 0, (1 * 4 + 2) * 2 + 1]


def _execute(x, w):
    from minitf.framework.execute import execute

    return execute("FusedConv2DMaxPool", [tf.constant(x), tf.constant(w), tf.constant(
        np.zeros(2))], {"strides": (1, 1), "padding": "VALID", "dilations": (1, 1),
                        "activation": "linear", "ksize": (2, 2), "pool_strides": (2, 2),
                        "pool_padding": "VALID"})


def test_an_argmax_outside_the_image_is_an_error_not_a_stray_write():
    from minitf.framework.execute import execute

    bad = tf.constant(np.full((1, 1, 1, 1), 99, np.int32))
    with pytest.raises((IndexError, tf.errors.InvalidArgumentError)):
        execute("ScatterArgmax", [bad, tf.constant(np.ones((1, 1, 1, 1), np.float32)),
                                  tf.constant(np.zeros((1, 2, 2, 1), np.float32))]).numpy()


def test_public_function_matches_conv_then_pool(backend):
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(3, 7, 6, 2)), rng.normal(size=(3, 2, 2, 4)), rng.normal(size=4)
    fused = conv_pool_ops.fused_conv2d_max_pool(x, w, b, 1, "SAME", activation="relu",
                                                ksize=3, pool_strides=2, pool_padding="SAME")
    plain = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME") + b), 3, 2, "SAME")
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)


# -- the Numba kernels' worker split ---------------------------------------------------------------


def test_run_split_covers_the_range_in_order():
    parts = workers.run_split(7, lambda lo, hi: (lo, hi))
    assert parts[0][0] == 0 and parts[-1][1] == 7
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert workers.run_split(0, lambda lo, hi: (lo, hi)) == [(0, 0)]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_conv_kernels_give_the_same_result_split_or_not(monkeypatch, n):
    be = NumbaBackend()
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 8, 7, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    geo = ((1, 1), "SAME", (1, 1))

    def run():
        y = be.conv2d(x, w, *geo)
        z, arg = be.conv2d_bias_act_max_pool(x, w, b, *geo, "relu", (2, 2), (2, 2), "VALID")
        return [y, be.conv2d_backprop_input(x.shape, w, y, *geo),
                be.conv2d_backprop_filter(x, w.shape, y, *geo), z, arg,
                be.fused_conv2d_max_pool_backprop_input(x.shape, w, arg, z, *geo),
                be.fused_conv2d_max_pool_backprop_filter(x, w.shape, arg, z, *geo)]

    monkeypatch.setattr(workers, "WORKERS", 3)
    split = run()
    monkeypatch.setattr(workers, "WORKERS", 1)
    for got, want in zip(split, run()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _blas_threads():
    previous = workers._SET_LOCAL(1)
    workers._SET_LOCAL(previous)
    return previous


@pytest.mark.skipif(workers._SET_LOCAL is None, reason="BLAS without a thread-count setter")
def test_blas_threads_are_restored_after_a_conv_kernel_even_when_nested():
    before = _blas_threads()
    with workers.single_threaded_blas():
        assert _blas_threads() == 1
        with workers.single_threaded_blas():
            NumbaBackend().conv2d(np.ones((4, 5, 5, 2), np.float32),
                                  np.ones((3, 3, 2, 2), np.float32), (1, 1), "SAME", (1, 1))
        assert _blas_threads() == 1
    assert _blas_threads() == before


@pytest.mark.parametrize("transpose_a, transpose_b", [(False, False), (True, False), (False, True)])
def test_large_matmul_split_over_the_workers_equals_numpy(monkeypatch, transpose_a, transpose_b):
    monkeypatch.setattr(workers, "SPLIT_MIN_MACS", 1)  # split even this small product
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(37, 23)), rng.normal(size=(23, 11))
    if transpose_b:  # b the larger operand: split by its columns
        a, b = rng.normal(size=(5, 23)), rng.normal(size=(23, 41))
    a_in = a.T.copy() if transpose_a else a
    b_in = b.T.copy() if transpose_b else b
    got = NumbaBackend().matmul(a_in, b_in, transpose_a, transpose_b)
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)
