"""The MNIST CNN's speed: one training epoch and inference throughput (a measurement, not a test).

    python benchmarks/cnn_epoch.py [--repeats 3] [--note "..."]   # -> benchmarks/results/cnn.txt

Network: Conv(32, 3x3, relu) -> MaxPool 2 -> Conv(64, 3x3, relu) -> MaxPool 2 -> Flatten ->
Dense(128, relu) -> Dense(10) (``minitf/examples/mnist_cnn.py``), Numba backend.

* epoch: ``model.fit`` over the 60 000 training images, batch 64, Adam; median of
  ``--repeats`` full epochs after a warm-up (JIT compilation and tracing).
* inference: ``model.predict`` over the 10 000 test images at batch 1000; median of
  ``--repeats`` passes, as images per second.
* ablation: the training step with the CNN optimisations on or off, the variants
  interleaved in one process (``--ablation-steps`` steps each, best of 5 rounds), so that the
  machine's drift hits them alike: the Conv2D + MaxPooling2D fusion (``tf.config.optimizer``
  ``remapping``), its tiled paths (Winograd for the second layer, one patch per pooling
  window for the first: ``conv_pool.TILED``) and the split of each batch over worker threads
  (``minitf/backends/numba_cpu/workers.py``).

The header gives the share of CPU time the hypervisor gave to other guests during the run
(steal, from /proc/stat): on a shared VM it slows every figure of that run alike.

Each figure is given as wall time and as the process's CPU time: on a machine shared with
other work the wall time grows with the load, the CPU time much less. Peers: with
``--peers`` (and PyTorch / TensorFlow installed: not in CI) the same network, epoch and
inference are timed right after minitf, each in a fresh process of its own without minitf
(Keras 3 on TensorFlow; PyTorch with the same loop a user writes, NCHW), so all figures of a
run share the machine's state but not a process: Keras run in the same process after minitf
measured 21.0 s per epoch where it took 9.7 s alone minutes later. Without them, the
quiet-machine medians of /work/shared/ANCHORS.md are quoted (same network, same machine type,
another day).
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


PEERS = {"Keras 3 on TF 2.21": ("keras", "tensorflow"), "PyTorch 2.13 CPU": ("torch", "torch")}


def run_peer(kind: str, data: str, repeats: int) -> tuple[float, float]:
    """``kind``'s epoch seconds and images/s, timed in a fresh Python process that imports
    neither minitf nor the other peer (MNIST as uint8 arrays in the .npz ``data``)."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--peer", kind, "--data", data,
                          "--repeats", str(repeats)], check=True, capture_output=True,
                         text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    ep, ips = json.loads(out.stdout.strip().splitlines()[-1])
    return ep, ips


def peer_main(kind: str, data: str, repeats: int) -> None:
    """The child side of ``run_peer``: print ``[epoch_s, images_per_s]`` as JSON."""
    import json

    with np.load(data) as d:
        x = (d["x"].astype(np.float32) / 255.0)[..., None]
        xt = (d["xt"].astype(np.float32) / 255.0)[..., None]
        y = d["y"].astype(np.int32)
    fn = keras_peer if kind == "keras" else torch_peer
    print(json.dumps(list(fn(x, y, xt, repeats))))


