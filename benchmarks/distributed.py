"""Data-parallel scaling of the MNIST CNN on MPI (a measurement, not a test).

    python benchmarks/distributed.py [--steps 30] [--workers 1 2] [--note "..."]
    # -> benchmarks/results/distributed.md

For each worker count N, ``mpiexec -n N`` runs this file with ``--worker``: every rank one
thread (NUMBA_NUM_THREADS=1: no oversubscription), the CNN of ``minitf/examples/mnist_cnn.py``
under ``tf.distribute.MultiWorkerMirroredStrategy``, ``model.fit`` on synthetic 28x28 images
(the speed does not depend on the pixel values), in two settings:

- weak scaling (Horovod's and tf_cnn_benchmarks' figure): 64 samples per worker per step, so
  the global batch grows with N (128 on 2 workers, the learning rate would be scaled with it);
- strong scaling: a global batch of 64 per step, so each worker computes 64 / N samples and the
  per-step overhead that does not shrink with the batch weighs N times more.

Every worker count runs once per round, ``--rounds`` rounds in alternating order (this VM's
speed drifts by tens of percent within minutes, so one worker count measured after the other
can be off either way). Reported: samples/s (per run, the median of 3 timed fits of
``--steps`` steps after a warm-up fit; in the table, the median over rounds), the speed-up over
one worker (the median over rounds of the ratio to the same round's 1-worker run; each round's
ratio is listed) and the scaling efficiency,
the time of one fused all-reduce of the gradients (median of 20, the ranks aligned by a barrier
first) and its share of a step, the all-reduce's median time per step inside the timed fits
(packing included, as in the aligned time; it includes waiting for the slower rank: the excess
over the aligned time is imbalance), and
the ring all-reduce's bound on the bytes each rank sends per step, 2 (N - 1) / N x size
(a message-passing bound: with every rank on one node, as here, minitf sends no message for
the gradients: each rank packs them into its slot of a shared-memory window and reads the
others' (N - 1) x size; across nodes MPICH picks its own algorithm, its bytes are not measured
here). Under the weak-scaling table,
the hardware's bound: N plain 1-worker processes (no launcher, no MPI) run at once, their
samples/s added, against the 1-worker row: what the shared L3 cache, memory bandwidth and clock
leave N workers before any communication.

Never ask for more workers than the machine has free cores: MPICH's ranks spin while they
wait, so an oversubscribed run measures the scheduler.
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
BATCH = 64


def worker(steps: int, global_batch: int) -> None:
    import minitf as tf
    from minitf.distribute import collective
    from minitf.distribute._mpi import world
    from minitf.examples.mnist_cnn import build_cnn

    w = world()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = build_cnn()
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    n = global_batch * steps
    x = rng.random((n, 28, 28, 1), np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    model.fit(x[:global_batch * 3], y[:global_batch * 3], batch_size=global_batch, verbose=0,
              shuffle=False)  # warm-up: compilation and tracing
    in_fit: list[float] = []  # each step's all-reduce in the timed fits, waits included
    if w.size > 1:
        reduce_packed = w.allreduce_sum_packed

        def timed(arrays: list[np.ndarray]) -> np.ndarray:
            t = time.perf_counter()
            out = reduce_packed(arrays)
            in_fit.append(time.perf_counter() - t)
            return out

        w.allreduce_sum_packed = timed
    rates = []
    for _ in range(3):
        w.barrier()
        t = time.perf_counter()
        model.fit(x, y, batch_size=global_batch, epochs=1, verbose=0, shuffle=False)
        w.barrier()
        rates.append(n / (time.perf_counter() - t))
    if w.size > 1:
        del w.allreduce_sum_packed  # the class's method again
    grads = [np.zeros(v.shape, np.float32) for v in model.trainable_variables]
    times = []
    for _ in range(20):
        w.barrier()
        t = time.perf_counter()
        collective.allreduce_fused(grads, average=True)
        times.append(time.perf_counter() - t)
    if w.rank == 0:
        size = sum(g.nbytes for g in grads)
        print(json.dumps({"workers": w.size, "samples_per_s": statistics.median(rates),
                          "allreduce_s": statistics.median(times), "gradient_bytes": size,
                          "fit_allreduce_s": statistics.median(in_fit) if in_fit else None}))


def run(workers: int, steps: int, global_batch: int) -> dict:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([str(mpiexec), "-n", str(workers), sys.executable, __file__,
                           "--worker", "--steps", str(steps),
                           "--global-batch", str(global_batch)],
                          capture_output=True, text=True, timeout=900, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{workers} workers failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def independent(processes: int, steps: int) -> dict:
    """``processes`` plain 1-worker runs (no launcher, no MPI) at once, each 64 samples per step:
    their combined samples/s is what the cores, caches and memory allow N workers, whatever
    the communication."""
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE",
                                                             "SLURM_STEP_NUM_TASKS")}
    env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "--steps", str(steps),
                               "--global-batch", str(BATCH)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(processes)]
    rates = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"an independent process failed:\n{err[-3000:]}")
        rates.append(json.loads(out.strip().splitlines()[-1])["samples_per_s"])
    return {"processes": processes, "samples_per_s": sum(rates)}


def _median_round(rounds: list[dict], n: int) -> dict:
    """``n`` workers' result with the median samples/s over the rounds, and the median over
    rounds of its speed-up on the same round's 1-worker run."""
    runs = sorted((r[n] for r in rounds), key=lambda r: r["samples_per_s"])
    out = dict(runs[len(runs) // 2])
    if all(1 in r for r in rounds):
        out["speedup"] = statistics.median(r[n]["samples_per_s"] / r[1]["samples_per_s"]
                                           for r in rounds)
    return out


def table(results: list[dict], global_batches: list[int]) -> list[str]:
    base = results[0]["samples_per_s"] / results[0]["workers"]
    lines = ["| workers | global batch | samples/s | speed-up | efficiency | all-reduce ms "
             "| share of a step | all-reduce in fit ms, waits included "
             "| gradient bytes | ring bound: bytes each rank sends per step |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r, batch in zip(results, global_batches):
        n, rate = r["workers"], r["samples_per_s"]
        speedup = r.get("speedup", rate / base)
        step_s = batch / rate
        ring = 2 * (n - 1) / n * r["gradient_bytes"]
        in_fit = "-" if r.get("fit_allreduce_s") is None else f"{r['fit_allreduce_s'] * 1e3:.2f}"
        lines.append(f"| {n} | {batch} | {rate:.0f} | {speedup:.2f} | {speedup / n:.0%} | "
                     f"{r['allreduce_s'] * 1e3:.2f} | {r['allreduce_s'] / step_s:.0%} | "
                     f"{in_fit} | "
                     f"{r['gradient_bytes']} | {ring:.0f} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--global-batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of every worker count, interleaved (medians are reported)")
    p.add_argument("--note", default="")
    args = p.parse_args()
    if args.worker:
        worker(args.steps, args.global_batch)
        return
    load = os.getloadavg()[0]
    lines = [f"# MNIST CNN, data-parallel on MPI ({platform.node()}, {os.cpu_count()} cores, "
             f"load average {load:.1f} at the start)", "", args.note, ""]
    for title, batches in (("Weak scaling: 64 samples per worker per step",
                            [BATCH * n for n in args.workers]),
                           ("Strong scaling: a global batch of 64 per step",
                            [BATCH] * len(args.workers))):
        weak = title.startswith("Weak") and 1 in args.workers and max(args.workers) > 1
        rounds: list[dict] = []  # per round: worker count (0: the hardware's bound) -> result
        for i in range(args.rounds):  # the order alternates: a drifting VM hits each alike
            order = list(zip(args.workers, batches))[::1 if i % 2 == 0 else -1]
            got = {n: run(n, args.steps, b) for n, b in order}
            if weak:
                got[0] = independent(max(args.workers), args.steps)
            rounds.append(got)
        results = [_median_round(rounds, n) for n in args.workers]
        lines += [f"## {title}", ""] + table(results, batches) + [""]
        if 1 in args.workers and len(args.workers) > 1:
            n = max(args.workers)
            per = ", ".join(f"{r[n]['samples_per_s'] / r[1]['samples_per_s']:.2f}" for r in rounds)
            lines += [f"Speed-up of {n} workers in each round: {per} (the table gives the "
                      "medians: samples/s over rounds, speed-up over rounds' ratios).", ""]
        if weak:
            n = max(args.workers)
            bound = [r[0]["samples_per_s"] / r[1]["samples_per_s"] for r in rounds]
            both = statistics.median(r[0]["samples_per_s"] for r in rounds)
            lines += [f"The hardware's bound: {n} plain 1-worker processes at once (no MPI, the "
                      f"same steps) train {both:.0f} samples/s together, "
                      f"{statistics.median(bound):.2f}x the 1-worker run of the same round "
                      f"(rounds: {', '.join(f'{b:.2f}' for b in bound)}).", ""]
    lines.append(f"Load average {os.getloadavg()[0]:.1f} at the end.")
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / "results" / "distributed.md").write_text(text)


if __name__ == "__main__":
    main()
