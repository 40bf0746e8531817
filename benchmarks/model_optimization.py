"""What pruning and quantization cost and buy on the MNIST MLP and CNN (a measurement, not a test).

    python benchmarks/model_optimization.py [--epochs 2] [--repeats 5]
        # -> benchmarks/results/model_optimization.{json,md,png}
    python benchmarks/model_optimization.py --quick   # <= 3 min: 10 000 images, 1 epoch
        # -> benchmarks/results/model_optimization_quick.{json,md,png}

For each model (MLP 784-128-10; CNN Conv2D(16,3)-MaxPool-Dense(64)-Dense(10), ReLUs, logits)
trained briefly with Adam, and for each variant — float32, dynamic range, full-int8 PTQ
(calibrated on 200 training images), QAT int8 (``quantize_model`` fine-tuned one epoch),
pruned to 50/80/90 % (``PolynomialDecay`` over the fine-tuning epochs, then
``strip_pruning``), pruned 80 % + int8 — it reports: test accuracy through the ``tf.lite``
interpreter, the file's size raw and gzipped, the float weight bytes it replaces, and the
interpreter's latency for one image (median over ``4 * --repeats`` rounds of 100 invokes,
including ``set_tensor``) and for a batch of 256 (median over ``4 * --repeats`` rounds of 2),
every variant timed in turn within each round. One process, one thread (float32 and int8
alike). Each latency is taken twice: wall clock and this thread's CPU time
(``time.thread_time``, which leaves out the time other programs hold the core); the
"× float32" columns are the median over rounds of float32's time / the variant's time in the
same round. The load average is recorded beside the figures: other jobs on a shared machine
inflate latencies in bursts, so compare ratios within one run, and re-run quietly for the
absolute figures.
"""

from __future__ import annotations

import argparse
import gzip
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

import minitf as tf  # noqa: E402
import minitf.model_optimization as tfmot  # noqa: E402

L = tf.keras.layers
OUT = ROOT / "benchmarks" / "results"


def load():
    (x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()
    f = lambda a: (a.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    return f(x), y.astype(np.int64), f(xt), yt.astype(np.int64)


def mlp():
    return tf.keras.Sequential([L.Flatten(input_shape=(28, 28, 1)),
                                L.Dense(128, activation="relu"), L.Dense(10)])


def cnn():
    return tf.keras.Sequential([L.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)),
                                L.MaxPooling2D(), L.Flatten(), L.Dense(64, activation="relu"),
                                L.Dense(10)])


