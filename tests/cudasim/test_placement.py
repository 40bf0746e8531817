"""Device placement on Numba's CUDA simulator: ``tf.device``, tensors that stay on the GPU,
variables on the device, GradientTape and a tiny Keras model trained on '/GPU:0'.

Sizes are tiny (the simulator runs each GPU thread as a Python thread)."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.framework.device import CPU, GPU, GpuTensor

pytestmark = pytest.mark.gpu_sim


def _on_gpu(t) -> bool:
    return isinstance(t, GpuTensor) and hasattr(t._dev, "copy_to_host")


def test_simulated_gpu_is_listed():
    gpus = tf.config.list_physical_devices("GPU")
    assert [d.device_type for d in gpus] == ["GPU"] and gpus[0].name == "/physical_device:GPU:0"
    assert len(tf.config.list_physical_devices()) == 2


def test_automatic_and_explicit_placement():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert a.device == GPU and _on_gpu(a)  # a GPU exists: automatic placement
    with tf.device("/CPU:0"):
        c = tf.constant([1.0, 2.0])
        d = a * 2.0  # a GPU input, a CPU op: copied to the host
    assert c.device == CPU and d.device == CPU and type(d._value) is np.ndarray
    np.testing.assert_allclose(d.numpy(), [[2, 4], [6, 8]])
    with tf.device("/device:GPU:0"):
        e = c + 1.0  # a CPU input, a GPU op: copied to the device
    assert e.device == GPU and _on_gpu(e)


def test_tensors_stay_on_device_between_ops(monkeypatch):
    from minitf.backends.cuda import placement
    from minitf.framework import device

    copies = []
    real_value, real_to_numpy = device.GpuTensor._value, placement.to_numpy

    def value(self):  # .numpy(), printing, NumPy conversion
        copies.append("numpy")
        return real_value.fget(self)

    def to_numpy(a):  # an op run on the host
        if hasattr(a, "copy_to_host"):
            copies.append("op")
        return real_to_numpy(a)

    monkeypatch.setattr(device.GpuTensor, "_value", property(value))
    monkeypatch.setattr(placement, "to_numpy", to_numpy)
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
    with tf.device("/GPU:0"):
        h = tf.nn.relu(tf.matmul(x, x, transpose_b=True) - 1.0)
        s = tf.reduce_sum(tf.expand_dims(tf.reshape(h, [-1]), 0) * 2.0)
    assert all(_on_gpu(t) for t in (h, s)) and copies == []  # no host round trip
    want = 2 * np.maximum(x.numpy() @ x.numpy().T - 1, 0).sum()
    np.testing.assert_allclose(s.numpy(), want, rtol=1e-5)
    assert copies and set(copies) == {"numpy"}  # .numpy() is the transfer
    with tf.device("/GPU:0"):
        t = tf.transpose(tf.reshape(h, [3, 3, 1]), [2, 0, 1])  # no GPU kernel for this perm
    assert copies[-1] == "op" and t.device == CPU  # ran on the host (soft placement)


def test_transpose_of_the_last_two_axes_on_gpu():
    x = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)  # not multiples of the tile
    with tf.device("/GPU:0"):
        t = tf.transpose(tf.constant(x), [0, 2, 1])
        m = tf.transpose(tf.constant(x[0]))
    assert _on_gpu(t) and _on_gpu(m)
    np.testing.assert_array_equal(t.numpy(), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(m.numpy(), x[0].T)


def test_transpose_of_the_first_two_axes_on_gpu():
    x = np.arange(2 * 5 * 3 * 2, dtype=np.float32).reshape(2, 5, 3, 2)
    with tf.device("/GPU:0"):
        t = tf.transpose(tf.constant(x[..., 0]), [1, 0, 2])  # batch-major <-> time-major
        u = tf.transpose(tf.constant(x), [1, 0, 2, 3])
    assert _on_gpu(t) and _on_gpu(u)
    np.testing.assert_array_equal(t.numpy(), x[..., 0].transpose(1, 0, 2))
    np.testing.assert_array_equal(u.numpy(), x.transpose(1, 0, 2, 3))


def test_variables_live_on_the_device():
    with tf.device("/GPU:0"):
        v = tf.Variable(np.ones((2, 3), np.float32))
    with tf.device("/CPU:0"):
        w = tf.Variable(np.ones((2, 3), np.float32))
    assert v.device == GPU and hasattr(v._value, "copy_to_host")
    assert w.device == CPU and type(w._value) is np.ndarray
    with tf.device("/CPU:0"):
        v.assign_add(tf.ones((2, 3)))  # runs where the variable lives, stays there
        w.assign(v.read_value())
    assert hasattr(v._value, "copy_to_host") and type(w._value) is np.ndarray
    np.testing.assert_array_equal(v.numpy(), 2 * np.ones((2, 3)))
    np.testing.assert_array_equal(w.numpy(), v.numpy())


def test_gradient_tape_on_gpu_matches_numpy():
    rng = np.random.default_rng(0)
    xn, wn = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(3, 2)).astype(np.float32)
    with tf.device("/GPU:0"):
        x, w = tf.constant(xn), tf.Variable(wn)
        with tf.GradientTape() as tape:
            y = tf.nn.sigmoid(tf.matmul(x, w))
            loss = tf.reduce_mean(tf.square(y - 1.0))
        g = tape.gradient(loss, w)
    assert _on_gpu(g)
    yn = 1 / (1 + np.exp(-(xn @ wn)))
    gn = xn.T @ (2 * (yn - 1) / yn.size * yn * (1 - yn))
    np.testing.assert_allclose(g.numpy(), gn, rtol=1e-4, atol=1e-6)


def test_graph_session_placement():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None, 2])
        with tf.device("/GPU:0"):
            b = tf.reduce_sum(tf.matmul(a, a, transpose_b=True), axis=1)
        with tf.device("/CPU:0"):
            c = b * 2.0
        with tf.Session() as sess:
            bv, cv = sess.run([b, c], {a: [[1.0, 2.0], [3.0, 4.0]]})
    assert b.device == GPU and c.device == CPU
    assert type(bv) is np.ndarray  # fetches come back to the host
    np.testing.assert_allclose(cv, 2 * bv)
    np.testing.assert_allclose(bv, [16.0, 36.0])


def _fit(where: str):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int32)
    tf.random.set_seed(3)
    with tf.device(where):
        model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation="relu", input_shape=(4,)),
                                     tf.keras.layers.Dense(2)])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.05),
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        hist = model.fit(x, y, batch_size=12, epochs=2, verbose=0)
    return model, hist.history["loss"], [w.numpy() for w in model.weights]


def test_dense_model_fits_on_gpu_like_on_cpu():
    gpu_model, gpu_loss, gpu_w = _fit("/GPU:0")
    cpu_model, cpu_loss, cpu_w = _fit("/CPU:0")
    assert all(w.device == GPU for w in gpu_model.weights)
    assert all(w.device == CPU for w in cpu_model.weights)
    np.testing.assert_allclose(gpu_loss, cpu_loss, rtol=1e-4)
    for a, b in zip(gpu_w, cpu_w):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
