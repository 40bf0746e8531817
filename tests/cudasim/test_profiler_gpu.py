"""``tf.profiler`` with ops placed on the (simulated) GPU: eager and tf.function kernels are
timed through the placement path, and FLOPs are counted from device arrays."""

from __future__ import annotations

import numpy as np

import minitf as tf


def test_profile_records_gpu_kernels():
    a = tf.constant(np.ones((8, 4), np.float32))
    b = tf.constant(np.ones((4, 3), np.float32))

    @tf.function
    def f(z):
        return tf.reduce_sum(tf.matmul(z, z))

    z = np.ones((4, 4), np.float32)
    f(z)  # traced outside the profile
    with tf.profiler.Profile() as prof:
        c = tf.nn.relu(tf.matmul(a, b))
        f(z)
    assert c.device.endswith("GPU:0")
    np.testing.assert_allclose(c.numpy(), np.full((8, 3), 4.0))
    rows = {r.key: r for r in prof.stats()}
    assert rows["MatMul"].calls == 2
    assert rows["MatMul"].flops == 2 * 8 * 4 * 3 + 2 * 4 * 4 * 4
    assert rows["Relu"].flops == 24
    assert {e[2] for e in prof.events} == {"eager", "tf.function"}
