"""Recurrent training speed: rows of MNIST as 28 steps of 28 pixels, LSTM(128) or GRU(128) ->
Dense(10), Adam, batch 64 (a measurement, not a test).

    python benchmarks/rnn_epoch.py [--images 6000] [--repeats 3] [--threads 2] [--note "..."]
        # -> benchmarks/results/rnn.txt

minitf (Numba backend, the fused ``RNNSequence`` op) and PyTorch on the CPU (``torch.nn.LSTM``
/ ``GRU``, the training loop a user writes) each train in a fresh process of their own, with the
same thread count (``--threads``: OMP/MKL/OpenBLAS/Numba threads and ``torch.set_num_threads``).
Each process first trains on 640 images (JIT compilation, tracing), then times ``--repeats``
passes over ``--images`` training images; the figures are medians, as wall time and as the
process's CPU time (on a shared machine the wall time grows with the load, CPU time much less).
Ratios are minitf / PyTorch: below 1 minitf is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "rnn.txt"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _data(n: int):
    sys.path.insert(0, str(ROOT))
    import minitf as tf

    (x, y), _ = tf.keras.datasets.mnist.load_data()
    return (x[:n] / 255.0).astype("float32"), y[:n].astype("int64")


def _timed(fn, repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def worker_minitf(cell: str, images: int, repeats: int) -> tuple[float, float]:
    import minitf as tf

    x, y = _data(images)
    layer = tf.keras.layers.LSTM if cell == "lstm" else tf.keras.layers.GRU
    model = tf.keras.Sequential([layer(128, input_shape=(28, 28)), tf.keras.layers.Dense(10)])
    model.compile(tf.keras.optimizers.Adam(1e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)
    return _timed(lambda: model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0),
                  repeats)


def worker_torch(cell: str, images: int, repeats: int, threads: int) -> tuple[float, float]:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = _data(images)
    x, y = torch.tensor(x), torch.tensor(y)
    rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(28, 128, batch_first=True)
    dense = torch.nn.Linear(128, 10)
    params = list(rnn.parameters()) + list(dense.parameters())
    opt = torch.optim.Adam(params, 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(n: int) -> None:
        for i in range(0, n, 64):
            opt.zero_grad()
            loss = loss_fn(dense(rnn(x[i:i + 64])[0][:, -1]), y[i:i + 64])
            loss.backward()
            opt.step()

    epoch(640)
    return _timed(lambda: epoch(images), repeats)


def _spawn(framework: str, cell: str, args) -> tuple[float, float]:
    env = {**os.environ, **{v: str(args.threads) for v in THREAD_VARS},
           "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, __file__, "--worker", framework, "--cell", cell,
           "--images", str(args.images), "--repeats", str(args.repeats),
           "--threads", str(args.threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                         timeout=3600).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=6000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--cells", default="lstm,gru")
    p.add_argument("--note", default="")
    p.add_argument("--worker", choices=["minitf", "torch"])
    p.add_argument("--cell", default="lstm")
    args = p.parse_args()
    if args.worker == "minitf":
        print(json.dumps(worker_minitf(args.cell, args.images, args.repeats)))
        return
    if args.worker == "torch":
        print(json.dumps(worker_torch(args.cell, args.images, args.repeats, args.threads)))
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"# rnn_epoch: {args.images} images, batch 64, Adam, {args.threads} threads, "
             f"median of {args.repeats}; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs, load average {load:.1f} at start",
             f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
             + (f"; {args.note}" if args.note else ""),
             f"{'model':<10} {'framework':<14} {'wall s':>8} {'cpu s':>8} {'ratio wall':>11} "
             f"{'ratio cpu':>10}"]
    for cell in args.cells.split(","):
        mt = _spawn("minitf", cell, args)
        pt = _spawn("torch", cell, args)
        name = f"{cell.upper()}(128)"
        lines.append(f"{name:<10} {'minitf':<14} {mt[0]:8.2f} {mt[1]:8.2f} "
                     f"{mt[0] / pt[0]:10.2f}x {mt[1] / pt[1]:9.2f}x")
        lines.append(f"{name:<10} {'PyTorch CPU':<14} {pt[0]:8.2f} {pt[1]:8.2f} {'1.00x':>11} "
                     f"{'1.00x':>10}")
        print(lines[-2], lines[-1], sep="\n", flush=True)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    with RESULT.open("a") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"appended to {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