def compile_cnn(tf, build_cnn):
    tf.random.set_seed(0)
    model = build_cnn()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def ablation(tf, build_cnn, x, y, steps: int, rounds: int = 5) -> list[str]:
    """ms per training step (best of ``rounds``) with fusion, its tiled paths and the worker
    split on/off."""
    from minitf.backends.numba_cpu import conv_pool, workers

    split = workers.WORKERS
    models = {}
    for fused in (True, False):
        tf.config.optimizer.set_experimental_options({"remapping": fused})  # read at tracing
        models[fused] = compile_cnn(tf, build_cnn)
        models[fused].fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)
    tf.config.optimizer.set_experimental_options({"remapping": True})
    # (fusion, tiled paths, workers); the tiled paths exist only in the fused op
    variants = [(True, True, split), (True, False, split), (True, True, 1), (True, False, 1),
                (False, False, split), (False, False, 1)]
    variants = list(dict.fromkeys(variants))  # one worker only: fewer variants
    best = dict.fromkeys(variants, float("inf"))
    try:
        for _ in range(rounds):
            for fused, tiled, w in variants:
                workers.WORKERS, conv_pool.TILED = w, tiled
                t = time.perf_counter()
                models[fused].fit(x[:64 * steps], y[:64 * steps], batch_size=64, epochs=1,
                                  verbose=0)
                s = (time.perf_counter() - t) / steps
                best[(fused, tiled, w)] = min(best[(fused, tiled, w)], s)
    finally:
        workers.WORKERS, conv_pool.TILED = split, True
    base = best[(False, False, 1)]
    lines = ["", f"ablation: training step, batch 64, best of {rounds} interleaved rounds of "
             f"{steps} steps"]
    for (fused, tiled, w), s in best.items():
        what = ("fusion on,  tiled paths " + ("on " if tiled else "off")) if fused else \
            "fusion off               "
        lines.append(f"  Conv2D+MaxPool {what}, {w} worker{'s' if w > 1 else ' '}: "
                     f"{1e3 * s:5.2f} ms/step (~{s * 938:.1f} s/epoch; "
                     f"{base / s:.2f}x the plain kernels)")
    return lines


def cpu_times() -> list[int]:
    """/proc/stat's whole-machine CPU counters (user nice system idle iowait irq softirq
    steal ...), or [] where there is none."""
    try:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return []


def steal_share(before: list[int], after: list[int]) -> str:
    """The share of CPU time stolen by the hypervisor between two ``cpu_times``."""
    if len(before) < 8 or len(after) < 8:
        return "unknown"
    total = sum(after[:8]) - sum(before[:8])
    return f"{100 * (after[7] - before[7]) / max(1, total):.0f} %"


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="full epochs timed (0: skip)")
    p.add_argument("--infer-repeats", type=int, default=5)
    p.add_argument("--peers", action="store_true",
                   help="also time Keras on TensorFlow and PyTorch here (when installed)")
    p.add_argument("--ablation-steps", type=int, default=100, help="0: skip the ablation")
    p.add_argument("--note", default="", help="a line about the conditions (e.g. machine load)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cnn.txt"))
    p.add_argument("--peer", choices=["keras", "torch"], help=argparse.SUPPRESS)  # run_peer
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.peer:
        peer_main(args.peer, args.data, args.repeats)
        return ""

    import minitf as tf
    from minitf.examples.mnist_cnn import build_cnn

    (x, y), (xt, _) = tf.keras.datasets.mnist.load_data()
    x = (x.astype(np.float32) / 255.0)[..., None]
    xt = (xt.astype(np.float32) / 255.0)[..., None]
    y = y.astype(np.int32)

    model = compile_cnn(tf, build_cnn)
    load0, cpu0 = os.getloadavg(), cpu_times()
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
        import tempfile

        (xu, yu), (xtu, _) = tf.keras.datasets.mnist.load_data()
        with tempfile.TemporaryDirectory() as tmp:
            data = str(Path(tmp) / "mnist.npz")
            np.savez(data, x=xu, y=yu, xt=xtu)
            for name, (kind, module) in PEERS.items():
                if importlib.util.find_spec(module) is None:
                    continue
                ep, ips = run_peer(kind, data, max(1, args.repeats))
                measured.append(name)
                peers_epoch[f"{name} (this run)"] = ep
                peers_infer[f"{name} (this run)"] = ips
    load1, cpu1 = os.getloadavg(), cpu_times()
    ips_wall, ips_cpu = len(xt) / inf_wall, len(xt) / inf_cpu

    lines = [
        "MNIST CNN 32c3-p2-64c3-p2-128-10, minitf (Numba backend), benchmarks/cnn_epoch.py",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python {platform.python_version()}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}",
        f"load average (1 min) before/after: {load0[0]:.1f} / {load1[0]:.1f}; repeats: "
        f"{args.repeats} epochs, {args.infer_repeats} inference passes; CPU steal during "
        f"the run: {steal_share(cpu0, cpu1)}",
    ]
    if args.note:
        lines.append(f"note: {args.note}")
    lines.append("peers: " + (f"{', '.join(measured)} measured in this run after minitf, each "
                              "in a process of its own; " if measured else "")
                 + "the others are ANCHORS.md medians")
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
