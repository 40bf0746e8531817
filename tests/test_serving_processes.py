"""`python -m minitf.serving` as a process: one, or several on one port (`--rest_api_workers`).

Each test starts the command-line server on a free 127.0.0.1 port, bounds every wait, and
stops the server (and checks its workers are gone) before it ends. Linux: the checks read
``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import minitf as tf

pytest.importorskip("uvicorn")
requests = pytest.importorskip("requests")
if not Path("/proc/net/tcp").exists():
    pytest.skip("reads /proc (Linux)", allow_module_level=True)

from test_serving import _timeout  # noqa: E402, F401 - autouse: every test under SIGALRM

from minitf.serving.__main__ import main  # noqa: E402
from minitf.serving.background import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
def _model(seed: int):
    tf.random.set_seed(seed)
    return tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(4,))])


class Served:
    """``python -m minitf.serving`` with ``flags``, ready once it prints its address."""

    def __init__(self, flags: list[str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "minitf.serving", f"--rest_api_port={self.port}", *flags],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))

    def wait_ready(self, seconds: float = 90.0) -> str:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(seconds)
        assert line and "REST API on" in line[0], (line, self.proc.poll())
        return line[0]

    def workers(self) -> list[int]:
        """uvicorn's workers: the server's children that multiprocessing spawned (not its
        resource tracker)."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and b"spawn_main" in (
                    stat.parent / "cmdline").read_bytes():
                out.append(int(stat.parent.name))
        return out

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; its workers must go with it."""
        workers = self.workers()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            for pid in workers:
                with_timeout(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 20)
            self.proc.stdout.close()
            self.proc.stderr.close()


def with_timeout(pred, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _sockets(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets with local ``port`` in ``state`` (0A listen, 01 established)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port and f[3] == state:
            inodes.add(int(f[9]))
    return inodes


def _owned(pid: int, inodes: set[int]) -> set[int]:
    owned = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:[") and int(link[8:-1]) in inodes:
            owned.add(int(link[8:-1]))
    return owned


@pytest.fixture
def model_dir(tmp_path):
    model = _model(1)
    model.export(tmp_path / "my_model" / "1", verbose=False)
    return tmp_path / "my_model", model


def test_two_workers_share_the_port_and_the_connections(model_dir):
    base, model = model_dir
    server = Served(["--model_name=my_model", f"--model_base_path={base}",
                     "--rest_api_workers=2", "--enable_batching"])
    try:
        assert server.wait_ready().strip().endswith("(2 processes)")
        workers = server.workers()
        assert len(workers) == 2
        listening = _sockets(server.port, "0A")
        owned = [_owned(pid, listening) for pid in workers]
        assert all(len(o) == 1 for o in owned) and owned[0] != owned[1], \
            "each worker listens on a socket of its own"

        # The seed's client program, then 32 keep-alive connections: the kernel spreads
        # them over both workers (all 32 on one: odds 2 in 2**32).
        x = np.random.default_rng(0).random((5, 4)).astype("float32")
        r = requests.post(f"{server.url}/v1/models/my_model:predict",
                          data=json.dumps({"instances": x.tolist()}), timeout=30)
        np.testing.assert_allclose(r.json()["predictions"], model.predict(x, verbose=0),
                                   rtol=1e-6)
        sessions = [requests.Session() for _ in range(32)]
        try:
            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(
                    lambda s: s.post(f"{server.url}/v1/models/my_model:predict",
                                     data=json.dumps({"instances": x[:1].tolist()}),
                                     timeout=30).status_code, sessions * 4))
            assert codes == [200] * 128
            established = _sockets(server.port, "01")
            per_worker = [len(_owned(pid, established)) for pid in workers]
            assert sum(per_worker) >= 32 and min(per_worker) > 0, per_worker
        finally:
            for s in sessions:
                s.close()

        # A second server on the same port is refused, not let in beside the first
        second = subprocess.run(
            [sys.executable, "-m", "minitf.serving", f"--rest_api_port={server.port}",
             "--model_name=my_model", f"--model_base_path={base}", "--rest_api_workers=2"],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"cannot serve on 127.0.0.1:{server.port}" in second.stderr
    finally:
        server.stop()
    assert server.proc.returncode == 0


def test_a_version_swap_with_two_workers_fails_no_request(model_dir):
    base, _ = model_dir
    server = Served(["--model_name=my_model", f"--model_base_path={base}",
                     "--rest_api_workers=2", "--file_system_poll_wait_seconds=0.1"])
    x = np.ones((1, 4), np.float32)
    v2 = _model(2)
    expect2 = np.round(v2.predict(x, verbose=0)[0].astype(np.float64), 4).tolist()
    stop, failures, seen = threading.Event(), [], []

    def client() -> None:
        for _ in range(3000):  # a fresh connection each time: both workers answer
            if stop.is_set():
                return
            r = requests.post(f"{server.url}/v1/models/my_model:predict",
                              data=json.dumps({"instances": x.tolist()}), timeout=30)
            if r.status_code != 200:
                failures.append(r.text)
            else:
                seen.append(np.round(np.asarray(r.json()["predictions"][0]), 4).tolist())

    def version() -> str:
        r = requests.get(f"{server.url}/v1/models/my_model", timeout=30)
        return r.json()["model_version_status"][0]["version"]

    try:
        server.wait_ready()
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client) for _ in range(4)]
            time.sleep(0.3)
            v2.export(base / "2", verbose=False)
            # every worker polls on its own: wait until 20 fresh connections in a row see 2
            with_timeout(lambda: all(version() == "2" for _ in range(20)), 60)
            time.sleep(0.3)
            stop.set()
            for f in futures:
                f.result(timeout=60)
        assert failures == []
        assert np.allclose(seen[-1], expect2, atol=1e-3) and len({tuple(p) for p in seen}) == 2
    finally:
        server.stop()


def test_the_workers_flag_is_checked_before_anything_starts(tmp_path, capsys):
    assert main(["--rest_api_workers=0", f"--model_base_path={tmp_path}"]) == 2
    assert "--rest_api_workers must be at least 1, got 0" in capsys.readouterr().err


def test_one_process_prints_its_address_only_once_it_listens(model_dir):
    base, _ = model_dir
    flags = ["--model_name=my_model", f"--model_base_path={base}"]
    server = Served(flags)
    try:
        assert server.wait_ready().strip().endswith(f"127.0.0.1:{server.port}")
        second = subprocess.run(
            [sys.executable, "-m", "minitf.serving", f"--rest_api_port={server.port}", *flags],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "REST API on" not in second.stdout and "address already in use" in second.stderr
    finally:
        server.stop()
    # uvicorn re-raises the signal it caught once it has shut down gracefully
    assert server.proc.returncode == -signal.SIGTERM


def test_a_worker_that_cannot_build_the_app_stops_the_server(tmp_path, capsys):
    from uvicorn.config import STARTUP_FAILURE

    from minitf.serving.processes import WorkerApp

    # the config file was there for the parent's check and is gone when the worker starts
    with pytest.raises(SystemExit) as exit_:
        WorkerApp([f"--model_config_file={tmp_path / 'gone.config'}"])()
    assert exit_.value.code == STARTUP_FAILURE  # the supervisor stops, it does not restart
    assert "gone.config" in capsys.readouterr().err
