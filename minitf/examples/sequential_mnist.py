"""Sequential MNIST, trained headlessly: each image read row by row as 28 steps of 28 pixels.

    python -m minitf.examples.sequential_mnist                    # full MNIST, 5 epochs
    python -m minitf.examples.sequential_mnist --subset 6000 --epochs 1 --cell gru
    python -m minitf.examples.sequential_mnist --save seq_mnist.keras   # for chapter 13

LSTM(128) (or GRU/SimpleRNN) -> Dense(10), Adam 1e-3 decayed x0.7 per epoch, sparse
cross-entropy from logits, batch 64. Prints the test accuracy (the goal is >= 97 %).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import minitf as tf

CELLS = {"lstm": "LSTM", "gru": "GRU", "simple": "SimpleRNN"}


def build(cell: str = "lstm", units: int = 128) -> Any:
    """The network: a recurrent layer over the 28 rows, then a linear classifier."""
    layer = getattr(tf.keras.layers, CELLS[cell])
    return tf.keras.Sequential([layer(units, input_shape=(28, 28)), tf.keras.layers.Dense(10)])


def load(subset: int | None, test_subset: int | None = None) -> tuple:
    """MNIST scaled to [0, 1], as [n, 28 rows, 28 pixels]; ``subset`` training images and
    ``test_subset`` test images (None: all)."""
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:subset], y_train[:subset]
    x_test, y_test = x_test[:test_subset], y_test[:test_subset]
    return ((x_train / 255.0).astype(np.float32), y_train.astype(np.int64),
            (x_test / 255.0).astype(np.float32), y_test.astype(np.int64))


def train(cell: str = "lstm", epochs: int = 5, batch_size: int = 64, subset: int | None = None,
          seed: int = 0, verbose: int = 2, save: str | None = None,
          test_subset: int | None = None) -> dict:
    """Train and evaluate; returns the test accuracy, loss and the seconds of each epoch."""
    tf.random.set_seed(seed)
    x_train, y_train, x_test, y_test = load(subset, test_subset)
    model = build(cell)
    steps = -(-len(x_train) // batch_size)
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=steps,
                                                              decay_rate=0.7)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times: list[float] = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=batch_size, epochs=1, verbose=verbose)
        times.append(time.perf_counter() - start)
    loss, acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    if save:
        model.save(save)
    return {"cell": cell, "test_accuracy": float(acc), "test_loss": float(loss),
            "epoch_seconds": times}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--subset", type=int, default=None, help="training images (default: all)")
    p.add_argument("--test-subset", type=int, default=None, help="test images (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=2)
    p.add_argument("--save", default=None, help="save the trained model to this .keras file")
    args = p.parse_args(argv)
    res = train(args.cell, args.epochs, args.batch_size, args.subset, args.seed, args.verbose,
                args.save, args.test_subset)
    times = ", ".join(f"{t:.2f} s" for t in res["epoch_seconds"])
    print(f"time per epoch: {times}")
    print(f"{res['cell']}: test accuracy {res['test_accuracy']:.4f}, test loss "
          f"{res['test_loss']:.4f}")
    return res


if __name__ == "__main__":
    main()
