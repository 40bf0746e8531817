"""Losses against NumPy formulas (reductions, sample weights, stability at extreme logits,
from_logits equivalence, the softmax/sigmoid shortcut in graphs) and metrics (accumulation,
reset, traced updates, accuracy resolution)."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.keras import losses, metrics

EPS = 1e-7
RNG = np.random.default_rng(0)


def _np(x) -> np.ndarray:
    return np.asarray(x)


def np_log_softmax(z: np.ndarray) -> np.ndarray:
    m = z - z.max(-1, keepdims=True)
    return m - np.log(np.exp(m).sum(-1, keepdims=True))


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def np_bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def np_bce_logits(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(-1)


# -- regression losses -----------------------------------------------------------------------------


def test_mse_mae_values_and_reductions():
    y = RNG.standard_normal((6, 3)).astype(np.float32)
    p = RNG.standard_normal((6, 3)).astype(np.float32)
    per = ((p - y) ** 2).mean(-1)
    np.testing.assert_allclose(_np(losses.mean_squared_error(y, p)), per, rtol=1e-6)
    np.testing.assert_allclose(_np(losses.mae(y, p)), np.abs(p - y).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(float(losses.MeanSquaredError()(y, p)), per.mean(), rtol=1e-6)
    np.testing.assert_allclose(float(losses.MeanSquaredError(reduction="sum")(y, p)), per.sum(),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(losses.MeanSquaredError(reduction=None)(y, p)), per,
                               rtol=1e-6)
    w = np.array([1, 0, 2, 1, 0.5, 0], np.float32)
    np.testing.assert_allclose(float(losses.MeanSquaredError()(y, p, sample_weight=w)),
                               (per * w).sum() / 6, rtol=1e-6)
    np.testing.assert_allclose(float(losses.MeanSquaredError()(y, p, sample_weight=w[:, None])),
                               (per * w).sum() / 6, rtol=1e-6)
    np.testing.assert_allclose(
        float(losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, w)),
        (per * w).sum() / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(float(losses.MeanAbsoluteError()(y, p)), np.abs(p - y).mean(),
                               rtol=1e-6)


def test_rank_mismatch_does_not_broadcast():
    y = np.arange(5, dtype=np.float32)  # labels [batch], predictions [batch, 1]
    p = (y + 1.0)[:, None]
    assert float(losses.MeanSquaredError()(y, p)) == pytest.approx(1.0)
    assert _np(losses.mse(y, p)).shape == (5,)
    assert float(losses.MeanSquaredError()(p, y)) == pytest.approx(1.0)


# -- cross-entropies -------------------------------------------------------------------------------


def test_binary_crossentropy_probabilities_and_logits():
    y = RNG.integers(0, 2, (8, 3)).astype(np.float32)
    z = RNG.standard_normal((8, 3)).astype(np.float32) * 3
    p = np_sigmoid(z).astype(np.float32)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(y, p)), np_bce(y, p), rtol=1e-5)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(y, z, from_logits=True)),
                               np_bce_logits(y, z), rtol=1e-5)
    a = float(losses.BinaryCrossentropy()(y, p))
    b = float(losses.BinaryCrossentropy(from_logits=True)(y, z))
    assert a == pytest.approx(b, rel=1e-4)
    ys = y * 0.8 + 0.1
    np.testing.assert_allclose(float(losses.BinaryCrossentropy(label_smoothing=0.2)(y, p)),
                               np_bce(ys, p).mean(), rtol=1e-5)


def test_binary_crossentropy_is_stable_for_extreme_values():
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    z = np.array([[-200.0], [200.0], [200.0], [-200.0]], np.float32)
    v = _np(losses.binary_crossentropy(y, z, from_logits=True))
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(v, [200, 200, 0, 0], atol=1e-5)
    p = np.array([[0.0], [1.0], [1.0], [0.0]], np.float32)  # saturated probabilities
    v = _np(losses.binary_crossentropy(y, p))
    assert np.all(np.isfinite(v)) and v.max() < 17  # -log(1e-7) ~ 16.1
    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        loss = losses.BinaryCrossentropy(from_logits=True)(y, zt)
    assert np.all(np.isfinite(tape.gradient(loss, zt).numpy()))


def test_categorical_crossentropy():
    z = RNG.standard_normal((5, 4)).astype(np.float32) * 2
    y = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, 5)]
    ref = -(y * np_log_softmax(z)).sum(-1)
    p = np.exp(np_log_softmax(z)).astype(np.float32)
    np.testing.assert_allclose(_np(losses.categorical_crossentropy(y, z, from_logits=True)), ref,
                               rtol=1e-5)
    np.testing.assert_allclose(_np(losses.categorical_crossentropy(y, p)), ref, rtol=1e-4)
    assert float(losses.CategoricalCrossentropy(from_logits=True)(y, z)) == pytest.approx(
        ref.mean(), rel=1e-5)
    ys = y * 0.9 + 0.1 / 4
    np.testing.assert_allclose(
        float(losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(y, z)),
        (-(ys * np_log_softmax(z)).sum(-1)).mean(), rtol=1e-5)
    big = np.array([[1000.0, -1000.0, 0.0]], np.float32)
    yb = np.array([[0.0, 1.0, 0.0]], np.float32)
    v = _np(losses.categorical_crossentropy(yb, big, from_logits=True))[0]
    assert v == pytest.approx(2000.0)
    v = _np(losses.categorical_crossentropy(yb, np.array([[1.0, 0.0, 0.0]], np.float32)))[0]
    assert np.isfinite(v) and v == pytest.approx(-np.log(EPS), rel=1e-3)


def test_sparse_categorical_crossentropy():
    z = RNG.standard_normal((6, 5)).astype(np.float32) * 2
    labels = RNG.integers(0, 5, 6)
    ref = -np_log_softmax(z)[np.arange(6), labels]
    np.testing.assert_allclose(
        _np(losses.sparse_categorical_crossentropy(labels, z, from_logits=True)), ref, rtol=1e-5)
    p = np.exp(np_log_softmax(z)).astype(np.float32)
    np.testing.assert_allclose(_np(losses.sparse_categorical_crossentropy(labels, p)), ref,
                               rtol=1e-4)
    for y in (labels[:, None], labels.astype(np.float32), labels.astype(np.int64)[:, None]):
        assert float(losses.SparseCategoricalCrossentropy(from_logits=True)(y, z)) == \
            pytest.approx(ref.mean(), rel=1e-5)
    big = np.array([[500.0, -500.0]], np.float32)
    assert _np(losses.sparse_categorical_crossentropy([1], big, from_logits=True))[0] == \
        pytest.approx(1000.0)
    v = _np(losses.sparse_categorical_crossentropy([1], np.array([[1.0, 0.0]], np.float32)))[0]
    assert np.isfinite(v) and v == pytest.approx(-np.log(EPS), rel=1e-3)


def test_probabilities_from_a_softmax_or_sigmoid_op_use_its_logits_in_a_graph():
    z = np.array([[60.0, -60.0, 0.0], [0.0, 1.0, 2.0]], np.float32)
    labels = np.array([1, 2])
    ref = -np_log_softmax(z)[np.arange(2), labels]  # 120 for the first row: beyond clipping
    g = tf.Graph()
    with g.as_default():
        zt = tf.placeholder(tf.float32, [None, 3])
        probs = tf.nn.softmax(zt)
        sparse = losses.sparse_categorical_crossentropy(labels, probs)
        onehot = losses.categorical_crossentropy(np.eye(3, dtype=np.float32)[labels], probs)
        bce = losses.binary_crossentropy(np.zeros((2, 3), np.float32), tf.sigmoid(zt))
        fused = [op.type for op in g.get_operations()]
    assert "SparseSoftmaxCrossEntropyWithLogits" in fused
    assert "SoftmaxCrossEntropyWithLogits" in fused
    with tf.Session(graph=g) as sess:
        s, o, b = sess.run([sparse, onehot, bce], {zt: z})
    np.testing.assert_allclose(s, ref, rtol=1e-5)
    np.testing.assert_allclose(o, ref, rtol=1e-5)
    np.testing.assert_allclose(b, np_bce_logits(np.zeros((2, 3)), z), rtol=1e-5)


def test_loss_get_and_config():
    for name, cls in [("mse", losses.MeanSquaredError), ("mae", losses.MeanAbsoluteError),
                      ("binary_crossentropy", losses.BinaryCrossentropy),
                      ("categorical_crossentropy", losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                      ("MeanSquaredError", losses.MeanSquaredError)]:
        obj = losses.get(name)
        assert isinstance(obj, cls)
    assert losses.get("mse").name == "mse"
    inst = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert losses.get(inst) is inst
    clone = losses.deserialize(losses.serialize(inst))
    assert isinstance(clone, losses.SparseCategoricalCrossentropy)
    assert clone.get_config()["from_logits"] is True
    wrapped = losses.get(lambda y, p: tf.reduce_mean(tf.abs(y - p), -1))
    assert float(wrapped(np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32))) == 1.0
    with pytest.raises(ValueError, match="Could not interpret"):
        losses.get("hinge_of_doom")
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


# -- metrics ---------------------------------------------------------------------------------------


def test_mean_and_sum_accumulate_and_reset():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state([4.0])
    assert float(m.result()) == pytest.approx(2.5)
    m.update_state([10.0, 0.0], sample_weight=[1.0, 3.0])
    assert float(m.result()) == pytest.approx((10 + 10) / 8)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert float(m(5.0)) == 5.0
    s = metrics.Sum()
    s.update_state([1.0, 2.0])
    s.update_state(np.ones((2, 2)), sample_weight=[[2.0], [0.0]])
    assert float(s.result()) == pytest.approx(7.0)
    s.reset_states()
    assert float(s.result()) == 0.0
    assert all(not v.trainable for v in m.variables + s.variables)


def test_accuracy_metrics():
    acc = metrics.BinaryAccuracy()
    acc.update_state([[1], [0], [1], [0]], [[0.9], [0.2], [0.4], [0.6]])
    assert float(acc.result()) == pytest.approx(0.5)
    acc.update_state([1, 1], [[0.7], [0.8]])  # labels [batch] vs predictions [batch, 1]
    assert float(acc.result()) == pytest.approx(4 / 6)
    assert float(metrics.BinaryAccuracy(threshold=0.1)([[1], [0]], [[0.2], [0.05]])) == 1.0
    cat = metrics.CategoricalAccuracy()
    cat.update_state(np.eye(3)[[0, 1, 2]], [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]])
    assert float(cat.result()) == pytest.approx(2 / 3)
    sp = metrics.SparseCategoricalAccuracy()
    sp.update_state([[0], [1], [2]], [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]])
    sp.update_state(np.array([1.0]), [[0.1, 0.9, 0.0]])
    assert float(sp.result()) == pytest.approx(3 / 4)
    sp.update_state([0, 0], [[1, 0, 0], [0, 1, 0]], sample_weight=[0.0, 4.0])
    assert float(sp.result()) == pytest.approx(3 / 8)
    a = metrics.Accuracy()
    a.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert float(a.result()) == pytest.approx(0.75)


def test_mean_squared_error_metric_and_get():
    m = metrics.get("mse")
    assert isinstance(m, metrics.MeanSquaredError) and m.name == "mse"
    m.update_state([[1.0, 2.0]], [[2.0, 4.0]])
    m.update_state([[0.0, 0.0]], [[0.0, 0.0]])
    assert float(m.result()) == pytest.approx(1.25)
    assert isinstance(metrics.get("sparse_categorical_accuracy"),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("BinaryAccuracy"), metrics.BinaryAccuracy)
    custom = metrics.get(lambda y, p: tf.abs(y - p))
    custom.update_state([1.0, 2.0], [2.0, 2.0])
    assert float(custom.result()) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Could not interpret"):
        metrics.get("f7_score")


def test_metric_updates_inside_a_traced_step():
    m = metrics.SparseCategoricalAccuracy()
    loss_mean = metrics.Mean(name="loss")

    @tf.function
    def step(y, p):
        m.update_state(y, p)
        loss_mean.update_state(tf.reduce_sum(p))

    p = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    step(np.array([0, 0], np.int32), p)
    step(np.array([0, 1], np.int32), p)
    assert step.experimental_get_tracing_count() == 1
    assert float(m.result()) == pytest.approx(0.75)
    assert float(loss_mean.result()) == pytest.approx(2.0)
    m.reset_state()
    step(np.array([1, 1], np.int32), p)
    assert float(m.result()) == pytest.approx(0.5)


def test_resolve_accuracy_like_keras():
    r = metrics.resolve_accuracy
    assert isinstance(r("binary_crossentropy", (32, 1), (None, 1)), metrics.BinaryAccuracy)
    assert isinstance(r(losses.BinaryCrossentropy(), (32, 5), (None, 5)), metrics.BinaryAccuracy)
    assert isinstance(r("sparse_categorical_crossentropy", (32,), (None, 10)),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(r(losses.CategoricalCrossentropy(from_logits=True), (32, 10), (None, 10)),
                      metrics.CategoricalAccuracy)
    # other losses: decided by shapes
    assert isinstance(r("mse", (32, 1), (None, 1)), metrics.BinaryAccuracy)
    assert isinstance(r(None, (32,), (None, 10)), metrics.SparseCategoricalAccuracy)
    assert isinstance(r(None, (32, 1), (None, 10)), metrics.SparseCategoricalAccuracy)
    assert isinstance(r(None, (32, 10), (None, 10)), metrics.CategoricalAccuracy)
    assert r("mse", (32, 1), (None, 1), name="acc").name == "acc"
