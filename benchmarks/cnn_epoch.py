"""The MNIST CNN's speed: one training epoch and inference throughput (a measurement, not a test).

    python benchmarks/cnn_epoch.py [--repeats 3] [--note "..."]   # -> benchmarks/results/cnn.txt

Network: Conv(32, 3x3, relu) -> MaxPool 2 -> Conv(64, 3x3, relu) -> MaxPool 2 -> Flatten ->
Dense(128, relu) -> Dense(10) (``minitf/examples/mnist_cnn.py``), Numba backend.

* epoch: ``model.fit`` over the 60 000 training images, batch 64, Adam; median of
  ``--repeats`` full epochs after a warm-up (JIT compilation and tracing).
* inference: ``model.predict`` over the 10 000 test images at batch 1000; median of
  ``--repeats`` passes, as images per second.
* ablation: the training step with each of the two CNN optimisations on or off, the four
  variants interleaved in one process (``--ablation-steps`` steps each, best of 5 rounds), so
  that the machine's drift hits them alike: the Conv2D + MaxPooling2D fusion
  (``tf.config.optimizer`` ``remapping``) and the split of each batch over worker threads
  (``minitf/backends/numba_cpu/workers.py``).

Each figure is given as wall time and as the process's CPU time: on a machine shared with
other work the wall time grows with the load, the CPU time much less. Peers: with
``--peers`` (and PyTorch / TensorFlow installed: not in CI) the same network, epoch and
inference are timed in this process after minitf (Keras 3 on TensorFlow; PyTorch with the
same loop a user writes, NCHW), so all figures of a run share the machine's state; importing
minitf tunes glibc's malloc for the whole process, which the peers then enjoy too. Without
them, the quiet-machine medians of /work/shared/ANCHORS.md are quoted (same network, same
machine type, another day).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_EPOCH_S = 12.0
GOAL_IMAGES_PER_S = 15_000.0
PEERS_EPOCH = {"NumPy by hand": 36.8, "NumPy by hand, tuned malloc": 25.4, "PyTorch 2.13 CPU": 22.6,
               "PyTorch, tuned malloc": 14.9, "Keras 3.15 on TF 2.21": 13.4}
PEERS_INFER = {"NumPy by hand": 3_700.0, "PyTorch 2.13 CPU": 4_300.0,
               "Keras 3.15 on TF 2.21": 14_800.0}
EPOCH_GFLOP = 947.0  # forward + backward of one epoch (ANCHORS.md)


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def keras_peer(x, y, xt, repeats: int) -> tuple[float, float]:
    """Keras 3 on TensorFlow: median epoch seconds and inference images/s."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as real_tf

    real_tf.keras.utils.set_random_seed(0)
    layers = real_tf.keras.layers
    model = real_tf.keras.Sequential([
        real_tf.keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10)])
    model.compile(optimizer=real_tf.keras.optimizers.Adam(1e-3),
                  loss=real_tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)
    model.predict(xt[:1000], batch_size=1000, verbose=0)
    ep, _ = timed(lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0), repeats)
    inf, _ = timed(lambda: model.predict(xt, batch_size=1000, verbose=0), 3)
    return ep, len(xt) / inf


def torch_peer(x, y, xt, repeats: int) -> tuple[float, float]:
    """PyTorch CPU, the usual training loop: median epoch seconds and inference images/s."""
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    ys = torch.from_numpy(y.astype(np.int64))
    xts = torch.from_numpy(np.ascontiguousarray(xt.transpose(0, 3, 1, 2)))

    def epoch(n: int = len(xs)) -> None:
        order = torch.randperm(n)
        for s in range(0, n, 64):
            idx = order[s:s + 64]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    def infer() -> None:
        with torch.no_grad():
            for s in range(0, len(xts), 1000):
                model(xts[s:s + 1000])

    epoch(640)
    infer()
    ep, _ = timed(epoch, repeats)
    inf, _ = timed(infer, 3)
    return ep, len(xt) / inf


