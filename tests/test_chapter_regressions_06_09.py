"""Regressions found while writing chapters 06 to 09 (losses, optimizers, the Keras API, MNIST):
the course article's ``x / 255.0`` (float64) inputs, and saving a compiled, untrained model."""

from __future__ import annotations

import numpy as np

import minitf as tf


def _mlp(last_activation: str | None = None) -> tf.keras.Sequential:
    return tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(4, 4)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(3, activation=last_activation),
    ])


def test_layers_cast_float64_inputs_to_float32():
    # Keras' autocast: NumPy's `uint8_images / 255.0` is float64, the weights are float32
    x = np.random.default_rng(0).integers(0, 256, (5, 4, 4)).astype(np.uint8) / 255.0
    assert x.dtype == np.float64
    dense = tf.keras.layers.Dense(2)
    out = dense(x)
    assert out.dtype == tf.float32
    expected = x.reshape(5, 4, 4) @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_fit_evaluate_predict_accept_float64_arrays():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4, 4))                       # float64, as x_train / 255.0
    y = rng.integers(0, 3, 64).astype(np.uint8)      # uint8 labels, as load_data() returns
    model = _mlp("softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:16], y[:16]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    probs = model.predict(x[:5])
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probs, model.predict(x[:5].astype(np.float32)))


def test_integer_inputs_are_not_cast():
    # only floating inputs are autocast; an int tensor reaches the layer unchanged
    layer = tf.keras.layers.Flatten()
    assert layer(np.ones((2, 3, 3), dtype=np.int32)).dtype == tf.int32


def test_compiled_untrained_model_saves_and_loads(tmp_path):
    model = _mlp()
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    path = tmp_path / "untrained.keras"
    model.save(path)                                 # the optimizer has no slots yet
    loaded = tf.keras.models.load_model(path)
    x = np.random.default_rng(1).random((3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert int(loaded.optimizer.iterations.numpy()) == 0
    # and it can be trained after loading, like the original
    y = np.array([0, 1, 2])
    loaded.fit(x, y, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations.numpy()) == 1


def test_trained_model_reload_keeps_optimizer_state(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.random((32, 4, 4)).astype(np.float32), rng.integers(0, 3, 32)
    model = _mlp()
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "trained.keras")
    loaded = tf.keras.models.load_model(tmp_path / "trained.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 4
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_float_and_int_of_an_eager_variable():
    v = tf.Variable(2.5)
    assert float(v) == 2.5
    assert int(tf.Variable(3)) == 3
