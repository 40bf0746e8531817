"""The course's MNIST convolutional network, trained headlessly.

    python -m minitf.examples.mnist --model cnn                 # full MNIST, 5 epochs, batch 64
    python -m minitf.examples.mnist --model cnn --subset 5000 --epochs 1

Conv(32, 3x3, relu) -> MaxPool 2 -> Conv(64, 3x3, relu) -> MaxPool 2 -> Flatten ->
Dense(128, relu) -> Dense(10), trained with Adam on sparse cross-entropy from logits.
"""

from __future__ import annotations

from typing import Any

import minitf as tf

from .mnist import EpochTimer, load

EPOCHS = 5
BATCH_SIZE = 64


def build_cnn() -> Any:
    """The chapter's CNN: two conv/pool blocks, then a small dense classifier (225k params)."""
    layers = tf.keras.layers
    return tf.keras.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10),
    ])


def train_cnn(epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, subset: int | None = None,
              seed: int = 0, verbose: int = 2, test_subset: int | None = None) -> dict:
    """Train on (the first ``subset`` of) MNIST; test accuracy on (the first ``test_subset`` of)
    the test set, and the seconds each epoch took."""
    tf.random.set_seed(seed)
    (x_train, y_train), (x_test, y_test) = load(subset)
    x_train, x_test = x_train[..., None], x_test[..., None]  # NHWC: one channel
    if test_subset:
        x_test, y_test = x_test[:test_subset], y_test[:test_subset]
    model = build_cnn()
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(
        1e-3, decay_steps=max(len(x_train) // batch_size, 1), decay_rate=0.7)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
              callbacks=[timer])
    loss, acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return {"model": "cnn", "test_accuracy": float(acc), "test_loss": float(loss),
            "epoch_seconds": timer.times, "keras_model": model}


def train(args: Any) -> dict:
    """Entry point of ``minitf.examples.mnist --model cnn``."""
    return train_cnn(args.epochs or EPOCHS, args.batch_size or BATCH_SIZE, args.subset,
                     args.seed, args.verbose)