def compile_cnn(tf, build_cnn):
    tf.random.set_seed(0)
    model = build_cnn()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def ablation(tf, build_cnn, x, y, steps: int, rounds: int = 5) -> list[str]:
    """ms per training step (best of ``rounds``) with fusion and the worker split on/off."""
    from minitf.backends.numba_cpu import workers

    split = workers.WORKERS
    variants = {}
    for fused in (True, False):
        tf.config.optimizer.set_experimental_options({"remapping": fused})  # read at tracing
        model = compile_cnn(tf, build_cnn)
        model.fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)
        for w in sorted({split, 1}, reverse=True):
            variants[(fused, w)] = model
    tf.config.optimizer.set_experimental_options({"remapping": True})
    best = dict.fromkeys(variants, float("inf"))
    try:
        for _ in range(rounds):
            for (fused, w), model in variants.items():
                workers.WORKERS = w
                t = time.perf_counter()
                model.fit(x[:64 * steps], y[:64 * steps], batch_size=64, epochs=1, verbose=0)
                best[(fused, w)] = min(best[(fused, w)], (time.perf_counter() - t) / steps)
    finally:
        workers.WORKERS = split
    base = best[(False, 1)]
    lines = ["", f"ablation: training step, batch 64, best of {rounds} interleaved rounds of "
             f"{steps} steps"]
    for (fused, w), s in best.items():
        lines.append(f"  Conv2D+MaxPool fusion {'on ' if fused else 'off'}, "
                     f"{w} worker{'s' if w > 1 else ' '}: {1e3 * s:5.2f} ms/step "
                     f"(~{s * 938:.1f} s/epoch; {base / s:.2f}x the plain kernels)")
    return lines


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="full epochs timed (0: skip)")
    p.add_argument("--infer-repeats", type=int, default=5)
    p.add_argument("--peers", action="store_true",
                   help="also time Keras on TensorFlow and PyTorch here (when installed)")
    p.add_argument("--ablation-steps", type=int, default=100, help="0: skip the ablation")
    p.add_argument("--note", default="", help="a line about the conditions (e.g. machine load)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cnn.txt"))
    args = p.parse_args(argv)

    import minitf as tf
    from minitf.examples.mnist_cnn import build_cnn

    (x, y), (xt, _) = tf.keras.datasets.mnist.load_data()
    x = (x.astype(np.float32) / 255.0)[..., None]
    xt = (xt.astype(np.float32) / 255.0)[..., None]
    y = y.astype(np.int32)

    model = compile_cnn(tf, build_cnn)
    load0 = os.getloadavg()
    model.fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)  # warm-up
    model.predict(xt[:1000], batch_size=1000, verbose=0)
    ep_wall = ep_cpu = float("nan")
    if args.repeats:
        ep_wall, ep_cpu = timed(lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0),
                                args.repeats)
    inf_wall, inf_cpu = timed(lambda: model.predict(xt, batch_size=1000, verbose=0),
                              args.infer_repeats)
    abl = ablation(tf, build_cnn, x, y, args.ablation_steps) if args.ablation_steps else []
    peers_epoch, peers_infer, measured = dict(PEERS_EPOCH), dict(PEERS_INFER), []
    if args.peers:
        for name, fn, module in (("Keras 3 on TF 2.21", keras_peer, "tensorflow"),
                                 ("PyTorch 2.13 CPU", torch_peer, "torch")):
            if importlib.util.find_spec(module) is None:
                continue
            ep, ips = fn(x, y, xt, max(1, args.repeats))
            measured.append(name)
            peers_epoch[f"{name} (this run)"] = ep
            peers_infer[f"{name} (this run)"] = ips
    load1 = os.getloadavg()
    ips_wall, ips_cpu = len(xt) / inf_wall, len(xt) / inf_cpu

    lines = [
        "MNIST CNN 32c3-p2-64c3-p2-128-10, minitf (Numba backend), benchmarks/cnn_epoch.py",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python {platform.python_version()}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}",
        f"load average (1 min) before/after: {load0[0]:.1f} / {load1[0]:.1f}; repeats: "
        f"{args.repeats} epochs, {args.infer_repeats} inference passes",
    ]
    if args.note:
        lines.append(f"note: {args.note}")
    lines.append("peers: " + (f"{', '.join(measured)} measured in this run after minitf; "
                              if measured else "") + "the others are ANCHORS.md medians")
    lines += [] if not args.repeats else [
        "",
        "one epoch, 60k images, batch 64, Adam (median)",
        f"  minitf wall {ep_wall:.1f} s   CPU {ep_cpu:.1f} s   "
        f"({EPOCH_GFLOP / ep_wall:.0f} GFLOP/s wall)",
        f"  goal <= {GOAL_EPOCH_S:.0f} s: {'met' if ep_wall <= GOAL_EPOCH_S else 'missed'} "
        f"(wall / goal = {ep_wall / GOAL_EPOCH_S:.2f})",
    ]
    lines += [f"  peer {name}: {s:.1f} s -> minitf wall / peer = {ep_wall / s:.2f}"
              for name, s in peers_epoch.items() if args.repeats]
    lines += [
        "",
        "inference, 10k test images at batch 1000 (median)",
        f"  minitf {ips_wall:,.0f} images/s wall   ({ips_cpu:,.0f} per CPU second)",
        f"  goal >= {GOAL_IMAGES_PER_S:,.0f}: {'met' if ips_wall >= GOAL_IMAGES_PER_S else 'missed'} "
        f"(wall / goal = {ips_wall / GOAL_IMAGES_PER_S:.2f})",
    ]
    lines += [f"  peer {name}: {v:,.0f} images/s -> minitf / peer = {ips_wall / v:.2f}"
              for name, v in peers_infer.items()]
    lines += abl
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
