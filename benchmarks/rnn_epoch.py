"""Recurrent training speed against PyTorch CPU, interleaved (a measurement, not a test).

    python benchmarks/rnn_epoch.py [--quick] [--threads 1] [--rounds 5] [--models lstm,gru,char]
                                   [--baseline DIR] [--note "..."]  # -> benchmarks/results/rnn.txt

About 2 minutes on the quiet 2-core machine (``--quick``: under one); ``--threads 1,2`` adds a
second pass with two threads each (PyTorch's OpenMP threads collapse when the machine is
loaded, so take that on a quiet machine only).

Models, each trained with Adam the way a user writes the loop:
* ``lstm`` / ``gru``: rows of MNIST as 28 steps of 28 pixels, LSTM(128) or GRU(128) -> Dense(10),
  batch 64; one pass = ``--images`` training images (6000; 1920 with ``--quick``).
* ``char``: chapter 13's character-level language model: the Zen of Python in windows of 32
  characters, Embedding(vocab, 16) -> GRU(64, return_sequences=True) -> Dense(vocab), loss on
  every step, Adam(1e-2) with each gradient's norm clipped to 1 (Keras's ``clipnorm``), batch
  64; one pass = ``--char-epochs`` epochs (10; 3 with ``--quick``).

minitf (Numba backend, the fused ``RNNSequence`` op) and PyTorch (``torch.nn.LSTM``/``GRU``)
each run in a process of their own with the same thread count (OMP/MKL/OpenBLAS/Numba threads
and ``torch.set_num_threads``). Both processes start, build their model and train one warm-up
pass (JIT compilation, tracing), then the parent asks them in turn for one timed pass per round,
alternating who goes first, so that both see the same machine load. Figures are medians over
the rounds of wall time and of the process's CPU time; the ratio is the median of the rounds'
minitf / PyTorch ratios (below 1: minitf is faster). ``--baseline DIR`` adds a third process
running the minitf source tree in DIR (an older checkout) for before/after comparisons. The
load average before and after is recorded: on a shared machine compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "rnn.txt"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
BATCH, SEQ = 64, 32


# -- data (the same arrays for every framework) -----------------------------------------------------


def mnist_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    import minitf as tf

    (x, y), _ = tf.keras.datasets.mnist.load_data()
    return (x[:n] / 255.0).astype("float32"), y[:n].astype("int64")


def zen_windows() -> tuple[np.ndarray, np.ndarray, int]:
    """Chapter 13's data: the Zen of Python as (inputs, next characters) windows of 32."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
        import this
    text = codecs.decode(this.s, "rot13")
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text], np.int64)
    starts = np.arange(0, len(ids) - SEQ - 1)
    return (np.stack([ids[s:s + SEQ] for s in starts]),
            np.stack([ids[s + 1:s + SEQ + 1] for s in starts]), len(vocab))


# -- workers: build, warm up, then one timed pass per "run" line on stdin ----------------------------


def minitf_pass(model: str, images: int, char_epochs: int):
    import minitf as tf

    tf.random.set_seed(0)
    if model == "char":
        x, y, vocab = zen_windows()
        net = tf.keras.Sequential([tf.keras.layers.Embedding(vocab, 16, input_shape=(SEQ,)),
                                   tf.keras.layers.GRU(64, return_sequences=True),
                                   tf.keras.layers.Dense(vocab)])
        opt = tf.keras.optimizers.Adam(1e-2, clipnorm=1.0)
        epochs = char_epochs
    else:
        x, y = mnist_rows(images)
        layer = tf.keras.layers.LSTM if model == "lstm" else tf.keras.layers.GRU
        net = tf.keras.Sequential([layer(128, input_shape=(28, 28)), tf.keras.layers.Dense(10)])
        opt, epochs = tf.keras.optimizers.Adam(1e-3), 1
    net.compile(opt, tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return lambda: net.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)


def torch_pass(model: str, images: int, char_epochs: int, threads: int):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if model == "char":
        xa, ya, vocab = zen_windows()
        emb, rnn = torch.nn.Embedding(vocab, 16), torch.nn.GRU(16, 64, batch_first=True)
        dense, lr, clip, epochs = torch.nn.Linear(64, vocab), 1e-2, 1.0, char_epochs

        def head(xb):
            return dense(rnn(emb(xb))[0]).reshape(-1, vocab)
    else:
        xa, ya = mnist_rows(images)
        rnn = (torch.nn.LSTM if model == "lstm" else torch.nn.GRU)(28, 128, batch_first=True)
        emb, dense, lr, clip, epochs = None, torch.nn.Linear(128, 10), 1e-3, None, 1

        def head(xb):
            return dense(rnn(xb)[0][:, -1])
    x, y = torch.tensor(xa), torch.tensor(ya)
    params = [p for m in (emb, rnn, dense) if m is not None for p in m.parameters()]
    opt = torch.optim.Adam(params, lr, eps=1e-7)  # Keras's epsilon
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> None:
        for _ in range(epochs):
            for i in range(0, len(x), BATCH):
                opt.zero_grad()
                loss_fn(head(x[i:i + BATCH]), y[i:i + BATCH].reshape(-1)).backward()
                if clip is not None:  # Keras's clipnorm: each gradient on its own
                    for p in params:
                        torch.nn.utils.clip_grad_norm_(p, clip)
                opt.step()
    return run


