"""Serving throughput and latency: minitf.serving (batching off and on) vs a naive server.

    python benchmarks/serving.py [--duration 8] [--models mlp cnn] [--concurrency 1 8 32 128]
    # -> benchmarks/results/serving.{json,md,png}

Each server runs in its own process on 127.0.0.1; ``wrk`` (Debian package ``wrk``, installed
here with apt-get when run as root) drives it with a Lua script posting one MNIST test image
per request (TF Serving's row format), for ``--duration`` seconds per concurrency level after a
warm-up. All servers are up at once and measured in turn, ``--repeats`` rounds, so a drift in
the machine's speed hits each alike; the figure is the round with the median req/s. The naive
server is what a tutorial writes: Starlette + uvicorn, ``model.predict`` on
each request in the event loop. A server named ``KIND-Nproc`` is that server in N processes
(``--rest_api_workers=N`` for minitf.serving, ``uvicorn --workers N`` for the naive app). The
models are the course's MNIST MLP and CNN, untrained
(weights do not change the cost). The load average is recorded with each figure: on a shared
two-core machine, numbers taken under load are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("%s"):read("*a")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                       stdout=subprocess.DEVNULL, env=dict(os.environ,
                                                           DEBIAN_FRONTEND="noninteractive"))
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    return wrk


def export_models(base: Path, names: list[str]) -> None:
    import minitf as tf
    from minitf.examples.mnist import build_mlp
    from minitf.examples.mnist_cnn import build_cnn

    tf.random.set_seed(0)
    for name in names:
        model = build_mlp() if name == "mlp" else build_cnn()
        model.export(base / f"mnist_{name}" / "1", verbose=False)


def body_file(base: Path, name: str) -> Path:
    import minitf as tf

    _, (x, _) = tf.keras.datasets.mnist.load_data()
    img = (x[0].astype("float32") / 255.0)
    if name == "cnn":
        img = img[..., None]
    path = base / f"body_{name}.json"
    path.write_text(json.dumps({"instances": [img.tolist()]}))
    return path


# -- the naive server: a tutorial's Starlette app ----------------------------------------------------


def naive_app(model_dir: str):  # noqa: ANN201
    import numpy as np
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import minitf as tf

    model = tf.saved_model.load(model_dir)

    async def predict(request: Request) -> JSONResponse:
        data = await request.json()
        x = np.asarray(data["instances"], dtype=np.float32)
        return JSONResponse({"predictions": model.predict(x, verbose=0).tolist()})

    return Starlette(routes=[Route("/v1/models/{name}:predict", predict, methods=["POST"])])


def naive_from_env():  # noqa: ANN201
    """``naive_app`` of ``$NAIVE_MODEL_DIR`` (uvicorn's factory in each worker)."""
    return naive_app(os.environ["NAIVE_MODEL_DIR"])


def start(kind: str, model_dir: Path, port: int, params: Path, log: Path) -> subprocess.Popen:
    """Start a ``kind`` server (``naive``, ``direct`` or ``batching``, optionally ``-Nproc``)
    and return once every one of its processes serves."""
    base, _, procs = kind.partition("-")
    workers = int(procs.removesuffix("proc")) if procs else 1
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if base == "naive":
        cmd = [sys.executable, __file__, "--naive-server", str(model_dir / "1"), "--port",
               str(port), "--workers", str(workers)]
        ready, count = "Application startup complete.", workers  # uvicorn's, per process
    else:
        cmd = [sys.executable, "-m", "minitf.serving", f"--rest_api_port={port}",
               f"--model_name={model_dir.name}", f"--model_base_path={model_dir}",
               "--file_system_poll_wait_seconds=0", f"--rest_api_workers={workers}"]
        if base == "batching":
            cmd += ["--enable_batching", f"--batching_parameters_file={params}"]
        ready, count = "REST API on", 1  # printed once every worker serves
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} server exited with {proc.returncode}:\n"
                             f"{log.read_text()[-2000:]}")
        if log.read_text().count(ready) >= count:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proc
            except OSError:
                pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{kind} server did not start in 120 s")


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run_wrk(wrk: str, url: str, lua: Path, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(lua), url],
                         capture_output=True, text=True, timeout=seconds + 60)
    out = out.stdout + out.stderr
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk gave no figures:\n{out}")
    rps = float(found.group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"connections": connections, "requests_per_s": rps, "p50_ms": _ms(lat["50"]),
            "p99_ms": _ms(lat["99"]), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else "", "load_avg": os.getloadavg()[0]}


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput of ``runs``, with every run's req/s listed."""
    ordered = sorted(runs, key=lambda r: r["requests_per_s"])
    out = dict(ordered[len(ordered) // 2])
    out["all_requests_per_s"] = [r["requests_per_s"] for r in runs]
    out["non_2xx"] = sum(r["non_2xx"] for r in runs)
    return out


def _server_order(server: str) -> tuple:
    base, _, procs = server.partition("-")
    return ["naive", "direct", "batching"].index(base), procs


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted({r["model"] for r in results})
    fig, axes = plt.subplots(2, len(models), figsize=(5.5 * len(models), 7), squeeze=False)
    for j, model in enumerate(models):
        for server in sorted({r["server"] for r in results}, key=_server_order):
            style = {"naive": "o:", "direct": "s--", "batching": "^-"}[server.split("-")[0]]
            if "-" in server:
                style = style[0] + "-"  # several processes: solid, filled
            rows = [r for r in results if r["model"] == model and r["server"] == server]
            if not rows:
                continue
            c = [r["connections"] for r in rows]
            axes[0, j].plot(c, [r["requests_per_s"] for r in rows], style, label=server)
            axes[1, j].plot(c, [r["p99_ms"] for r in rows], style, label=server)
        axes[0, j].set_title(f"MNIST {model.upper()}: one image per request")
        axes[0, j].set_ylabel("requests/s")
        axes[1, j].set_ylabel("p99 latency (ms)")
        axes[1, j].set_yscale("log")
        for ax in axes[:, j]:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("concurrent connections")
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(results: list[dict]) -> str:
    lines = ["| model | server | connections | req/s | p50 ms | p99 ms | errors | load avg |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        errs = r["non_2xx"] + (1 if r["socket_errors"] else 0)
        lines.append(f"| {r['model']} | {r['server']} | {r['connections']} | "
                     f"{r['requests_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{errs} | {r['load_avg']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    p.add_argument("--concurrency", nargs="+", type=int, default=[1, 8, 32, 128])
    p.add_argument("--servers", nargs="+",
                   default=["naive", "direct", "batching", "batching-2proc"],
                   help="naive, direct, batching, each optionally -Nproc (N processes)")
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--batch-timeout-micros", type=int, default=500)
    p.add_argument("--out", default=str(RESULTS / "serving"))
    p.add_argument("--naive-server", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.naive_server:
        import uvicorn

        # An import string, as uvicorn's --workers needs; "info" logs each worker's start
        os.environ["NAIVE_MODEL_DIR"] = args.naive_server
        sys.path.insert(0, str(Path(__file__).parent))
        uvicorn.run("serving:naive_from_env", factory=True, host="127.0.0.1", port=args.port,
                    workers=args.workers, access_log=False, log_level="info")
        return
    wrk = ensure_wrk()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        export_models(base, args.models)
        params = base / "batching.config"
        params.write_text(f"max_batch_size {{ value: {args.max_batch_size} }}\n"
                          f"batch_timeout_micros {{ value: {args.batch_timeout_micros} }}\n"
                          "num_batch_threads { value: 1 }\n")
        for model in args.models:
            lua = base / f"post_{model}.lua"
            lua.write_text(LUA % body_file(base, model))
            model_dir = base / f"mnist_{model}"
            urls, procs = {}, []
            try:
                for server in args.servers:  # all up at once: each round measures every one
                    port = free_port()
                    procs.append(start(server, model_dir, port, params,
                                       base / f"{model}-{server}.log"))
                    urls[server] = f"http://127.0.0.1:{port}/v1/models/mnist_{model}:predict"
                    run_wrk(wrk, urls[server], lua, 8, 2)  # warm-up: JIT, tracing
                for c in args.concurrency:
                    runs: dict[str, list[dict]] = {s: [] for s in args.servers}
                    for _ in range(args.repeats):  # interleaved, so drifts hit all alike
                        for server in args.servers:
                            runs[server].append(run_wrk(wrk, urls[server], lua, c,
                                                        args.duration))
                    for server, rs in runs.items():
                        r = median_run(rs)
                        r.update(model=model, server=server)
                        print(json.dumps(r), flush=True)
                        results.append(r)
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=30)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "duration_s": args.duration, "repeats": args.repeats, "max_batch_size": args.max_batch_size,
            "batch_timeout_micros": args.batch_timeout_micros,
            "taken": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    out.with_suffix(".md").write_text(
        "# Serving benchmark (benchmarks/serving.py)\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in meta.items()) + "\n\n" + table(results) + "\n")
    plot(results, out.with_suffix(".png"))
    print(table(results))


if __name__ == "__main__":
    main()
