"""End to end: the course's MLP trained on a 10k-image MNIST subset with model.fit reaches at
least 95 % on the full 10k test set. Marked ``slow`` (deselect with ``-m "not slow"``) but
part of the default suite; it needs the cached data set (``python -m minitf.datasets fetch
mnist``)."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf


def _mnist():
    try:
        return tf.keras.datasets.mnist.load_data()
    except Exception as e:  # noqa: BLE001 - any failure to find the cache means "skip"
        pytest.skip(f"MNIST is not cached ({e}); run `python -m minitf.datasets fetch mnist`")


@pytest.mark.slow
def test_mlp_on_10k_mnist_subset_reaches_95_percent():
    (x_train, y_train), (x_test, y_test) = _mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    x_train = x_train[:10000].astype("float32") / 255.0
    y_train = y_train[:10000].astype("int32")
    x_test = x_test.astype("float32") / 255.0
    # standardized inputs and a wider, more strongly regularized layer than chapter 9's:
    # with a sixth of the data, 784-128-10 with dropout 0.2 stalls near 95.2 % (measured)
    mean, std = x_train.mean(), x_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    tf.random.set_seed(0)
    batch = 32
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(10),
    ])
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(
        1e-3, decay_steps=-(-len(x_train) // batch), decay_rate=0.9)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=batch, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95

    loss, acc = model.evaluate(x_test, y_test.astype("int32"), batch_size=2000, verbose=0)
    assert acc >= 0.95, f"test accuracy {acc:.4f} (loss {loss:.4f})"  # measured: 0.9566
    pred = model.predict(x_test, batch_size=2000, verbose=0)
    assert pred.shape == (10000, 10)
    assert np.mean(pred.argmax(1) == y_test) == pytest.approx(acc)
