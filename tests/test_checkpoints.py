"""tf.train.CheckpointManager (max_to_keep, checkpoint_interval, latest_checkpoint, restore of
optimizer slots and RNG state) and tf.compat.v1.train.Saver for graphs."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf

tf1 = tf.compat.v1


def _model():
    m = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(4,)),
                             tf.keras.layers.Dropout(0.5), tf.keras.layers.Dense(1)])
    m.compile(tf.keras.optimizers.Adam(0.01), "mse")
    return m


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")


def test_manager_keeps_the_newest_and_resumes_exactly(tmp_path):
    x, y = _data()
    m = _model()
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(step=step, model=m, optimizer=m.optimizer)
    manager = tf.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.restore_or_initialize() is None
    for _ in range(3):
        m.fit(x, y, batch_size=4, epochs=1, verbose=0)
        step.assign_add(1)
        manager.save()
    assert [p.rsplit("/", 1)[-1] for p in manager.checkpoints] == ["ckpt-2.ckpt", "ckpt-3.ckpt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "ckpt-2.ckpt",
                                                          "ckpt-3.ckpt"]
    assert tf.train.latest_checkpoint(tmp_path) == manager.latest_checkpoint
    m.fit(x, y, batch_size=4, epochs=1, verbose=0)  # the uninterrupted run's next epoch
    expected = m.get_weights()

    tf.random.set_seed(99)  # another RNG state: only the restore can make dropout match
    fresh = _model()
    step2 = tf.Variable(0, dtype=tf.int64)
    again = tf.train.CheckpointManager(
        tf.train.Checkpoint(step=step2, model=fresh, optimizer=fresh.optimizer), tmp_path, 2)
    assert again.restore_or_initialize() == manager.latest_checkpoint
    assert int(step2.numpy()) == 3
    assert int(fresh.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy()) - 4
    fresh.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for a, b in zip(fresh.get_weights(), expected):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_manager_checkpoint_interval(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), tmp_path,
                                         max_to_keep=None, step_counter=step,
                                         checkpoint_interval=3)
    saved = []
    for _ in range(7):
        saved.append(manager.save())
        step.assign_add(1)
    assert [p is not None for p in saved] == [True, False, False, True, False, False, True]
    assert saved[3].endswith("ckpt-3.ckpt")
    assert manager.save(check_interval=False) is not None
    with pytest.raises(ValueError, match="step_counter"):
        tf.train.CheckpointManager(tf.train.Checkpoint(step=step), tmp_path, 1,
                                   checkpoint_interval=2)


def test_compat_v1_saver_saves_and_restores_a_graph(tmp_path):
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(tf.zeros([2, 3]), name="w")
        step = tf.Variable(0, name="global_step")
        train = [w.assign_add(tf.ones([2, 3])), step.assign_add(1)]
        saver = tf1.train.Saver(max_to_keep=2)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for _ in range(4):
                sess.run(train)
                saver.save(sess, str(tmp_path / "model"), global_step=step)
            assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "model-3.ckpt",
                                                                  "model-4.ckpt"]
            sess.run(train)
            saver.restore(sess, tf.train.latest_checkpoint(tmp_path))
            np.testing.assert_array_equal(sess.run(w), np.full((2, 3), 4.0, "float32"))
            assert sess.run(step) == 4
            saver.restore(sess, str(tmp_path / "model-3"))
            assert sess.run(step) == 3
    with tf.Graph().as_default():
        tf.Variable(tf.zeros([5]), name="w")
        tf.Variable(0, name="global_step")
        other = tf1.train.Saver()
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            with pytest.raises(ValueError, match="'w'.*shape"):
                other.restore(sess, tf.train.latest_checkpoint(tmp_path))
