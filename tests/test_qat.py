"""Fake quantization (forward on TF's nudged grid, straight-through gradient) and
``tfmot.quantization.keras``: quantize_model trains and converts to an int8 model that agrees
with it; quantize_annotate_layer/quantize_apply quantize part of a model."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
import minitf.model_optimization as tfmot
from minitf.ops import quant_ops

L = tf.keras.layers
Q = tfmot.quantization.keras


def test_fake_quant_forward_is_tf_nudged_grid():
    x = np.linspace(-2, 2, 101).astype(np.float32)
    y = quant_ops.fake_quant_with_min_max_vars(x, -1.0, 1.0).numpy()
    scale = 2.0 / 255
    lo, hi = -128 * scale, 127 * scale  # zero point round(127.5) = 128: 0.0 on the grid
    assert y[50] == 0.0
    assert np.allclose([y.min(), y.max()], [lo, hi], atol=1e-6)
    steps = (y - lo) / scale
    assert np.allclose(steps, np.round(steps), atol=1e-3)  # every output on the grid
    inside = (x >= lo) & (x <= hi)
    assert np.abs(y[inside] - x[inside]).max() <= scale / 2 + 1e-6


def test_per_channel_fake_quant_uses_each_channel_range():
    x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    mx = np.array([0.5, 1.0, 3.0], np.float32)
    y = quant_ops.fake_quant_with_min_max_vars_per_channel(x, -mx, mx, narrow_range=True).numpy()
    scale = mx / 127  # narrow range [-127, 127] of the symmetric range
    assert np.all(np.abs(y) <= mx + 1e-6)
    inside = np.abs(x) <= mx
    assert np.all(np.abs(y - x)[inside] <= np.broadcast_to(scale / 2 + 1e-6, x.shape)[inside])


def test_straight_through_gradient():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.uniform(-2, 2, (40,)).astype(np.float32))
    mn, mx = tf.Variable(-1.0), tf.Variable(1.5)
    w = rng.normal(size=40).astype(np.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(quant_ops.fake_quant_with_min_max_vars(x, mn, mx) * w)
    gx, gmin, gmax = tape.gradient(loss, [x, mn, mx])
    xs = x.numpy()
    inside = (xs >= -1.0) & (xs <= 1.5)
    assert np.array_equal(gx.numpy(), np.where(inside, w, 0.0))
    assert gmin.numpy() == pytest.approx(w[xs < -1.0].sum(), rel=1e-5)
    assert gmax.numpy() == pytest.approx(w[xs > 1.5].sum(), rel=1e-5)


def test_ste_is_the_slope_of_the_staircase_over_a_few_steps():
    """Finite differences over a window of several grid steps see the staircase's average
    slope: 1 inside the range, 0 outside, which is what the estimator passes through."""
    scale, h = 2.0 / 255, 8 * 2.0 / 255
    x = np.random.default_rng(2).uniform(-0.9, 0.9, 200)
    fq = lambda v: quant_ops.fake_quant_with_min_max_vars(  # noqa: E731
        v.astype(np.float32), -1.0, 1.0).numpy().astype(np.float64)
    slope = (fq(x + h) - fq(x - h)) / (2 * h)
    assert np.all(np.abs(slope - 1.0) <= scale / (2 * h) * 2 + 1e-6)
    out = np.random.default_rng(3).uniform(1.2, 3.0, 50)
    assert np.all((fq(out + h) - fq(out - h)) == 0)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 6, 6, 1)).astype(np.float32)
    return x, (x.reshape(512, -1)[:, :3].argmax(1)).astype(np.int64)


def _cnn():
    return tf.keras.Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)),
                                L.MaxPooling2D(), L.Flatten(), L.Dense(16, activation="relu"),
                                L.Dense(3)])


def _compile(m):
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])


def test_quantize_model_trains_and_converts_to_int8_without_calibration():
    x, y = _data()
    q = Q.quantize_model(_cnn())
    assert [type(layer).__name__ for layer in q.layers] == [
        "QuantizeLayer", "QuantizeWrapper", "MaxPooling2D", "Flatten", "QuantizeWrapper",
        "QuantizeWrapper"]
    _compile(q)
    hist = q.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    c = tf.lite.TFLiteConverter.from_keras_model(q)
    c.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative_dataset: QAT's ranges
    it = tf.lite.Interpreter(model_content=c.convert())
    it.resize_tensor_input(0, x.shape)
    it.allocate_tensors()
    it.set_tensor(0, x)
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
    want = q.predict(x)
    assert any(d["dtype"] == np.int8 for d in it.get_tensor_details())
    assert np.abs(got - want).max() <= 0.1 * max(1.0, np.abs(want).max())
    assert np.mean(got.argmax(1) == want.argmax(1)) >= 0.95


def test_quantize_annotate_part_of_a_model():
    base = _cnn()
    annotated = tf.keras.Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)), L.MaxPooling2D(), L.Flatten(),
        Q.quantize_annotate_layer(L.Dense(16, activation="relu")), L.Dense(3)])
    annotated.set_weights(base.get_weights())
    q = Q.quantize_apply(annotated)
    assert [type(layer).__name__ for layer in q.layers] == [
        "Conv2D", "MaxPooling2D", "Flatten", "QuantizeLayer", "QuantizeWrapper", "Dense"]
    x, _ = _data()
    assert np.abs(q.predict(x[:8]) - base.predict(x[:8])).max() < 0.1
    with pytest.raises(ValueError, match="quantize_annotate_layer"):
        Q.quantize_apply(base)
