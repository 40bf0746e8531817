"""Complex tensors: values against NumPy, TensorFlow's gradient convention in eager, tape,
graph and tf.function, PyTorch's complex autograd as an independent oracle, and the errors
for ops TensorFlow does not define on complex numbers. (Per-op finite differences and backend
parity come from ``op_cases.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf

Z = np.array([3 + 4j, 2j, -1 - 1j, 0.5 - 2j])


def test_parts_values_and_dtypes(backend):
    z = tf.complex(tf.constant(Z.real.astype(np.float32)), tf.constant(Z.imag.astype(np.float32)))
    assert z.dtype == tf.complex64
    np.testing.assert_allclose(z.numpy(), Z.astype(np.complex64))
    for fn, ref in [(tf.math.real, np.real), (tf.math.imag, np.imag), (tf.abs, np.abs),
                    (tf.math.angle, np.angle)]:
        out = fn(z)
        assert out.dtype == tf.float32, fn
        np.testing.assert_allclose(out.numpy(), ref(Z), rtol=1e-6, err_msg=fn.__name__)
    np.testing.assert_allclose(tf.math.conj(z).numpy(), np.conj(Z), rtol=1e-6)
    np.testing.assert_allclose(abs(z).numpy(), np.abs(Z), rtol=1e-6)  # Python's abs: tf.abs
    assert tf.complex(tf.constant([1.0], tf.float64), 2.0).dtype == tf.complex128


def test_parts_of_real_tensors_as_tf():
    x = tf.constant([-2.0, 0.0, 3.0])
    assert tf.math.real(x) is x and tf.math.conj(x) is x
    np.testing.assert_array_equal(tf.math.imag(x).numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(tf.math.angle(x).numpy(), [np.pi, 0.0, 0.0])


def test_cast_rules(backend):
    z = tf.constant(Z.astype(np.complex64))
    np.testing.assert_array_equal(tf.cast(z, tf.float32).numpy(), Z.real.astype(np.float32))
    np.testing.assert_array_equal(tf.cast(z, tf.int32).numpy(), Z.real.astype(np.int32))
    c = tf.cast(tf.constant([1.5, -2.0]), tf.complex128)
    assert c.dtype == tf.complex128
    np.testing.assert_array_equal(c.numpy(), [1.5 + 0j, -2.0 + 0j])


def test_arithmetic_reductions_matmul(backend):
    rng = np.random.default_rng(0)
    a = (rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))).astype(np.complex64)
    b = (rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))).astype(np.complex64)
    ta, tb = tf.constant(a), tf.constant(b)
    np.testing.assert_allclose(tf.matmul(ta, tb).numpy(), a @ b, rtol=1e-5)
    np.testing.assert_allclose(tf.matmul(ta, ta, adjoint_b=True).numpy(), a @ a.conj().T,
                               rtol=1e-5)
    np.testing.assert_allclose((ta * ta / (ta + 1.0) - ta).numpy(), a * a / (a + 1) - a,
                               rtol=1e-5)
    np.testing.assert_allclose(tf.reduce_sum(ta, axis=0).numpy(), a.sum(0), rtol=1e-5)
    np.testing.assert_allclose(tf.reduce_mean(ta).numpy(), a.mean(), rtol=1e-5)
    np.testing.assert_allclose(tf.exp(ta).numpy(), np.exp(a), rtol=1e-5)


@pytest.mark.parametrize("fn", [tf.maximum, tf.minimum, tf.less, tf.greater_equal],
                         ids=lambda f: f.__name__)
def test_ops_undefined_on_complex_name_op_and_dtype(fn):
    z = tf.constant(Z.astype(np.complex64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="complex64") as info:
        fn(z, z)
    assert "complex numbers" in str(info.value)


@pytest.mark.parametrize("fn", [tf.nn.relu, tf.math.floor, tf.nn.softplus, tf.nn.elu],
                         ids=lambda f: f.__name__)
def test_unary_ops_undefined_on_complex(fn):
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not support dtype complex"):
        fn(tf.constant(Z.astype(np.complex64)))


# -- TensorFlow's gradient convention ------------------------------------------------------------

CONVENTION = [  # (real loss of z, its TF gradient dL/dRe + i dL/dIm)
    ("abs2", lambda z: tf.reduce_sum(tf.abs(z) ** 2), lambda z: 2 * z),
    ("abs", lambda z: tf.reduce_sum(tf.abs(z)), lambda z: z / np.abs(z)),
    ("real_z2", lambda z: tf.reduce_sum(tf.math.real(z * z)), lambda z: 2 * np.conj(z)),
    ("z_conj_z", lambda z: tf.reduce_sum(tf.math.real(z * tf.math.conj(z))), lambda z: 2 * z),
]


@pytest.mark.parametrize("loss,want", [c[1:] for c in CONVENTION], ids=[c[0] for c in CONVENTION])
def test_gradient_convention_eager_graph_function(loss, want):
    expect = want(Z)
    z = tf.constant(Z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = loss(z)
    np.testing.assert_allclose(tape.gradient(y, z).numpy(), expect, rtol=1e-12)

    v = tf.Variable(Z)
    with tf.GradientTape() as tape:
        y = loss(v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), expect, rtol=1e-12)

    @tf.function
    def step():
        with tf.GradientTape() as t:
            out = loss(v)
        return t.gradient(out, v)

    np.testing.assert_allclose(step().numpy(), expect, rtol=1e-12)

    g = tf.Graph()
    with g.as_default():
        ph = tf.placeholder(tf.complex128, [4])
        (grad,) = tf.gradients(loss(ph), [ph])
    with tf.Session(graph=g) as sess:
        np.testing.assert_allclose(sess.run(grad, {ph: Z}), expect, rtol=1e-12)


def test_gradient_descent_on_complex_variable_converges():
    """With TF's convention, z -= lr * grad is steepest descent: |z - c|² goes to 0."""
    c = tf.constant(np.array([1 - 2j, 0.5j]))
    z = tf.Variable(np.zeros(2, np.complex128))
    for _ in range(50):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.abs(z - c) ** 2)
        z.assign_sub(0.1 * tape.gradient(loss, z))
    np.testing.assert_allclose(z.numpy(), c.numpy(), atol=1e-4)


