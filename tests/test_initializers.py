"""Initializers: statistics within tolerance bands (not golden values), fans, seeding and
reproducibility; regularizers: values, gradients and ``get``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitf as tf
from minitf.keras import initializers, regularizers

SHAPE = (400, 300)  # 120k samples: the sample std is within ~0.5% of the true one
FAN_AVG = (400 + 300) / 2


def _draw(init, shape=SHAPE, dtype=None) -> np.ndarray:
    out = init(shape, dtype=dtype)
    assert isinstance(out, tf.EagerTensor)
    return out.numpy()


def test_glorot_uniform_is_the_default_limit_and_variance():
    x = _draw(initializers.get("glorot_uniform"))
    limit = math.sqrt(6 / (400 + 300))
    assert x.dtype == np.float32 and x.shape == SHAPE
    assert np.abs(x).max() <= limit
    assert np.abs(x).max() > 0.99 * limit  # fills the whole range
    assert x.var() == pytest.approx(limit**2 / 3, rel=0.03)
    assert abs(x.mean()) < 0.01 * limit


@pytest.mark.parametrize(("name", "fan", "scale"), [
    ("glorot_normal", FAN_AVG, 1.0), ("he_normal", 400, 2.0), ("lecun_normal", 400, 1.0)])
def test_truncated_normal_variance_scaling(name, fan, scale):
    x = _draw(initializers.get(name))
    std = math.sqrt(scale / fan)
    assert x.std() == pytest.approx(std, rel=0.03)
    assert np.abs(x).max() <= 2 * std / 0.87962566103423978 + 1e-6  # truncated at 2 sigma


@pytest.mark.parametrize(("name", "fan", "scale"), [("he_uniform", 400, 2.0),
                                                    ("lecun_uniform", 400, 1.0)])
def test_uniform_variance_scaling(name, fan, scale):
    x = _draw(initializers.get(name))
    limit = math.sqrt(3 * scale / fan)
    assert np.abs(x).max() <= limit
    assert x.var() == pytest.approx(limit**2 / 3, rel=0.03)


def test_fans_of_convolution_kernels_and_vectors():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans(()) == (1, 1)
    x = _draw(initializers.GlorotUniform(), (5, 5, 20, 40))
    assert np.abs(x).max() <= math.sqrt(6 / (500 + 1000))


def test_random_normal_uniform_truncated():
    x = _draw(initializers.RandomNormal(mean=1.0, stddev=0.5))
    assert x.mean() == pytest.approx(1.0, abs=0.01) and x.std() == pytest.approx(0.5, rel=0.02)
    x = _draw(initializers.RandomUniform(minval=-0.2, maxval=0.6))
    assert x.min() >= -0.2 and x.max() < 0.6 and x.mean() == pytest.approx(0.2, abs=0.01)
    x = _draw(initializers.TruncatedNormal(stddev=0.1))
    assert np.abs(x).max() <= 0.2 + 1e-7 and x.std() == pytest.approx(0.088, rel=0.03)
    x = _draw(initializers.RandomNormal())  # Keras default stddev 0.05
    assert x.std() == pytest.approx(0.05, rel=0.02)


def test_constant_initializers_and_dtypes():
    np.testing.assert_array_equal(_draw(initializers.Zeros(), (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(_draw(initializers.get("ones"), (4,)), np.ones(4))
    np.testing.assert_array_equal(_draw(initializers.Constant(2.5), (2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(_draw(initializers.Constant([1.0, 2.0]), (3, 2)),
                                  np.tile([1.0, 2.0], (3, 1)))
    assert _draw(initializers.GlorotUniform(), (3, 3), dtype=tf.float64).dtype == np.float64
    assert _draw(initializers.HeNormal(), (3, 3), dtype="float64").dtype == np.float64
    np.testing.assert_allclose(_draw(initializers.Identity(), (3, 3)), np.eye(3))
    q = _draw(initializers.Orthogonal(), (6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_reproducible_with_set_seed():
    tf.random.set_seed(123)
    a, b = _draw(initializers.GlorotUniform(), (5, 4)), _draw(initializers.HeNormal(), (3,))
    tf.random.set_seed(123)
    a2, b2 = _draw(initializers.GlorotUniform(), (5, 4)), _draw(initializers.HeNormal(), (3,))
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, _draw(initializers.GlorotUniform(), (5, 4)))
    seeded = initializers.RandomNormal(seed=7)
    np.testing.assert_array_equal(_draw(seeded, (4,)), _draw(seeded, (4,)))


def test_eager_values_even_while_building_a_graph():
    with tf.Graph().as_default():
        out = initializers.GlorotUniform()((3, 2))
        assert isinstance(out, tf.EagerTensor)
        v = tf.Variable(out)
        assert v.graph is not None


def test_initializer_get_and_config():
    assert isinstance(initializers.get("xavier"), initializers.GlorotUniform)
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.get(None) is None
    init = initializers.RandomUniform(-1.0, 1.0, seed=3)
    assert initializers.get(init) is init
    clone = initializers.get(initializers.serialize(init))
    assert clone.get_config() == init.get_config()
    assert isinstance(initializers.get({"class_name": "HeNormal", "config": {"seed": 1}}),
                      initializers.HeNormal)
    with pytest.raises(ValueError, match="Could not interpret"):
        initializers.get("glorious")


# -- regularizers ---------------------------------------------------------------------------------


def test_regularizer_values_and_gradient():
    w = np.array([[1.0, -2.0], [0.5, 0.0]], np.float32)
    assert float(regularizers.L2(0.1)(w)) == pytest.approx(0.1 * 5.25)
    assert float(regularizers.l2(0.01)(w)) == pytest.approx(0.0525)
    assert float(regularizers.L1()(w)) == pytest.approx(0.01 * 3.5)
    assert float(regularizers.L1L2(l1=0.1, l2=0.2)(w)) == pytest.approx(0.35 + 1.05)
    assert float(regularizers.l1_l2()(w)) == pytest.approx(0.01 * 3.5 + 0.01 * 5.25)
    assert float(regularizers.L1L2()(w)) == 0.0
    v = tf.Variable(w)
    with tf.GradientTape() as tape:
        penalty = regularizers.L2(0.5)(v)
    np.testing.assert_allclose(tape.gradient(penalty, v).numpy(), w)


def test_regularizer_get():
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg
    clone = regularizers.get(regularizers.serialize(reg))
    assert isinstance(clone, regularizers.L2) and clone.l2 == pytest.approx(0.3)
    with pytest.raises(ValueError, match="Could not interpret"):
        regularizers.get("l3")
