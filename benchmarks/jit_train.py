"""Compiled training (``jit_compile=True``) vs op by op vs NumPy by hand (a measurement, not a
test).

    python benchmarks/jit_train.py [--rounds 3]   # -> benchmarks/results/jit_train.{json,md}

* MLP: one MNIST epoch (60 000 images) of the 784-128-10 MLP with Adam, batch 32 and 128:
  the hand-written NumPy loop of ``mlp_epoch.py`` (``numpy``: OpenBLAS's own threads;
  ``numpy-1t``: one BLAS thread, as minitf runs its products), minitf's ``model.fit`` (traced
  step, op by op) and ``model.fit`` after ``compile(jit_compile=True)``. On a loaded machine
  OpenBLAS's spinning threads make ``numpy`` many times slower (80 s instead of ~1 s an
  epoch): leave it out there with ``--skip numpy``.
* CNN: 40 training steps (batch 64, Adam) of the chapter's CNN with and without jit.
* per-step overhead: a tiny MLP (8-8-2, batch 4, Adam) whose kernels cost next to nothing,
  the training step called 2 000 times: what one step costs beyond its arithmetic.

Each contender runs in a process of its own (``--child``), warmed up (tracing, compilation,
the short last batch's too) before it is timed; the contenders take turns, round after
round, and each figure is the median over the rounds, so a busy moment of a shared machine
hits all of them alike. Ratios are of medians, of wall time and of the process's CPU time
(which a loaded machine inflates less). The load average is recorded before and after.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BATCHES = (32, 128)
CHILDREN = ("numpy", "numpy-1t", "minitf", "minitf-jit", "cnn", "cnn-jit")


def _mlp(jit: bool):
    import minitf as tf

    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(128, activation="relu", input_shape=(784,)),
                                 tf.keras.layers.Dense(10)])
    model.compile(optimizer="adam", jit_compile=jit,
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _fusions(model) -> dict:
    step = model._fns["train"]
    if not hasattr(step, "_jit") or step._plain is not None:
        return {}
    return next(iter(step._jit._concrete.values()))._compiled.fusion_counts


def _overhead_us(jit: bool) -> float:
    """Microseconds per call of a tiny model's training step (its kernels cost ~nothing)."""
    import minitf as tf

    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(8,)),
                                 tf.keras.layers.Dense(2)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    x, y = np.ones((4, 8), "f4"), np.zeros(4, "i4")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    step = model._fns["train"]
    for _ in range(200):
        step(x, y)
    t = time.perf_counter()
    for _ in range(2_000):
        step(x, y)
    return (time.perf_counter() - t) / 2_000 * 1e6