# -- PyTorch's complex autograd as an oracle (also the conjugate-Wirtinger convention) -----------



def assert_grads_match_torch(loss_tf, loss_torch, arrays, rtol, atol=0.0):
    """The loss and the gradient of every input agree between minitf's tape and PyTorch's
    autograd (both give the conjugate-Wirtinger gradient for complex inputs)."""
    import torch

    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        lt = loss_tf(*xs)
    grads = tape.gradient(lt, xs)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    lp = loss_torch(*ts)
    lp.backward()
    np.testing.assert_allclose(lt.numpy(), lp.item(), rtol=1e-12)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


def test_squared_difference_as_tf_and_its_gradient_as_pytorch(backend):
    """TF: (x - y) * conj(x - y), complex with imaginary part 0; the gradient is PyTorch's,
    also for a loss whose complex weight reads the (zero) imaginary part."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    y = rng.normal(size=3) + 1j * rng.normal(size=3)
    w = rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    d = tf.math.squared_difference(tf.constant(x.astype(np.complex64)), y.astype(np.complex64))
    assert d.dtype == tf.complex64
    np.testing.assert_allclose(d.numpy(), (x - y) * np.conj(x - y), rtol=1e-6)
    assert not np.any(d.numpy().imag)

    def loss_tf(a, b):
        return tf.reduce_sum(tf.math.real(tf.math.squared_difference(a, b) * w))

    def loss_torch(a, b):
        return ((a - b) * (a - b).conj() * torch.tensor(w)).real.sum()

    assert_grads_match_torch(loss_tf, loss_torch, [x, y], rtol=1e-10)


def test_against_pytorch_complex_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    b = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))

    def loss_tf(x, y):
        h = tf.matmul(tf.exp(x) * tf.math.conj(x), y) / (tf.cast(tf.abs(y[0]), y.dtype) + 1.0)
        return tf.reduce_sum(tf.abs(h)) + tf.reduce_sum(tf.math.angle(h) * tf.math.imag(h))

    def loss_torch(x, y):
        h = torch.matmul(torch.exp(x) * torch.conj(x), y) / (torch.abs(y[0]) + 1.0)
        return torch.sum(torch.abs(h)) + torch.sum(torch.angle(h) * h.imag)

    assert_grads_match_torch(loss_tf, loss_torch, [a, b], rtol=1e-10)
