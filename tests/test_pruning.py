"""``tfmot.sparsity.keras``: schedules against TF-MOT's formulas, the magnitude mask, pruning
while training, strip_pruning and the summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minitf as tf
import minitf.model_optimization as tfmot

L = tf.keras.layers
S = tfmot.sparsity.keras


def test_polynomial_decay_is_tf_mot_formula():
    sched = S.PolynomialDecay(0.1, 0.9, begin_step=10, end_step=110, power=3, frequency=10)
    assert sched(0) == (False, pytest.approx(0.1))  # before begin: p clipped to 0
    assert sched(10) == (True, pytest.approx(0.1))
    assert sched(60) == (True, pytest.approx(0.9 + (0.1 - 0.9) * 0.5**3))
    assert sched(65)[0] is False
    assert sched(110) == (True, pytest.approx(0.9))
    assert sched(120) == (False, pytest.approx(0.9))  # after end_step: no more pruning
    for step in range(0, 130, 7):  # the formula, written out independently
        p = min(1.0, max(0.0, (step - 10) / 100))
        assert sched(step)[1] == pytest.approx(0.9 + (0.1 - 0.9) * (1 - p) ** 3)


def test_constant_sparsity_and_bad_arguments():
    sched = S.ConstantSparsity(0.5, begin_step=5, end_step=20, frequency=5)
    assert [s for s in range(30) if sched(s)[0]] == [5, 10, 15, 20]
    assert sched(7)[1] == 0.5
    forever = S.ConstantSparsity(0.8, 0)
    assert forever(10**6) == (True, 0.8)
    with pytest.raises(ValueError, match="end_step > begin_step"):
        S.PolynomialDecay(0.0, 0.5, 10, 10)
    with pytest.raises(ValueError, match="target_sparsity"):
        S.ConstantSparsity(1.0, 0)


def test_magnitude_mask_keeps_the_largest_weights():
    w = np.random.default_rng(0).normal(size=(20, 10))
    mask, thr = S.magnitude_mask(w, 0.7)
    assert mask.sum() == 60 and np.all(np.abs(w[mask == 1]) >= thr)
    assert np.all(np.abs(w[mask == 0]) < thr)
    bmask, _ = S.magnitude_mask(w, 0.5, block_size=(2, 5))
    blocks = bmask.reshape(10, 2, 2, 5)
    assert np.all(blocks.min(axis=(1, 3)) == blocks.max(axis=(1, 3)))  # whole blocks
    assert bmask.mean() == 0.5


def _model():
    return tf.keras.Sequential([L.Dense(32, activation="relu", input_shape=(12,)), L.Dense(3)])


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 12)).astype(np.float32)
    return x, (x[:, :3].argmax(1)).astype(np.int64)


def _compile(m):
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])


def test_pruning_while_training_reaches_the_schedule(tmp_path):
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    sched = S.PolynomialDecay(0.0, 0.8, begin_step=0, end_step=20, frequency=5)
    pruned = S.prune_low_magnitude(model, pruning_schedule=sched)
    assert [type(layer).__name__ for layer in pruned.layers] == ["PruneLowMagnitude"] * 2
    _compile(pruned)
    summaries = S.PruningSummaries(log_dir=str(tmp_path))
    pruned.fit(*_data(), batch_size=32, epochs=4, verbose=0,
               callbacks=[S.UpdatePruningStep(), summaries])
    stripped = S.strip_pruning(pruned)
    assert [type(layer).__name__ for layer in stripped.layers] == ["Dense", "Dense"]
    for layer in stripped.layers:
        assert np.mean(layer.kernel.numpy() == 0) == pytest.approx(0.8, abs=0.02)
    # the original model was cloned, not changed
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    lines = (tmp_path / "pruning_summaries.jsonl").read_text().splitlines()
    assert len(lines) == 8 and json.loads(lines[-1])["sparsity"] == pytest.approx(0.8, abs=0.02)
    x = _data()[0]
    np.testing.assert_allclose(stripped.predict(x), pruned.predict(x), rtol=1e-6, atol=1e-6)


def test_pruned_weights_get_no_gradient():
    layer = S.prune_low_magnitude(L.Dense(4), pruning_schedule=S.ConstantSparsity(0.5, 0))
    x = tf.constant(np.random.default_rng(1).normal(size=(3, 6)).astype(np.float32))
    layer(x)
    layer.update_mask(0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    grad = tape.gradient(loss, layer.layer.kernel).numpy()
    mask = layer.mask.numpy()
    assert mask.mean() == 0.5 and np.all(grad[mask == 0] == 0) and np.any(grad[mask == 1] != 0)


def test_only_kernel_layers_are_pruned():
    with pytest.raises(ValueError, match="Dense and Conv2D"):
        S.prune_low_magnitude(L.Flatten())
