"""Convolution, pooling and their Keras layers: shapes, SAME/VALID, strides, dilations, errors,
both backends against plain loops, and BatchNormalization's training/inference modes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minitf as tf
from minitf.backends.conv_geometry import window_1d

# -- plain loop references -------------------------------------------------------------------------


def _pads(size: int, k: int, s: int, d: int, padding: str) -> tuple[int, int]:
    span = (k - 1) * d + 1
    if padding == "VALID":
        return (size - span) // s + 1, 0
    out = -(-size // s)
    return out, max((out - 1) * s + span - size, 0) // 2


def conv_loops(x, w, strides, padding, dilations):
    """Direct definition: one output element at a time."""
    n, h, wd, ci = x.shape
    kh, kw, _, co = w.shape
    oh, top = _pads(h, kh, strides[0], dilations[0], padding)
    ow, left = _pads(wd, kw, strides[1], dilations[1], padding)
    y = np.zeros((n, oh, ow, co))
    for b, r, c, o in itertools.product(range(n), range(oh), range(ow), range(co)):
        s = 0.0
        for i, j, k in itertools.product(range(kh), range(kw), range(ci)):
            hi = r * strides[0] + i * dilations[0] - top
            wi = c * strides[1] + j * dilations[1] - left
            if 0 <= hi < h and 0 <= wi < wd:
                s += x[b, hi, wi, k] * w[i, j, k, o]
        y[b, r, c, o] = s
    return y


def pool_loops(x, k, s, padding, kind):
    n, h, wd, ch = x.shape
    oh, top = _pads(h, k[0], s[0], 1, padding)
    ow, left = _pads(wd, k[1], s[1], 1, padding)
    y = np.zeros((n, oh, ow, ch))
    for b, r, c, o in itertools.product(range(n), range(oh), range(ow), range(ch)):
        vals = [x[b, hi, wi, o]
                for hi in range(r * s[0] - top, r * s[0] - top + k[0])
                for wi in range(c * s[1] - left, c * s[1] - left + k[1])
                if 0 <= hi < h and 0 <= wi < wd]
        y[b, r, c, o] = max(vals) if kind == "max" else np.mean(vals)
    return y


CONV_CONFIGS = [
    # input shape, filter shape, strides, padding, dilations
    ((2, 7, 7, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1)),
    ((2, 7, 7, 3), (3, 3, 3, 4), (1, 1), "VALID", (1, 1)),
    ((1, 8, 7, 2), (3, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ((1, 8, 7, 2), (3, 3, 2, 3), (2, 3), "VALID", (1, 1)),
    ((2, 9, 9, 1), (3, 3, 1, 2), (1, 1), "SAME", (2, 2)),
    ((1, 9, 8, 2), (2, 3, 2, 2), (1, 1), "VALID", (3, 2)),
    ((1, 10, 10, 2), (3, 3, 2, 2), (2, 2), "SAME", (2, 2)),
    ((1, 4, 4, 2), (1, 1, 2, 5), (1, 1), "VALID", (1, 1)),
]


def _ids(configs):
    return ["x".join(map(str, c[0])) + f"-{c[3]}-s{c[2][0]}{c[2][1]}-d{c[4][0]}{c[4][1]}"
            for c in configs]


@pytest.mark.parametrize("xs, ws, strides, padding, dilations", CONV_CONFIGS,
                         ids=_ids(CONV_CONFIGS))
def test_conv2d_matches_loops_and_its_gradients_are_adjoint(backend, xs, ws, strides, padding,
                                                            dilations):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=xs), rng.normal(size=ws)
    want = conv_loops(x, w, strides, padding, dilations)
    y = tf.nn.conv2d(x, w, strides, padding, dilations=dilations)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    # the backward kernels are the adjoints of the forward map: <dy, conv(x, w)> is bilinear
    dy = rng.normal(size=want.shape)
    xt, wt = tf.constant(x), tf.constant(w)
    with tf.GradientTape() as tape:
        tape.watch([xt, wt])
        out = tf.nn.conv2d(xt, wt, strides, padding, dilations=dilations)
    dx, dw = tape.gradient(out, [xt, wt], output_gradients=tf.constant(dy))
    np.testing.assert_allclose(np.sum(dx.numpy() * x), np.sum(dy * want), rtol=1e-9)
    np.testing.assert_allclose(np.sum(dw.numpy() * w), np.sum(dy * want), rtol=1e-9)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape, k, s, padding", [
    ((2, 6, 6, 3), (2, 2), (2, 2), "VALID"),
    ((1, 7, 5, 2), (3, 3), (2, 2), "SAME"),
    ((1, 7, 5, 2), (3, 2), (1, 2), "VALID"),
    ((1, 5, 5, 1), (2, 2), (1, 1), "SAME"),
])
def test_pooling_matches_loops(backend, kind, shape, k, s, padding):
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    y = fn(x, k, s, padding)
    np.testing.assert_allclose(y.numpy(), pool_loops(x, k, s, padding, kind), rtol=1e-6,
                               atol=1e-6)


def test_max_pool_gradient_goes_to_the_first_max(backend):
    x = tf.constant(np.array([[1.0, 3.0], [3.0, 0.0]]).reshape(1, 2, 2, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    g = tape.gradient(y, x).numpy().reshape(2, 2)
    np.testing.assert_array_equal(g, [[0.0, 1.0], [0.0, 0.0]])


def test_avg_pool_same_padding_counts_only_real_inputs(backend):
    x = np.ones((1, 3, 3, 1), np.float32)
    np.testing.assert_allclose(tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy(), x)


def test_float32_numba_agrees_with_numpy_on_cnn_shapes():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 13, 13, 8)).astype(np.float32)
    w = rng.normal(size=(3, 3, 8, 16)).astype(np.float32)

    def run(name):
        tf.config.set_backend(name)
        xt, wt = tf.constant(x), tf.constant(w)
        with tf.GradientTape() as tape:
            tape.watch([xt, wt])
            y = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(xt, wt, 1, "SAME")), 2, 2, "VALID")
            loss = tf.reduce_sum(y * y)
        return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [xt, wt])]

    previous = tf.config.get_backend()
    try:
        got, want = run("numba"), run("numpy")
    finally:
        tf.config.set_backend(previous)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3 * np.abs(r).max())


# -- shapes and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("size, k, s, d, padding, out", [
    (28, 3, 1, 1, "VALID", 26), (28, 3, 1, 1, "SAME", 28), (28, 3, 2, 1, "SAME", 14),
    (7, 3, 2, 1, "VALID", 3), (7, 2, 2, 1, "SAME", 4), (9, 3, 1, 2, "VALID", 5),
])
def test_output_sizes_follow_tensorflow(size, k, s, d, padding, out):
    assert window_1d(size, k, s, d, padding)[0] == out


def test_strides_forms_are_equivalent():
    x, w = tf.ones([1, 6, 6, 1]), tf.ones([2, 2, 1, 1])
    a = tf.nn.conv2d(x, w, 2, "VALID")
    b = tf.nn.conv2d(x, w, [2, 2], "valid")
    c = tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID")
    assert a.shape == b.shape == c.shape == (1, 3, 3, 1)


def test_static_shapes_in_a_graph_with_unknown_batch():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf.nn.conv2d(x, tf.ones([3, 3, 1, 8]), 1, "SAME")
        assert y.shape.as_list() == [None, 28, 28, 8]
        p = tf.nn.max_pool2d(y, 2, 2, "VALID")
        assert p.shape.as_list() == [None, 14, 14, 8]


def _error(fn):
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        fn()
    return str(e.value)


def test_errors_name_the_op_the_shapes_and_the_graph_name():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 3])
        with tf.name_scope("block1"):
            msg = _error(lambda: tf.nn.conv2d(x, tf.ones([3, 3, 1, 8]), 1, "SAME", name="conv"))
    assert "Conv2D 'block1/conv'" in msg and "[?,28,28,3]" in msg and "[3,3,1,8]" in msg
    msg = _error(lambda: tf.nn.conv2d(tf.ones([1, 2, 2, 1]), tf.ones([3, 3, 1, 1]), 1, "VALID"))
    assert "Conv2D" in msg and "does not fit" in msg and "[1,2,2,1]" in msg
    msg = _error(lambda: tf.nn.conv2d(tf.ones([2, 2, 1]), tf.ones([1, 1, 1, 1]), 1, "VALID"))
    assert "4-D NHWC" in msg and "[2,2,1]" in msg
    msg = _error(lambda: tf.nn.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([1, 1, 1, 1]), 1, "FULL"))
    assert "padding must be 'SAME' or 'VALID'" in msg
    msg = _error(lambda: tf.nn.max_pool2d(tf.ones([1, 4, 4, 1]), [2, 2, 2], 2, "VALID"))
    assert "MaxPool" in msg and "ksize" in msg
    msg = _error(lambda: tf.nn.avg_pool2d(tf.ones([1, 4, 4, 1]), 2, 0, "VALID"))
    assert "AvgPool" in msg and "strides" in msg
    msg = _error(lambda: tf.nn.conv2d(tf.ones([1, 4, 4, 1], tf.int32), tf.ones([1, 1, 1, 1],
                                                                               tf.int32), 1, "SAME"))
    assert "does not support dtype int32" in msg
    with pytest.raises(ValueError, match="NHWC"):
        tf.nn.conv2d(tf.ones([1, 1, 4, 4]), tf.ones([1, 1, 1, 1]), 1, "SAME", data_format="NCHW")


# -- Keras layers -----------------------------------------------------------------------------------


def test_conv_and_pooling_layers_shapes_params_and_summary():
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Conv2D(8, 3, activation="relu", input_shape=(12, 12, 1)),
        layers.MaxPooling2D(),
        layers.Conv2D(4, (3, 3), strides=2, padding="same", use_bias=False),
        layers.AveragePooling2D(pool_size=2, padding="same"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(3),
    ])
    out = model(np.zeros((2, 12, 12, 1), np.float32))
    assert out.shape == (2, 3)
    assert [tuple(layer.output_shape_) for layer in model.layers] == [
        (None, 10, 10, 8), (None, 5, 5, 8), (None, 3, 3, 4), (None, 2, 2, 4), (None, 4),
        (None, 3)]
    assert [layer.count_params() for layer in model.layers] == [80, 0, 288, 0, 0, 15]
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Conv2D" in text and "MaxPooling2D" in text and "Total params: 383" in text


def test_conv_layer_computes_conv_plus_bias_with_activation():
    layer = tf.keras.layers.Conv2D(2, 2, padding="same", activation="relu",
                                   bias_initializer="ones")
    x = np.random.default_rng(3).normal(size=(1, 4, 4, 3)).astype(np.float32)
    y = layer(x).numpy()
    want = np.maximum(conv_loops(x.astype(np.float64), layer.kernel.numpy().astype(np.float64),
                                 (1, 1), "SAME", (1, 1)) + 1.0, 0)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="padding"):
        tf.keras.layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        tf.keras.layers.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="channels_last"):
        tf.keras.layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="Conv2D"):
        tf.keras.layers.Conv2D(4, 3)(np.zeros((2, 5, 5), np.float32))


def test_batch_norm_training_uses_batch_stats_and_updates_moving_averages():
    bn = tf.keras.layers.BatchNormalization()
    x = np.random.default_rng(4).normal(3.0, 2.0, size=(64, 3, 3, 5)).astype(np.float32)
    y = bn(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    assert [w.name.split("/")[-1].split(":")[0] for w in bn.non_trainable_weights] == [
        "moving_mean", "moving_variance"]
    assert len(bn.trainable_weights) == 2


def test_batch_norm_inference_uses_moving_averages_and_leaves_them():
    bn = tf.keras.layers.BatchNormalization(momentum=0.5, epsilon=0.0)
    x = np.random.default_rng(5).normal(size=(8, 4)).astype(np.float32)
    bn(x, training=True)
    mm, mv = bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()
    for training in (False, None):
        y = bn(x, training=training).numpy()
        np.testing.assert_allclose(y, (x - mm) / np.sqrt(mv), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), mv)


def test_batch_norm_moving_stats_update_inside_fit():
    tf.random.set_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(4, 3, input_shape=(6, 6, 1)),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(2),
    ])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(6).normal(2.0, 1.0, size=(32, 6, 6, 1)).astype(np.float32)
    y = np.zeros(32, np.int32)
    bn = model.layers[1]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert np.all(bn.moving_mean.numpy() != 0.0)  # two training steps moved it
    before = bn.moving_mean.numpy().copy()
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)


def test_layers_round_trip_through_save_and_load(tmp_path):
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.AveragePooling2D(1),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2),
    ])
    x = np.random.default_rng(7).normal(size=(4, 6, 6, 2)).astype(np.float32)
    model.compile("sgd", "mse")
    want = model.predict(x, verbose=0)
    model.save(tmp_path / "cnn.keras")
    got = tf.keras.models.load_model(tmp_path / "cnn.keras").predict(x, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_conv2d_keeps_its_initializers_and_regularizers_through_save_and_load(tmp_path):
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Conv2D(2, 3, kernel_initializer="he_normal",
                      kernel_regularizer=tf.keras.regularizers.l2(1e-2), input_shape=(5, 5, 1)),
        layers.Flatten(),
        layers.Dense(1),
    ])
    model.compile("sgd", "mse")
    model.save(tmp_path / "reg.keras")
    conv = tf.keras.models.load_model(tmp_path / "reg.keras").layers[0]
    assert type(conv.kernel_initializer).__name__ == "HeNormal"
    assert conv.kernel_regularizer.get_config() == model.layers[0].kernel_regularizer.get_config()
    assert len(conv.losses) == 1  # the L2 penalty is still added to the loss


def test_fused_conv_bias_relu_equals_the_three_ops(backend):
    from minitf.ops import conv_ops

    rng = np.random.default_rng(8)
    x, w, b = rng.normal(size=(2, 6, 6, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    fused = conv_ops.conv2d_bias_activation(x, w, b, 1, "SAME", activation="relu")
    plain = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME") + b)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    layer = tf.keras.layers.Conv2D(4, 3, activation="relu")
    layer(x.astype(np.float32))
    ops = set()
    with tf.Graph().as_default() as g:
        layer(tf.placeholder(tf.float32, [None, 6, 6, 3]))
        ops = {op.type for op in g.get_operations()}
    assert "FusedConv2D" in ops and "Relu" not in ops


def test_tf1_spelling_of_conv2d_and_max_pool():
    x, w = tf.ones([1, 4, 4, 1]), tf.ones([2, 2, 1, 1])
    y = tf.nn.conv2d(x, filter=w, strides=[1, 1, 1, 1], padding="SAME", dilations=None)
    p = tf.nn.max_pool(y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    assert y.shape == (1, 4, 4, 1) and p.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(y.numpy()[0, :, :, 0], [[4, 4, 4, 2], [4, 4, 4, 2], [4, 4, 4, 2],
                                                     [2, 2, 2, 1]])  # SAME pads after
    np.testing.assert_allclose(p.numpy().reshape(-1), [4.0, 4.0, 4.0, 4.0])