def worker(args) -> None:
    if args.worker == "torch":
        run = torch_pass(args.model, args.images, args.char_epochs, args.threads)
    else:
        run = minitf_pass(args.model, args.images, args.char_epochs)
    run()  # warm-up: compilation, tracing, allocator
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        w, c = time.perf_counter(), time.process_time()
        run()
        print(json.dumps([time.perf_counter() - w, time.process_time() - c]), flush=True)


# -- the parent: interleaved rounds ---------------------------------------------------------------


class Worker:
    """A worker process driven over its stdin/stdout."""

    def __init__(self, framework: str, root: Path, model: str, threads: int, args) -> None:
        env = {**os.environ, **{v: str(threads) for v in THREAD_VARS},
               "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": str(root / ".numba_cache")}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "torch" if framework == "PyTorch CPU" else "minitf", "--model", model,
               "--threads", str(threads), "--images", str(args.images),
               "--char-epochs", str(args.char_epochs)]
        self.name = framework
        self.proc = subprocess.Popen(cmd, env=env, cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker exited (code {self.proc.wait()})")
        return line.strip()

    def ready(self) -> None:
        while self._line() != "ready":
            pass

    def run(self) -> tuple[float, float]:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return tuple(json.loads(self._line()))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(model: str, threads: int, args) -> dict[str, list[tuple[float, float]]]:
    frameworks = [("minitf", ROOT), ("PyTorch CPU", ROOT)]
    if args.baseline:
        frameworks.insert(1, (f"minitf {args.baseline_name}", Path(args.baseline).resolve()))
    workers = [Worker(name, root, model, threads, args) for name, root in frameworks]
    times: dict[str, list[tuple[float, float]]] = {w.name: [] for w in workers}
    try:
        for w in workers:
            w.ready()
        for r in range(args.rounds):
            for w in (workers if r % 2 == 0 else workers[::-1]):
                times[w.name].append(w.run())
    finally:
        for w in workers:
            w.close()
    return times


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def table(model: str, threads: int, times: dict) -> list[str]:
    ref = times["PyTorch CPU"]
    label = {"lstm": "LSTM(128)", "gru": "GRU(128)", "char": "char GRU(64)"}[model]
    out = []
    for name, ts in times.items():
        wall = statistics.median(t[0] for t in ts)
        cpu = statistics.median(t[1] for t in ts)
        rw = statistics.median(a[0] / b[0] for a, b in zip(ts, ref))
        rc = statistics.median(a[1] / b[1] for a, b in zip(ts, ref))
        out.append(f"{label:<13} {threads:>3}  {name:<24} {wall:8.3f} {cpu:8.3f} "
                   f"{rw:9.2f}x {rc:9.2f}x")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="1920 images, 3 char epochs, 3 rounds (about a minute)")
    p.add_argument("--images", type=int, default=None)
    p.add_argument("--char-epochs", type=int, default=None)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
    p.add_argument("--models", default="lstm,gru,char")
    p.add_argument("--baseline", default="", help="another minitf source tree to time too")
    p.add_argument("--baseline-name", default="(baseline)")
    p.add_argument("--note", default="")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--worker", choices=["minitf", "torch"])
    p.add_argument("--model", default="lstm")
    args = p.parse_args()
    quick = args.quick
    args.images = args.images or (1920 if quick else 6000)
    args.char_epochs = args.char_epochs or (3 if quick else 10)
    args.rounds = args.rounds or (3 if quick else 5)
    if args.worker:
        args.threads = int(args.threads)
        worker(args)
        return
    start, load0 = time.time(), _load()
    lines = [f"# rnn_epoch{' --quick' if quick else ''}: {args.images} images per MNIST pass, "
             f"{args.char_epochs} epochs per char pass, {args.rounds} interleaved rounds; "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
             f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
             + (f"; {args.note}" if args.note else ""),
             f"{'model':<13} {'thr':>3}  {'framework':<24} {'wall s':>8} {'cpu s':>8} "
             f"{'ratio wall':>10} {'ratio cpu':>10}"]
    print("\n".join(lines), flush=True)
    for threads in (int(t) for t in args.threads.split(",")):
        for model in args.models.split(","):
            rows = table(model, threads, measure(model, threads, args))
            print("\n".join(rows), flush=True)
            lines += rows
    lines.append(f"# load average {load0:.1f} at start, {_load():.1f} at end; "
                 f"{time.time() - start:.0f} s in all")
    print(lines[-1])
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        with RESULT.open("a") as f:
            f.write("\n".join(lines) + "\n\n")
        print(f"appended to {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
