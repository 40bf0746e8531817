"""The MNIST CNN of ``minitf/examples/mnist_cnn.py`` learns: a short run on a subset reaches a
tolerance band of test accuracy (the full run, >= 99 %, is benchmarks/results/mnist_cnn_full.txt)."""

from __future__ import annotations

import numpy as np
import pytest

from minitf.datasets import _cache
from minitf.examples import mnist_cnn

CACHED = _cache.resolve("mnist.npz").exists()


@pytest.mark.skipif(not CACHED, reason="MNIST is not cached on this machine")
def test_cnn_learns_mnist_subset():
    result = mnist_cnn.train_cnn(epochs=2, batch_size=64, subset=2048, seed=0, verbose=0,
                                 test_subset=1000)
    # measured: 0.84 after 2 epochs on 2048 images (seed 0); chance is 0.10
    assert 0.75 <= result["test_accuracy"] <= 1.0
    assert np.isfinite(result["test_loss"]) and result["test_loss"] < 0.9
    assert len(result["epoch_seconds"]) == 2


def test_cnn_architecture_matches_the_chapter():
    model = mnist_cnn.build_cnn()
    out = model(np.zeros((1, 28, 28, 1), np.float32))
    assert out.shape == (1, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense",
                     "Dense"]
    assert [tuple(layer.output_shape_)[1:] for layer in model.layers] == [
        (26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (1600,), (128,), (10,)]
    assert model.count_params() == 320 + 18496 + 204928 + 1290
