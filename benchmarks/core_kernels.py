"""Measure minitf's CPU kernels against NumPy on MNIST-sized shapes (a measurement, not a test).

    python benchmarks/core_kernels.py            # writes benchmarks/results/core_kernels.json + .md

Reports medians of repeated runs: matmul (BLAS path, hand-written tiled and naive Numba
kernels), element-wise add/relu with broadcasting, reductions, softmax cross-entropy, and the
time of ``import minitf`` in a fresh interpreter. Run it on a quiet machine: two threads on two
cores collapse when anything else runs.
"""

from __future__ import annotations

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

from minitf.backends.numba_cpu import NumbaBackend  # noqa: E402
from minitf.backends.numba_cpu import matmul as nmm  # noqa: E402
from minitf.backends.numpy_backend import NumpyBackend  # noqa: E402


def median_time(fn, repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call, each sample looping until it lasts at least ``min_time``."""
    fn()  # warm-up (and JIT compile)
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t >= min_time:
            break
        n *= 2
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n)
    return statistics.median(samples)


def import_time() -> float:
    code = "import time; t=time.perf_counter(); import minitf; print(time.perf_counter()-t)"
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        runs.append(float(out.stdout.strip()))
    return statistics.median(runs)


def main() -> None:
    rng = np.random.default_rng(0)
    f32 = np.float32
    nb, npb = NumbaBackend(), NumpyBackend()
    rows = []

    def row(name: str, shape: str, flops: float, minitf_s: float, numpy_s: float) -> None:
        rows.append({
            "kernel": name, "shape": shape, "minitf_us": minitf_s * 1e6, "numpy_us": numpy_s * 1e6,
            "ratio_minitf_over_numpy": minitf_s / numpy_s,
            "minitf_gflops": flops / minitf_s / 1e9 if flops else None,
        })

    for m, k, n in [(32, 784, 128), (128, 784, 128), (32, 128, 10), (1024, 1024, 1024)]:
        a = rng.standard_normal((m, k)).astype(f32)
        b = rng.standard_normal((k, n)).astype(f32)
        t_np = median_time(lambda a=a, b=b: a @ b)
        flops = 2.0 * m * k * n
        row("matmul (BLAS path)", f"{m}x{k} @ {k}x{n}", flops, median_time(lambda a=a, b=b: nb.matmul(a, b)),
            t_np)
        row("matmul (tiled Numba)", f"{m}x{k} @ {k}x{n}", flops,
            median_time(lambda a=a, b=b: nmm.matmul_tiled(a, b)), t_np)
        if m * k * n <= 128 * 784 * 128:
            row("matmul (naive Numba)", f"{m}x{k} @ {k}x{n}", flops,
                median_time(lambda a=a, b=b: nmm.matmul_naive(a, b)), t_np)

    x = rng.standard_normal((32, 128)).astype(f32)
    bias = rng.standard_normal(128).astype(f32)
    big = rng.standard_normal((60000, 784)).astype(f32)
    row("add + bias broadcast", "32x128 + 128", 0, median_time(lambda: nb.binary("add", x, bias, f32)),
        median_time(lambda: npb.binary("add", x, bias, f32)))
    row("relu", "32x128", 0, median_time(lambda: nb.unary("relu", x, f32)),
        median_time(lambda: np.maximum(x, 0)))
    row("relu", "60000x784", 0, median_time(lambda: nb.unary("relu", big, f32), repeat=3),
        median_time(lambda: np.maximum(big, 0), repeat=3))
    row("reduce_sum axis 0", "32x128", 0, median_time(lambda: nb.reduce("sum", x, (0,), False)),
        median_time(lambda: x.sum(0)))
    row("reduce_sum all", "60000x784", 0, median_time(lambda: nb.reduce("sum", big, (0, 1), False),
                                                      repeat=3),
        median_time(lambda: big.sum(dtype=np.float64), repeat=3))
    logits = rng.standard_normal((32, 10)).astype(f32)
    labels = rng.integers(0, 10, 32).astype(np.int32)
    row("sparse softmax x-entropy", "32x10", 0,
        median_time(lambda: nb.sparse_softmax_xent(logits, labels)),
        median_time(lambda: npb.sparse_softmax_xent(logits, labels)))

    result = {
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "import_minitf_s": import_time(),
        "rows": rows,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "core_kernels.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Core kernels vs NumPy (medians; lower is better)", "",
             f"`import minitf`: {result['import_minitf_s']:.3f} s", "",
             "| kernel | shape | minitf µs | NumPy µs | minitf/NumPy | minitf GFLOP/s |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        gf = f"{r['minitf_gflops']:.1f}" if r["minitf_gflops"] else ""
        lines.append(f"| {r['kernel']} | {r['shape']} | {r['minitf_us']:.1f} | {r['numpy_us']:.1f}"
                     f" | {r['ratio_minitf_over_numpy']:.2f} | {gf} |")
    (out_dir / "core_kernels.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
