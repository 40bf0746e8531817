"""Two source trees of minitf side by side: the per-step time of the MNIST MLP and CNN training
steps (a measurement, not a test; issue 13's "the refactor must not change speed").

    python benchmarks/ab_trees.py A_TREE B_TREE [--rounds 5] [--cnn] [--out FILE]

Each tree runs in fresh processes of its own (its ``minitf`` through ``PYTHONPATH``, its own
``NUMBA_CACHE_DIR``, this script's Python interpreter), the two alternating A B B A A B ...
so that the machine's drift hits both alike. A process times ``model.fit`` over a slice of
MNIST (batch 32: 400 steps, batch 128: 200, CNN batch 64: 30), a tiny 8-16-2 MLP whose step is
almost only the framework's Python (400 steps), and the per-op dispatch outside
``tf.function`` (eager ``tf.add``, a GradientTape step, a TF1 ``Session.run``, tiny tensors),
``--repeats`` times each after a warm-up, and reports the median per step, as wall time and as
the process's CPU time (on a shared machine the wall time grows with the load, the CPU time
much less). The table gives the median over the rounds and B / A. Quiet machine: about 2
minutes for 5 rounds without ``--cnn``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, statistics, sys, time
import numpy as np
import minitf as tf

def per_step(run, steps, repeats):
    run()  # warm-up: JIT, tracing, allocator
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - w) / steps)
        cpu.append((time.process_time() - c) / steps)
    return statistics.median(wall) * 1e6, statistics.median(cpu) * 1e6

def fit_fn(model, x, y, batch):
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)

(x, y), _ = tf.keras.datasets.mnist.load_data()
x = x.astype(np.float32) / 255.0
y = y.astype(np.int32)
repeats, cnn = int(sys.argv[1]), sys.argv[2] == "1"
out = {}
for batch, steps in ((32, 400), (128, 200)):
    tf.random.set_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(128, activation="relu", input_shape=(784,)),
        tf.keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    n = batch * steps
    out[f"MLP batch {batch}"] = per_step(fit_fn(model, x[:n].reshape(n, 784), y[:n], batch),
                                         steps, repeats)
# the framework's own cost per step: a network so small that its kernels take next to nothing
tf.random.set_seed(0)
model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu", input_shape=(8,)),
                             tf.keras.layers.Dense(2)])
model.compile(optimizer="adam",
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
out["tiny MLP 8-16-2, batch 32"] = per_step(
    fit_fn(model, x[:32 * 400, 14, 10:18].copy(), y[:32 * 400] % 2, 32), 400, repeats)
# per-op dispatch outside tf.function: eager ops, a GradientTape step, a TF1 Session.run
a = tf.constant(np.ones((4, 4), np.float32))
w = tf.Variable(np.ones((4, 4), np.float32))

def eager_adds():
    for _ in range(2000):
        tf.add(a, a)

def tape_steps():
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.matmul(a, w) * 2.0)
        tape.gradient(loss, w)

g = tf.Graph()
with g.as_default():
    ph = tf.placeholder(tf.float32, [None, 4])
    v = tf.Variable(np.ones((4, 4), np.float32))
    total, inc = tf.reduce_sum(tf.matmul(ph, v)), v.assign_add(tf.ones((4, 4)) * 0.0)
    init = tf.global_variables_initializer()
sess = tf.Session(graph=g)
sess.run(init)
feed = {ph: np.ones((2, 4), np.float32)}

def session_runs():
    for _ in range(1000):
        sess.run([total, inc], feed)

out["eager tf.add, 4x4 (per op)"] = per_step(eager_adds, 2000, repeats)
out["GradientTape step, matmul+sum (per step)"] = per_step(tape_steps, 300, repeats)
out["Session.run, 2 fetches, 1 feed (per run)"] = per_step(session_runs, 1000, repeats)
if cnn:
    from minitf.examples.mnist_cnn import build_cnn
    tf.random.set_seed(0)
    model = build_cnn()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    n = 64 * 30
    out["CNN batch 64"] = per_step(fit_fn(model, x[:n, ..., None], y[:n], 64), 30, repeats)
print("AB-RESULT " + json.dumps(out))
"""


def run_tree(tree: Path, repeats: int, cnn: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_CACHE_DIR=str(tree / ".numba_cache"),
               PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(repeats), "1" if cnn else "0"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("AB-RESULT "):
            return json.loads(line[len("AB-RESULT "):])
    raise RuntimeError(f"{tree}: no result\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def git_head(tree: Path) -> str:
    r = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="tree A (e.g. the tree before a change)")
    p.add_argument("b", type=Path, help="tree B (e.g. this tree)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5, help="timed passes per process")
    p.add_argument("--cnn", action="store_true", help="also the CNN step (slower)")
    p.add_argument("--out", type=Path, help="write the table here too")
    args = p.parse_args(argv)
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    results: dict[str, list[dict]] = {"A": [], "B": []}
    loads = []
    for r in range(args.rounds):
        for name in ("AB" if r % 2 == 0 else "BA"):
            loads.append(os.getloadavg()[0])
            res = run_tree(trees[name], args.repeats, args.cnn)
            results[name].append(res)
            print(f"round {r + 1} {name} load {loads[-1]:.1f} " + ", ".join(
                f"{k} {w:.0f}/{c:.0f} us" for k, (w, c) in res.items()), file=sys.stderr)
    lines = [f"A = {trees['A']} ({git_head(trees['A'])}), B = {trees['B']} "
             f"({git_head(trees['B'])}); {args.rounds} rounds alternating, {args.repeats} "
             f"passes each; load average (1 min) {min(loads):.1f}-{max(loads):.1f}",
             "",
             "| per training step | A wall | B wall | B / A wall | A CPU | B CPU | B / A CPU |",
             "|---|---|---|---|---|---|---|"]
    for key in results["A"][0]:
        med = {n: [statistics.median(res[key][i] for res in results[n]) for i in (0, 1)]
               for n in "AB"}
        lines.append(f"| {key} | {med['A'][0]:.0f} us | {med['B'][0]:.0f} us | "
                     f"{med['B'][0] / med['A'][0]:.3f} | {med['A'][1]:.0f} us | "
                     f"{med['B'][1]:.0f} us | {med['B'][1] / med['A'][1]:.3f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return text


if __name__ == "__main__":
    main()
