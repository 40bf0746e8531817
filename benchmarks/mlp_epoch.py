"""One MNIST epoch of the 784-128-10 MLP with Adam, side by side (a measurement, not a test).

    python benchmarks/mlp_epoch.py [--repeats 3]   # -> benchmarks/results/mlp_epoch.{json,md}

Times, in one process and one run: minitf's ``model.fit`` (traced step, Numba backend), a
hand-written NumPy loop of the same network (forward, backward, Adam by hand), and, when they
are installed (optional, not in CI), PyTorch CPU and Keras on TensorFlow. Each figure is the
median of ``--repeats`` full epochs after one warm-up epoch. Two threads on two cores collapse
when anything else runs: measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load() -> tuple[np.ndarray, np.ndarray]:
    import minitf as tf

    (x, y), _ = tf.keras.datasets.mnist.load_data()
    return (x.reshape(-1, 784).astype(np.float32) / 255.0), y.astype(np.int64)


def median_epoch(run_epoch, repeats: int) -> float:
    run_epoch()  # warm-up: JIT compilation, tracing, allocator
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_minitf(x, y, batch):
    import minitf as tf

    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(128, activation="relu", input_shape=(784,)),
                                 tf.keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    yi = y.astype(np.int32)
    return lambda: model.fit(x, yi, batch_size=batch, epochs=1, verbose=0)


def bench_numpy(x, y, batch):
    rng = np.random.default_rng(0)
    lim1, lim2 = np.sqrt(6 / (784 + 128)), np.sqrt(6 / (128 + 10))
    params = [rng.uniform(-lim1, lim1, (784, 128)).astype(np.float32), np.zeros(128, np.float32),
              rng.uniform(-lim2, lim2, (128, 10)).astype(np.float32), np.zeros(10, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    state = {"t": 0}
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7

    def epoch():
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            xb, yb = x[idx], y[idx]
            w1, c1, w2, c2 = params
            h = np.maximum(xb @ w1 + c1, 0)
            z = h @ w2 + c2
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1
            dz = p / len(yb)
            dh = (dz @ w2.T) * (h > 0)
            grads = [xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
            state["t"] += 1
            t = state["t"]
            a = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            for i, g in enumerate(grads):
                m[i] += (1 - b1) * (g - m[i])
                v[i] += (1 - b2) * (g * g - v[i])
                params[i] -= a * m[i] / (np.sqrt(v[i]) + eps)

    return epoch


def bench_torch(x, y, batch):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(xt))
        for s in range(0, len(xt), batch):
            idx = order[s:s + batch]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()

    return epoch


def bench_keras(x, y, batch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as real_tf

    model = real_tf.keras.Sequential([real_tf.keras.Input((784,)),
                                      real_tf.keras.layers.Dense(128, activation="relu"),
                                      real_tf.keras.layers.Dense(10)])
    model.compile("adam", real_tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    args = ap.parse_args()
    x, y = load()
    runners = {"minitf": bench_minitf, "numpy (by hand)": bench_numpy}
    if importlib.util.find_spec("torch"):
        runners["pytorch cpu"] = bench_torch
    if importlib.util.find_spec("tensorflow"):
        runners["keras (tensorflow)"] = bench_keras
    rows = []
    for batch in args.batches:
        for name, make in runners.items():
            t = median_epoch(make(x, y, batch), args.repeats)
            rows.append({"framework": name, "batch": batch, "epoch_s": t})
            print(f"batch {batch:4d}  {name:20s} {t:7.3f} s", flush=True)
    for r in rows:
        ref = next(q["epoch_s"] for q in rows if q["batch"] == r["batch"]
                   and q["framework"] == "numpy (by hand)")
        r["ratio_to_numpy"] = r["epoch_s"] / ref
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "repeats": args.repeats}
    (out / "mlp_epoch.json").write_text(json.dumps({"machine": meta, "rows": rows}, indent=2))
    lines = ["# MNIST MLP 784-128-10, Adam, one 60k epoch (median seconds; lower is better)", "",
             f"Load average during the run: {meta['load_average'][0]:.2f} on {meta['cpus']} CPUs.",
             "Importing minitf raises glibc's mmap/trim thresholds (minitf/_malloc.py); "
             "every framework here runs in the same process and benefits alike.",
             "", "| batch | framework | epoch s | / NumPy by hand |", "|---|---|---|---|"]
    lines += [f"| {r['batch']} | {r['framework']} | {r['epoch_s']:.3f} | "
              f"{r['ratio_to_numpy']:.2f} |" for r in rows]
    (out / "mlp_epoch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