def child(kind: str) -> dict:
    from mlp_epoch import bench_numpy, load

    out: dict = {}
    if kind.startswith("cnn"):
        import minitf as tf
        from minitf.examples.mnist_cnn import build_cnn

        rng = np.random.default_rng(0)
        x = rng.random((64 * 40, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, 64 * 40).astype(np.int32)
        tf.random.set_seed(0)
        model = build_cnn()
        model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=kind == "cnn-jit")
        model.fit(x[:320], y[:320], batch_size=64, epochs=1, verbose=0)
        t, c = time.perf_counter(), time.process_time()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        out["cnn_step_ms"] = (time.perf_counter() - t) / 40 * 1e3
        out["cnn_step_cpu_ms"] = (time.process_time() - c) / 40 * 1e3
        out["fusions"] = _fusions(model)
        return out
    x, y = load()
    for batch in BATCHES:
        warm = 100 * batch + len(x) % batch  # a short last batch too: its own trace
        if kind.startswith("numpy"):
            epoch = bench_numpy(x[:warm], y[:warm], batch)
            epoch()  # warm-up
            epoch = bench_numpy(x, y, batch)
        else:
            model = _mlp(kind == "minitf-jit")
            yi = y.astype(np.int32)
            model.fit(x[:warm], yi[:warm], batch_size=batch, epochs=1, verbose=0)
            out[f"fusions_b{batch}"] = _fusions(model)

            def epoch(model=model, yi=yi, batch=batch):
                model.fit(x, yi, batch_size=batch, epochs=1, verbose=0)
        t, c = time.perf_counter(), time.process_time()
        epoch()
        out[f"epoch_b{batch}_s"] = time.perf_counter() - t
        out[f"epoch_b{batch}_cpu_s"] = time.process_time() - c
    if not kind.startswith("numpy"):
        out["overhead_us"] = _overhead_us(kind == "minitf-jit")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", choices=CHILDREN)
    ap.add_argument("--skip", nargs="*", default=[], choices=CHILDREN)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    load_before = os.getloadavg()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kinds = tuple(k for k in CHILDREN if k not in args.skip)
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    t0 = time.perf_counter()
    for r in range(args.rounds):
        order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
        for kind in order:
            one_thread = {"OPENBLAS_NUM_THREADS": "1"} if kind == "numpy-1t" else {}
            res = subprocess.run([sys.executable, __file__, "--child", kind],
                                 env={**env, **one_thread}, capture_output=True, text=True,
                                 timeout=600)
            if res.returncode:
                raise SystemExit(f"{kind} failed:\n{res.stderr[-2000:]}")
            runs[kind].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {kind}: {runs[kind][-1]}", flush=True)
    med = {k: {key: statistics.median(run[key] for run in v) for key in v[0]
               if isinstance(v[0][key], float)} for k, v in runs.items()}
    meta = {"python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "rounds": args.rounds, "seconds": round(time.perf_counter() - t0, 1)}
    fusions = runs["minitf-jit"][0].get("fusions_b32", {})
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "jit_train.json").write_text(json.dumps({"machine": meta, "medians": med,
                                                    "runs": runs}, indent=2))
    lines = ["# Compiled training step (jit_compile=True), benchmarks/jit_train.py", "",
             f"Machine: {meta['machine']}, {meta['cpus']} CPUs, Python {meta['python']}, "
             f"NumPy {meta['numpy']}; load average {load_before[0]:.2f} before, "
             f"{meta['load_average_after'][0]:.2f} after; {args.rounds} rounds, "
             f"{meta['seconds']:.0f} s in all. Medians over the rounds; each contender in a "
             "process of its own, taking turns.", ""]
    if max(load_before[0], meta["load_average_after"][0]) > (os.cpu_count() or 1):
        lines += ["**Loaded machine**: other jobs kept the load average above the number of "
                  "CPUs, so wall times are inflated several-fold and noisy; the CPU-time "
                  "ratios are steadier. Re-run on a quiet machine for the figures to quote"
                  + (" (and without `--skip`)." if args.skip else "."), ""]
    lines += ["## One MNIST epoch, MLP 784-128-10, Adam (seconds, wall; ratio to NumPy by hand)",
              "", "| batch | contender | epoch s | CPU s | / NumPy (BLAS threads) "
              "| / NumPy (1 BLAS thread) | CPU / NumPy CPU (1 thread) |",
              "|---|---|---|---|---|---|---|"]
    for b in BATCHES:
        k = f"epoch_b{b}_s"
        for kind in ("numpy", "numpy-1t", "minitf", "minitf-jit"):
            if kind not in med:
                continue
            e = med[kind][k]
            ratios = [f"{e / med[ref][k]:.2f}" if ref in med else "-"
                      for ref in ("numpy", "numpy-1t")]
            cpu = med[kind][f"epoch_b{b}_cpu_s"]
            ratios.append(f"{cpu / med['numpy-1t'][f'epoch_b{b}_cpu_s']:.2f}"
                          if "numpy-1t" in med else "-")
            lines.append(f"| {b} | {kind} | {e:.3f} | {cpu:.3f} | {' | '.join(ratios)} |")
        if "minitf" in med and "minitf-jit" in med:
            lines.append(f"| {b} | jit / op by op | {med['minitf-jit'][k] / med['minitf'][k]:.2f}"
                         " | | | | |")
    c, cj = med["cnn"]["cnn_step_ms"], med["cnn-jit"]["cnn_step_ms"]
    cc, ccj = med["cnn"]["cnn_step_cpu_ms"], med["cnn-jit"]["cnn_step_cpu_ms"]
    o, oj = med["minitf"]["overhead_us"], med["minitf-jit"]["overhead_us"]
    lines += ["", "## CNN training step, batch 64 (ms)", "",
              f"wall: op by op {c:.2f}, jit_compile {cj:.2f}: jit / op by op = {cj / c:.2f}; "
              f"CPU: {cc:.2f}, {ccj:.2f}: {ccj / cc:.2f}", "",
              "## Per-step overhead: tiny MLP 8-8-2, batch 4, Adam (us per step)", "",
              f"op by op {o:.0f}, jit_compile {oj:.0f} ({o / oj:.1f}x less)", "",
              f"Fusions in the compiled MLP step: {fusions}", ""]
    (out / "jit_train.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
