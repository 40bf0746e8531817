"""Per-op overhead of the eager path and of a traced step (a measurement, not a test).

    python benchmarks/dispatch.py [--repeats 7] [--root TREE]  # prints one JSON line

Times 10 000 eager ``tf.add`` calls on 4-element tensors (the Python cost of ``execute``:
conversion, shape rule, dispatch, tape check), the same under a GradientTape watching the
inputs, and 1 000 calls of a ``tf.function`` training step of a 32-16-1 dense layer pair.
Each figure is the median of ``--repeats`` runs after a warm-up, in CPU seconds of this
process (``time.process_time``: on a shared machine wall time mostly measures the neighbours).
``--root`` points at another checkout, to compare two trees (run them alternately).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = ap.parse_args()
    sys.path.insert(0, args.root)
    import numpy as np

    import minitf as tf

    a, b = tf.constant(np.ones(4, np.float32)), tf.constant(np.ones(4, np.float32))

    def eager() -> None:
        for _ in range(10_000):
            tf.add(a, b)

    def taped() -> None:
        with tf.GradientTape() as tape:
            tape.watch(a)
            for _ in range(10_000):
                tf.add(a, b)

    rng = np.random.default_rng(0)
    w1 = tf.Variable(rng.normal(size=(32, 16)).astype(np.float32))
    w2 = tf.Variable(rng.normal(size=(16, 1)).astype(np.float32))
    x = tf.constant(rng.normal(size=(8, 32)).astype(np.float32))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(tf.tanh(tf.matmul(x, w1)), w2)))
        g1, g2 = tape.gradient(loss, [w1, w2])
        w1.assign_sub(0.01 * g1)
        w2.assign_sub(0.01 * g2)
        return loss

    def traced() -> None:
        for _ in range(1_000):
            step(x)

    out = {"minitf": str(Path(tf.__file__).parent.parent)}
    for name, fn in (("eager_add_10k_s", eager), ("taped_add_10k_s", taped),
                     ("traced_step_1k_s", traced)):
        fn()
        times = []
        for _ in range(args.repeats):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        out[name] = round(statistics.median(times), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
