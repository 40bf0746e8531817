"""A traced MLP forward + loss, op by op vs ``jit_compile=True`` (a measurement, not a test).

    python benchmarks/jit_forward.py [--repeats 5]   # prints one JSON line

The 784-128-10 MLP's forward and sparse cross-entropy loss alone (whole training steps:
``jit_train.py``), 1 000 calls per figure at batch 32 and 128, median of ``--repeats`` runs
after a warm-up, in CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import minitf as tf

    rng = np.random.default_rng(0)
    w1 = tf.Variable((rng.normal(size=(784, 128)) * 0.05).astype(np.float32))
    b1 = tf.Variable(np.zeros(128, np.float32))
    w2 = tf.Variable((rng.normal(size=(128, 10)) * 0.05).astype(np.float32))
    b2 = tf.Variable(np.zeros(10, np.float32))

    def loss(x, y):
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    out: dict = {}
    for batch in (32, 128):
        x = rng.random((batch, 784), dtype=np.float32)
        y = rng.integers(0, 10, batch).astype(np.int32)
        for name, fn in (("traced", tf.function(loss)),
                         ("jit", tf.function(loss, jit_compile=True))):
            fn(x, y)
            times = []
            for _ in range(args.repeats):
                t0 = time.process_time()
                for _ in range(1_000):
                    fn(x, y)
                times.append(time.process_time() - t0)
            out[f"{name}_b{batch}_1k_s"] = round(statistics.median(times), 4)
        out[f"ratio_b{batch}"] = round(out[f"jit_b{batch}_1k_s"] / out[f"traced_b{batch}_1k_s"], 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