def compiled(model):
    model.compile(tf.keras.optimizers.Adam(1e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def convert(model, mode, calib=None):
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        c.representative_dataset = lambda: ([calib[i:i + 1]] for i in range(len(calib)))
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return c.convert()


def interpreter(content, batch):
    it = tf.lite.Interpreter(model_content=content)
    it.resize_tensor_input(it.get_input_details()[0]["index"], [batch, 28, 28, 1])
    it.allocate_tensors()
    return it, it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]


def accuracy(content, xt, yt, batch=500):
    it, i, o = interpreter(content, batch)
    hits = 0
    for k in range(0, len(xt) - batch + 1, batch):
        it.set_tensor(i, xt[k:k + batch])
        it.invoke()
        hits += int(np.sum(it.get_tensor(o).argmax(1) == yt[k:k + batch]))
    return hits / (len(xt) // batch * batch)


def latencies(contents, xt, batch, repeats, n):
    """Per model: (wall s, CPU s) per invoke (with set_tensor) and its throughput × the first
    model's (wall, CPU): medians over ``repeats`` rounds, each timing ``n`` invokes of every
    model in turn, so that load from other programs falls on all of them alike; a ratio is the
    median of the per-round ratios."""
    runs = []
    for content in contents:
        it, i, _ = interpreter(content, batch)
        x = np.ascontiguousarray(xt[:batch])
        it.set_tensor(i, x)
        it.invoke()
        runs.append((it, i, x))
    wall, cpu = [[] for _ in contents], [[] for _ in contents]
    for _ in range(repeats):
        for k, (it, i, x) in enumerate(runs):
            t, c = time.perf_counter(), time.thread_time()
            for _ in range(n):
                it.set_tensor(i, x)
                it.invoke()
            cpu[k].append((time.thread_time() - c) / n)
            wall[k].append((time.perf_counter() - t) / n)
    return [(statistics.median(w), statistics.median(c),
             statistics.median(a / b for a, b in zip(wall[0], w)),
             statistics.median(a / b for a, b in zip(cpu[0], c))) for w, c in zip(wall, cpu)]


def float_weight_bytes(model):
    return int(sum(w.size for w in model.get_weights()) * 4)


def prune(model, sparsity, x, y, epochs):
    steps = -(-len(x) // 128) * epochs  # reach the target sparsity 80 % of the way through
    freq = max(1, min(100, steps // 20))
    sched = tfmot.sparsity.keras.PolynomialDecay(0.0, sparsity, 0, max(freq, steps * 4 // 5),
                                                 frequency=freq)
    pruned = compiled(tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=sched))
    pruned.fit(x, y, batch_size=128, epochs=epochs, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(pruned)


def run_model(name, make, data, epochs, repeats):
    x, y, xt, yt = data
    tf.random.set_seed(0)
    model = compiled(make())
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
    keras_acc = float(model.evaluate(xt, yt, verbose=0)[1])
    calib = x[np.random.default_rng(0).choice(len(x), 200, replace=False)]
    variants = {"float32": convert(model, "float32"), "dynamic": convert(model, "dynamic"),
                "int8 PTQ": convert(model, "int8", calib)}
    qat = compiled(tfmot.quantization.keras.quantize_model(model))
    qat.fit(x, y, batch_size=128, epochs=1, verbose=0)
    variants["QAT int8"] = convert(qat, "qat")
    for s in (0.5, 0.8, 0.9):
        pruned = prune(model, s, x, y, epochs)
        variants[f"pruned {int(s * 100)}%"] = convert(pruned, "float32")
        if s == 0.8:
            variants["pruned 80% + int8"] = convert(pruned, "int8", calib)
    contents = list(variants.values())
    load = os.getloadavg()[0]
    single = latencies(contents, xt, 1, 4 * repeats, 100)
    batch = latencies(contents, xt, 256, 4 * repeats, 2)
    rows = []
    for k, (variant, content) in enumerate(variants.items()):
        rows.append({
            "model": name, "variant": variant, "accuracy": accuracy(content, xt, yt),
            "bytes": len(content), "gzip_bytes": len(gzip.compress(content, 9)),
            "single_s": single[k][0], "single_cpu_s": single[k][1],
            "single_ratio": single[k][2], "single_cpu_ratio": single[k][3],
            "batch256_s": batch[k][0], "batch256_cpu_s": batch[k][1],
            "batch256_ratio": batch[k][2], "batch256_cpu_ratio": batch[k][3]})
        print(f"{name:4s} {variant:18s} acc {rows[-1]['accuracy']:.4f} "
              f"{rows[-1]['bytes'] / 1e3:8.1f} kB gz {rows[-1]['gzip_bytes'] / 1e3:8.1f} kB "
              f"1-img {single[k][0] * 1e6:7.1f} us (cpu {single[k][1] * 1e6:6.1f}) "
              f"b256 {batch[k][0] * 1e3:7.2f} ms (cpu {batch[k][1] * 1e3:6.2f}) "
              f"x{batch[k][2]:.2f} (cpu x{batch[k][3]:.2f})",
              flush=True)
    return {"model": name, "keras_float_accuracy": keras_acc,
            "float_weight_bytes": float_weight_bytes(model), "rows": rows,
            "load_average": [load, os.getloadavg()[0]]}


def markdown(results):
    lines = []
    for r in results:
        base = r["rows"][0]
        lo, hi = r["load_average"]
        lines += [f"### {r['model']} (Keras float accuracy {r['keras_float_accuracy']:.4f}; "
                  f"float weights {r['float_weight_bytes'] / 1e3:.1f} kB; load average "
                  f"{lo:.1f} -> {hi:.1f} on {os.cpu_count()} cores)", "",
                  "| variant | accuracy | Δ vs float (pp) | file kB | gzip kB | × float weights "
                  "| 1 image µs wall (CPU) | invokes/s wall (CPU) | × float32 (1) wall (CPU) "
                  "| batch 256 ms wall (CPU) | × float32 throughput (256) wall (CPU) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in r["rows"]:
            lines.append(
                f"| {row['variant']} | {row['accuracy']:.4f} | "
                f"{(row['accuracy'] - base['accuracy']) * 100:+.2f} | {row['bytes'] / 1e3:.1f} | "
                f"{row['gzip_bytes'] / 1e3:.1f} | {row['bytes'] / r['float_weight_bytes']:.2f} | "
                f"{row['single_s'] * 1e6:.0f} ({row['single_cpu_s'] * 1e6:.0f}) | "
                f"{1 / row['single_s']:.0f} ({1 / row['single_cpu_s']:.0f}) | "
                f"{row['single_ratio']:.2f} ({row['single_cpu_ratio']:.2f}) | "
                f"{row['batch256_s'] * 1e3:.2f} ({row['batch256_cpu_s'] * 1e3:.2f}) | "
                f"{row['batch256_ratio']:.2f} ({row['batch256_cpu_ratio']:.2f}) |")
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for r, marker in zip(results, "os"):
        for row in r["rows"]:
            for ax, xval in zip(axes, (row["gzip_bytes"] / 1e3, row["batch256_s"] * 1e3)):
                ax.scatter(xval, row["accuracy"] * 100, marker=marker)
                ax.annotate(f"{r['model']} {row['variant']}", (xval, row["accuracy"] * 100),
                            fontsize=6, xytext=(3, 2), textcoords="offset points")
    axes[0].set(xscale="log", xlabel="gzipped file (kB, log)", ylabel="test accuracy (%)",
                title="size vs accuracy")
    axes[1].set(xlabel="batch-256 latency (ms)", ylabel="test accuracy (%)",
                title="latency vs accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--train", type=int, default=60000, help="training images used")
    ap.add_argument("--quick", action="store_true",
                    help="<= 3 min: 10 000 training images, 1 epoch, 3 repeats; writes *_quick.*")
    args = ap.parse_args()
    if args.quick:
        args.train, args.epochs, args.repeats = 10000, 1, 3
    x, y, xt, yt = load()
    data = (x[:args.train], y[:args.train], xt, yt)
    results = [run_model("MLP", mlp, data, args.epochs, args.repeats),
               run_model("CNN", cnn, data, args.epochs, args.repeats)]
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.processor() or platform.machine(), "python": sys.version.split()[0],
            "epochs": args.epochs, "train_images": len(data[0]), "repeats": args.repeats,
            "cores": os.cpu_count()}
    stem = OUT / ("model_optimization_quick" if args.quick else "model_optimization")
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    stem.with_suffix(".md").write_text(
        f"# Model optimization on MNIST (minitf tf.lite interpreter)\n\n{json.dumps(meta)}\n\n"
        "Wall clock and, in brackets, this thread's CPU time; the ratios pair float32 and "
        "each variant within the same timing round. The load average is in each heading: on "
        "a machine shared with other jobs, trust the CPU times over the wall clock.\n\n"
        + markdown(results))
    plot(results, stem.with_suffix(".png"))
    print(markdown(results))


if __name__ == "__main__":
    main()
