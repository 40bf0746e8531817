"""Keras under bad input behaves as Keras does: clear errors with Keras's wording instead of
training on nothing, generators as ``x``, uint8 images, progress bars for evaluate/predict."""

import io
import warnings

import numpy as np
import pytest

import minitf as tf
from minitf.keras import callbacks as callbacks_module


@pytest.fixture
def model():
    tf.random.set_seed(0)
    m = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(4,))])
    m.compile(optimizer="sgd", loss="mse")
    return m


X = np.linspace(0, 1, 40, dtype=np.float32).reshape(10, 4)
Y = X.sum(axis=1, keepdims=True)


def test_empty_arrays_are_an_error(model):
    empty_x, empty_y = np.zeros((0, 4), np.float32), np.zeros((0, 1), np.float32)
    for call in (lambda: model.fit(empty_x, empty_y, verbose=0),
                 lambda: model.evaluate(empty_x, empty_y, verbose=0),
                 lambda: model.predict(empty_x)):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            call()


def test_an_empty_dataset_is_an_error(model):
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).take(0).batch(4)
    with pytest.raises(ValueError, match="empty dataset"):
        model.fit(ds, verbose=0)
    with pytest.raises(ValueError, match="empty dataset"):
        model.evaluate(ds, verbose=0)
    with pytest.raises(ValueError, match="predict_function"):
        model.predict(ds.map(lambda x, y: x))


@pytest.mark.parametrize("bs", [0, -1])
def test_batch_size_must_be_positive(model, bs):
    with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but got "
                                         f"batch_size={bs}"):
        model.fit(X, Y, batch_size=bs, verbose=0)


def test_negative_steps_per_epoch_is_an_error(model):
    with pytest.raises(ValueError, match="steps_per_epoch should be a positive integer value"):
        model.fit(X, Y, steps_per_epoch=-1, verbose=0)


@pytest.mark.parametrize("split", [1.0, 1.5])
def test_validation_split_of_one_or_more_is_an_error(model, split):
    with pytest.raises(ValueError, match="not sufficient to split it into a validation"):
        model.fit(X, Y, validation_split=split, verbose=0)


def test_negative_validation_split_is_an_error(model):
    with pytest.raises(ValueError, match=r"`validation_split` must be in \[0, 1\)"):
        model.fit(X, Y, validation_split=-0.1, verbose=0)


def test_infinite_dataset_without_steps_per_epoch_is_an_error_not_a_hang(model):
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4).repeat()
    with pytest.raises(ValueError, match="infinitely repeating dataset.*steps_per_epoch"):
        model.fit(ds, verbose=0)
    history = model.fit(ds, steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_a_python_generator_is_accepted_as_x(model):
    def gen():
        for i in range(0, 10, 4):
            yield X[i:i + 4], Y[i:i + 4]

    history = model.fit(gen(), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.isfinite(model.evaluate(gen(), verbose=0))
    out = model.predict((X[i:i + 4],) for i in range(0, 10, 4))
    assert out.shape == (10, 1)
    with pytest.raises(ValueError, match="generator must return a tuple"):
        model.predict(X[i:i + 4] for i in range(0, 10, 4))


def test_an_exhausted_generator_stops_training_with_a_warning(model):
    def gen():
        for i in range(0, 10, 4):
            yield X[i:i + 4], Y[i:i + 4]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(gen(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
    assert any("ran out of data" in str(w.message) for w in caught)


def test_uint8_images_are_cast_to_the_kernels_float_dtype():
    tf.random.set_seed(0)
    images = np.random.default_rng(0).integers(0, 256, (16, 4, 4, 1)).astype(np.uint8)
    labels = np.arange(16) % 3
    m = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(4, 4, 1)),
                             tf.keras.layers.Dense(3)])
    m.compile(optimizer="sgd", loss=tf.keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    m.fit(images, labels, epochs=1, verbose=0)
    out = m.predict(images)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, m.predict(images.astype(np.float32)), rtol=1e-6)


def _captured(monkeypatch):
    buf = io.StringIO()
    real = callbacks_module.ProgbarLogger.__init__

    def init(self, verbose=1, stream=None):
        real(self, verbose, buf)

    monkeypatch.setattr(callbacks_module.ProgbarLogger, "__init__", init)
    return buf


def test_evaluate_and_predict_auto_verbose_show_a_progress_line(model, monkeypatch):
    buf = _captured(monkeypatch)
    model.evaluate(X, Y, batch_size=4)  # verbose="auto"
    line = buf.getvalue()
    assert line.startswith("3/3 ━━━━━━━━━━━━━━━━━━━━ ") and "/step - loss: " in line
    buf.truncate(0)
    buf.seek(0)
    model.predict(X, batch_size=5, verbose="auto")
    assert buf.getvalue().startswith("2/2 ━━━━━━━━━━━━━━━━━━━━ ")
    buf.truncate(0)
    buf.seek(0)
    model.predict(X)  # minitf's predict defaults to verbose=0
    model.evaluate(X, Y, verbose=0)
    assert buf.getvalue() == ""


def test_uint8_images_reach_a_conv2d_as_float32():
    tf.random.set_seed(0)
    images = np.random.default_rng(1).integers(0, 256, (4, 6, 6, 1)).astype(np.uint8)
    conv = tf.keras.layers.Conv2D(2, 3)
    out = conv(images)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), conv(images.astype(np.float32)).numpy(), rtol=1e-5)
