"""The TF-Serving-compatible REST server: protocol, errors, versions, batching, load and faults.

Servers bind 127.0.0.1 on a free port and are stopped by their fixtures; every test runs under
a SIGALRM timeout; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import minitf as tf

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
requests = pytest.importorskip("requests")

from test_browser_smoke import ARTIFACTS, chromium_page  # noqa: E402

from minitf.serving import config as cfg  # noqa: E402
from minitf.serving.background import BackgroundServer, free_port  # noqa: E402
from minitf.serving.manager import Manager  # noqa: E402
from minitf.serving.servable import Servable, Signature, TensorInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = """
import json
import requests
response = requests.post('http://localhost:8501/v1/models/my_model:predict', data=json.dumps({'instances': data.tolist()}))
predictions = response.json()['predictions']
"""  # noqa: E501 - the seed's line is long, and unchanged
TEST_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def _timeout():
    """Fail a test that runs past TEST_TIMEOUT_S instead of hanging the suite."""
    def fail(signum, frame):
        raise TimeoutError(f"test ran past {TEST_TIMEOUT_S} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(TEST_TIMEOUT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def small_model(seed: int = 0):
    tf.random.set_seed(seed)
    return tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(4,))])


def export(model, path: Path) -> None:
    tf.saved_model.save(model, path)


class Running(BackgroundServer):
    """The server in a thread, with request helpers."""

    def post(self, path: str, body, **kw):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return requests.post(self.url + path, data=data, timeout=30, **kw)

    def get(self, path: str):
        return requests.get(self.url + path, timeout=30)


@pytest.fixture
def serve():
    started = []

    def start(manager, **kw):
        started.append(Running(manager, **kw))
        return started[-1]

    yield start
    for r in started:
        r.stop()
        assert not r._thread.is_alive()


@pytest.fixture
def base(tmp_path):
    """``my_model/1`` holding a small exported model."""
    b = tmp_path / "my_model"
    export(small_model(0), b / "1")
    return b


def _fake_loader(path: Path) -> Servable:
    """A servable with several inputs and outputs, a string input and an identity, for the
    parts of the protocol a Keras model does not exercise."""
    f32 = lambda *s: TensorInfo("float32", (None, *s))  # noqa: E731
    two = Signature({"a": f32(2), "b": f32(2)}, {"sum": f32(2), "prod": f32(2)},
                    lambda x: {"sum": x["a"] + x["b"], "prod": x["a"] * x["b"]})
    strings = Signature({"text": TensorInfo("string", (None,))},
                        {"length": TensorInfo("int64", (None,)), "echo": TensorInfo("string", (None,))},
                        lambda x: {"length": np.array([len(s) for s in x["text"]], np.int64),
                                   "echo": x["text"]})
    ident = Signature({"x": f32(2)}, {"y": f32(2)}, lambda x: {"y": x["x"]})

    def broken(x):
        raise (ValueError if x["x"][0, 0] < 0 else RuntimeError)("the model failed")

    fails = Signature({"x": f32(2)}, {"y": f32(2)}, broken)
    return Servable({"serving_default": two, "strings": strings, "identity": ident,
                     "fails": fails})


@pytest.fixture
def fake(tmp_path, serve):
    (tmp_path / "fake" / "1").mkdir(parents=True)
    (tmp_path / "fake" / "1" / "saved_model.json").write_text("{}")
    m = Manager([cfg.ModelConfig("fake", str(tmp_path / "fake"))], 0, loader=_fake_loader)
    return serve(m, max_body_bytes=10_000)


# -- the seed's program, unchanged, against `python -m minitf.serving` ----------------------------


def test_seed_program_against_the_command_line_server(tmp_path):
    model = small_model(1)
    model.export(tmp_path / "my_model" / "1")
    port = free_port()
    cmd = [sys.executable, "-m", "minitf.serving", f"--rest_api_port={port}",
           "--model_name=my_model", f"--model_base_path={tmp_path / 'my_model'}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://localhost:{port}/v1/models/my_model", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.2)
        data = np.random.default_rng(0).random((5, 4)).astype("float32")
        # the seed's client lines, as written (only the port is the test's free one)
        seed = SEED.replace("8501", str(port))
        scope = {"data": data}
        exec(seed, scope)  # noqa: S102 - our own constant program
        np.testing.assert_allclose(scope["predictions"], model.predict(data, verbose=0),
                                   rtol=1e-6)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_import_minitf_does_not_load_the_server():
    code = "import sys, minitf; print('minitf.serving' in sys.modules, 'starlette' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]


# -- endpoints --------------------------------------------------------------------------------------


def test_status_metadata_and_both_formats(base, serve):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0))
    assert s.get("/v1/models/my_model").json() == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    assert s.get("/v1/models/my_model/versions/1").status_code == 200
    meta = s.get("/v1/models/my_model/metadata").json()
    assert meta["model_spec"] == {"name": "my_model", "signature_name": "", "version": "1"}
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    ((in_name, inp),) = sig["inputs"].items()
    assert inp["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in inp["tensor_shape"]["dim"]] == ["-1", "4"]
    x = np.random.default_rng(1).random((3, 4)).astype("float32")
    rows = s.post("/v1/models/my_model:predict", {"instances": x.tolist()}).json()["predictions"]
    cols = s.post("/v1/models/my_model/versions/1:predict", {"inputs": x.tolist()}).json()
    named = s.post("/v1/models/my_model:predict",
                   {"inputs": {in_name: x.tolist()}, "signature_name": "serving_default"})
    expect = tf.saved_model.load(base / "1").predict(x, verbose=0)
    # full precision: each float32 comes back exactly
    np.testing.assert_array_equal(np.array(rows, np.float32), expect)
    np.testing.assert_array_equal(np.array(cols["outputs"], np.float32), expect)
    np.testing.assert_array_equal(np.array(named.json()["outputs"], np.float32), expect)


def test_named_inputs_outputs_b64_and_non_finite_values(fake):
    body = {"instances": [{"a": [1, 2], "b": [3, 4]}, {"a": [0.5, 0], "b": [2, 1]}]}
    assert fake.post("/v1/models/fake:predict", body).json() == {"predictions": [
        {"sum": [4.0, 6.0], "prod": [3.0, 8.0]}, {"sum": [2.5, 1.0], "prod": [1.0, 0.0]}]}
    cols = fake.post("/v1/models/fake:predict", {"inputs": {"a": [[1, 2]], "b": [[1, 1]]}}).json()
    assert cols == {"outputs": {"sum": [[2.0, 3.0]], "prod": [[1.0, 2.0]]}}
    hi = base64.b64encode(b"\x00hi\xff").decode()
    r = fake.post("/v1/models/fake:predict",
                  {"signature_name": "strings", "instances": [{"b64": hi}, "abc"]}).json()
    assert r == {"predictions": [{"length": 4, "echo": {"b64": hi}},
                                 {"length": 3, "echo": {"b64": base64.b64encode(b"abc").decode()}}]}
    r = fake.post("/v1/models/fake:predict",
                  '{"signature_name": "identity", "instances": [[NaN, Infinity], [-Infinity, 0.1]]}')
    assert r.status_code == 200
    assert r.text == '{"predictions":[[NaN,Infinity],[-Infinity,0.10000000149011612]]}'
    back = json.loads(r.text)["predictions"]
    assert math.isnan(back[0][0]) and back[1][0] == -math.inf


def test_model_failures_answer_json(fake):
    """A value the model rejects is the request's fault (400); any other failure is the
    server's (500); both with an error body, and the server carries on."""
    r = fake.post("/v1/models/fake:predict", {"signature_name": "fails", "instances": [[-1, 0]]})
    assert r.status_code == 400 and "the model failed" in r.json()["error"]
    r = fake.post("/v1/models/fake:predict", {"signature_name": "fails", "instances": [[1, 0]]})
    assert r.status_code == 500 and "RuntimeError: the model failed" in r.json()["error"]
    r = fake.post("/v1/models/fake:predict", {"signature_name": "identity", "instances": [[1, 2]]})
    assert r.json() == {"predictions": [[1.0, 2.0]]}


def _errors():
    x = [[0.0] * 4]
    yield "malformed JSON", "/v1/models/my_model:predict", "{'instances': ", 400, "JSON Parse error"
    yield "not an object", "/v1/models/my_model:predict", "[1, 2]", 400, "Is not object"
    yield "neither", "/v1/models/my_model:predict", {"signature_name": "serving_default"}, 400, \
        "Missing 'inputs' or 'instances' key"
    yield "both", "/v1/models/my_model:predict", {"instances": x, "inputs": x}, 400, \
        "Expecting only one of"
    yield "wrong shape", "/v1/models/my_model:predict", {"instances": [[1, 2, 3]]}, 400, \
        "has shape [1,3], but the signature expects [-1,4]"
    yield "wrong rank", "/v1/models/my_model:predict", {"instances": [1, 2]}, 400, "has shape [2]"
    yield "ragged", "/v1/models/my_model:predict", {"instances": [[1, 2, 3, 4], [1]]}, 400, "ragged"
    yield "strings", "/v1/models/my_model:predict", {"instances": [["a"] * 4]}, 400, "DT_FLOAT"
    yield "b64 for floats", "/v1/models/my_model:predict", {"instances": [{"b64": "AA=="}]}, 400, \
        "DT_FLOAT"
    yield "null", "/v1/models/my_model:predict", {"instances": [[None] * 4]}, 400, "DT_FLOAT"
    yield "empty", "/v1/models/my_model:predict", {"instances": []}, 400, "empty"
    yield "not a list", "/v1/models/my_model:predict", {"instances": 3}, 400, "must be a list"
    yield "unknown key", "/v1/models/my_model:predict", {"instances": x, "foo": 1}, 400, "foo"
    yield "signature", "/v1/models/my_model:predict", {"instances": x, "signature_name": "nope"}, \
        400, 'Serving signature name: "nope" not found'
    yield "classify", "/v1/models/my_model:classify", {"examples": []}, 400, \
        "Expected classify signature method_name"
    yield "regress", "/v1/models/my_model:regress", {"examples": []}, 400, "Expected regress"
    yield "bad version", "/v1/models/my_model/versions/x:predict", {"instances": x}, 400, \
        "Failed to convert version"
    yield "unknown model", "/v1/models/nope:predict", {"instances": x}, 404, "Servable not found"
    yield "unknown version", "/v1/models/my_model/versions/9:predict", {"instances": x}, 404, \
        "Specific(my_model, 9)"
    yield "too large", "/v1/models/my_model:predict", {"instances": [[0.0] * 4] * 3000}, 413, \
        "over the limit"


def test_a_chunked_body_over_the_limit_answers_413(base, serve):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0), max_body_bytes=1000)
    r = requests.post(s.url + "/v1/models/my_model:predict", timeout=30,
                      data=iter([b'{"instances": [', b"[0, 0, 0, 0]," * 200]))
    assert r.status_code == 413 and "over the limit of 1000 bytes" in r.json()["error"]


@pytest.mark.parametrize("what,path,body,status,message", list(_errors()),
                         ids=[e[0] for e in _errors()])
def test_errors_as_tf_serving_gives_them(base, serve, what, path, body, status, message):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0), max_body_bytes=20_000)
    r = s.post(path, body)
    assert r.status_code == status, r.text
    assert list(r.json()) == ["error"] and message in r.json()["error"], r.text


def test_status_of_unknown_model_and_version(base, serve):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0))
    assert s.get("/v1/models/nope").status_code == 404
    assert s.get("/v1/models/my_model/versions/5").status_code == 404
    assert s.get("/v1/models/my_model/versions/5/metadata").status_code == 404
    assert "error" in s.get("/v1/models/nope/metadata").json()


# -- configuration files ---------------------------------------------------------------------------


def test_model_config_file_and_batching_parameters():
    text = """
    # two models
    model_config_list {
      config { name: 'a'  base_path: "/m/a"  model_platform: "tensorflow" }
      config {
        name: "b" base_path: "/m/b"
        model_version_policy { specific { versions: 1 versions: 3 } }
      }
      config { name: "c" base_path: "/m/c" model_version_policy { all {} } }
      config { name: "d" base_path: "/m/d" model_version_policy { latest { num_versions: 2 } } }
    }"""
    a, b, c, d = cfg.parse_model_config(text)
    assert (a.name, a.base_path, a.policy, a.num_versions) == ("a", "/m/a", "latest", 1)
    assert (b.policy, b.versions) == ("specific", {1, 3})
    assert c.policy == "all" and (d.policy, d.num_versions) == ("latest", 2)
    with pytest.raises(ValueError, match="unknown field 'nmae'"):
        cfg.parse_model_config("model_config_list { config { nmae: 'x' } }")
    with pytest.raises(ValueError, match="never closed"):
        cfg.parse_model_config("model_config_list { config { name: 'x' }")
    p = cfg.parse_batching_parameters("max_batch_size { value: 64 }\n"
                                      "batch_timeout_micros { value: 500 }\n"
                                      "num_batch_threads { value: 1 }")
    assert (p.max_batch_size, p.batch_timeout_micros, p.num_batch_threads) == (64, 500, 1)
    with pytest.raises(ValueError, match="max_batch_size must be positive"):
        cfg.parse_batching_parameters("max_batch_size { value: 0 }")


def test_version_policies(tmp_path):
    for v in (1, 2, 3):
        export(small_model(v), tmp_path / "m" / str(v))
    (tmp_path / "m" / "notes").mkdir()  # not a version
    versions = lambda policy, **kw: sorted(Manager(  # noqa: E731
        [cfg.ModelConfig("m", str(tmp_path / "m"), policy, **kw)], 0).models["m"].versions)
    assert versions("latest") == [3]
    assert versions("latest", num_versions=2) == [2, 3]
    assert versions("all") == [1, 2, 3]
    assert versions("specific", versions={1, 3}) == [1, 3]


# -- versions while serving -------------------------------------------------------------------------


def _wait(pred, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_version_swap_under_concurrent_requests_fails_nothing(base, serve):
    manager = Manager([cfg.ModelConfig("my_model", str(base))], 0.05)
    s = serve(manager)
    x = np.ones((1, 4), np.float32)
    v2 = small_model(2)
    expect2 = v2.predict(x, verbose=0)
    stop, failures, seen = threading.Event(), [], set()
    key = lambda p: tuple(np.round(np.asarray(p, np.float64), 4).tolist())  # noqa: E731

    def client():
        with requests.Session() as sess:
            for _ in range(2000):
                if stop.is_set():
                    return
                r = sess.post(s.url + "/v1/models/my_model:predict",
                              data=json.dumps({"instances": x.tolist()}), timeout=30)
                if r.status_code != 200:
                    failures.append(r.text)
                else:
                    seen.add(key(r.json()["predictions"][0]))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(client) for _ in range(4)]
        time.sleep(0.3)
        export(v2, base / "2")
        _wait(lambda: s.get("/v1/models/my_model").json()["model_version_status"][0]
              == {"version": "2", "state": "AVAILABLE",
                  "status": {"error_code": "OK", "error_message": ""}})
        time.sleep(0.3)
        stop.set()
        for f in futures:
            f.result(timeout=60)
    assert failures == []
    assert key(expect2[0]) in seen and len(seen) == 2
    assert [v["version"] for v in s.get("/v1/models/my_model").json()["model_version_status"]] \
        == ["2"]  # version 1 was unloaded


def test_corrupt_and_half_written_versions_are_never_loaded(base, serve):
    manager = Manager([cfg.ModelConfig("my_model", str(base))], 0.05)
    s = serve(manager)
    x = {"instances": [[1.0, 2.0, 3.0, 4.0]]}
    before = s.post("/v1/models/my_model:predict", x).json()
    (base / "5").mkdir()
    (base / "5" / "model.keras").write_bytes(b"half a zip")  # no saved_model.json yet
    shutil.copytree(base / "1", base / "3")
    (base / "3" / "model.keras").write_bytes(b"PK\x03\x04 garbage")  # corrupt
    (base / "4").mkdir()
    (base / "4" / "saved_model.json").write_text("{not json")

    def states():
        return {v["version"]: v for v in s.get("/v1/models/my_model").json()["model_version_status"]}

    _wait(lambda: {"3", "4", "5"} <= set(states()))
    st = states()
    assert st["5"]["state"] == "START" and "incomplete" in st["5"]["status"]["error_message"]
    for v in ("3", "4"):
        assert st[v]["state"] == "END" and st[v]["status"]["error_code"] != "OK"
        assert f"my_model/{v}" in st[v]["status"]["error_message"]
    assert st["1"]["state"] == "AVAILABLE"
    assert s.post("/v1/models/my_model:predict", x).json() == before
    assert s.post("/v1/models/my_model/versions/3:predict", x).status_code == 404
    # a fixed version directory is retried; a vanished one is unloaded
    shutil.rmtree(base / "3")
    export(small_model(3), base / "3")
    _wait(lambda: states()["3"]["state"] == "AVAILABLE")
    shutil.rmtree(base / "3")
    _wait(lambda: "3" not in states() and states()["1"]["state"] == "AVAILABLE")
    assert s.post("/v1/models/my_model:predict", x).json() == before


# -- batching, faults and load --------------------------------------------------------------------


def test_batching_merges_concurrent_requests(tmp_path, serve):
    calls = []

    def loader(path):
        def fn(x):
            calls.append(len(x["x"]))
            time.sleep(0.01)  # slow enough that requests pile up behind a running batch
            return {"y": x["x"] * 2}

        f32 = TensorInfo("float32", (None, 2))
        return Servable({"serving_default": Signature({"x": f32}, {"y": f32}, fn)})

    (tmp_path / "m" / "1").mkdir(parents=True)
    (tmp_path / "m" / "1" / "saved_model.json").write_text("{}")
    params = cfg.BatchingParameters(max_batch_size=8, batch_timeout_micros=2000,
                                    num_batch_threads=1)
    s = serve(Manager([cfg.ModelConfig("m", str(tmp_path / "m"))], 0, loader=loader),
              batching=params)

    def one(i):
        rows = [[i, i + 0.5]] * (1 + i % 3)
        r = s.post("/v1/models/m:predict", {"instances": rows})
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == [[2 * i, 2 * i + 1]] * (1 + i % 3)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(64)))
    assert sum(calls) == sum(1 + i % 3 for i in range(64))
    assert len(calls) < 64 and max(calls) <= 8


def test_killed_clients_do_not_disturb_the_server(base, serve):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0))
    body = json.dumps({"instances": [[1.0, 2.0, 3.0, 4.0]]}).encode()
    head = (f"POST /v1/models/my_model:predict HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    for cut in (10, len(head) + 5, len(head) + len(body)):  # in the head, the body, after
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
                c.sendall((head + body)[:cut])
            # closed without reading: the server must drop it and carry on
    r = s.post("/v1/models/my_model:predict", body)
    assert r.status_code == 200 and len(r.json()["predictions"]) == 1


def _read_response(c: socket.socket) -> str:
    """One HTTP response from ``c``: uvicorn may send the head and the body in two segments,
    so read until the body holds its Content-Length (the socket's timeout bounds each wait)."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            if len(body) >= (int(length.group(1)) if length else 0):
                return data.decode()
        chunk = c.recv(4096)
        if not chunk:
            return data.decode()
        data += chunk


def test_a_stalled_body_times_out(base, serve):
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0), timeout_s=1.0)
    head = (b"POST /v1/models/my_model:predict HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 1000\r\n\r\n{\"instances\": [")
    with socket.create_connection(("127.0.0.1", s.port), timeout=20) as c:
        c.sendall(head)  # and then nothing more
        t = time.monotonic()
        answer = _read_response(c)
    assert answer.startswith("HTTP/1.1 408") and time.monotonic() - t < 10, answer
    assert "not received within 1.0 s" in answer


def test_methods_and_malformed_paths(base, serve):
    """POST on /v1/models/... (the bare ASGI path) and the other methods (Starlette) answer
    as TF Serving does; a bug answers 500 as Starlette would, and the server carries on."""
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0))
    x = {"instances": [[0.0] * 4]}
    for method, path, status in [
            ("POST", "/v1/models/my_model", 405), ("POST", "/v1/models/my_model/metadata", 405),
            ("POST", "/v1/models/my_model/versions/1", 405), ("POST", "/v1/models/", 404),
            ("POST", "/v1/models/my_model:explain", 404), ("POST", "/v1/models/a/b:predict", 404),
            ("GET", "/v1/models/my_model:predict", 405), ("PUT", "/v1/models/my_model", 405),
            ("DELETE", "/v1/models/my_model:predict", 405), ("GET", "/v1/models/a/b", 404)]:
        r = requests.request(method, s.url + path, data=json.dumps(x), timeout=30)
        assert r.status_code == status, (method, path, r.text)
        assert r.headers["content-type"] == "application/json"
        assert r.json()["error"].startswith("Malformed request: "), r.text
    assert requests.patch(s.url + "/v1/models/my_model", timeout=30).status_code == 405
    assert requests.post(s.url + "/v1/models", timeout=30).status_code == 405
    r = s.post("/v1/models/my_model:predict", x)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    chunked = requests.post(s.url + "/v1/models/my_model:predict", timeout=30,
                            data=iter([b'{"instances": ', b"[[0, 0, 0, 0]]}"]))
    assert chunked.json() == r.json()  # a body in chunks, without a Content-Length

    def broken(*a, **k):
        raise RuntimeError("a bug")

    s.manager.get = broken
    r = s.post("/v1/models/my_model:predict", x)
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    del s.manager.get
    assert s.post("/v1/models/my_model:predict", x).status_code == 200


def test_coalescing_transport_joins_one_loop_step():
    from minitf.serving.wire import JOIN_LIMIT, _Coalescing

    class Fake:
        def __init__(self):
            self.log = []

        def write(self, data):
            self.log.append(data)

        def close(self):
            self.log.append("close")

        def abort(self):
            self.log.append("abort")

        def is_closing(self):
            return False

    async def main():
        fake = Fake()
        t = _Coalescing(fake, asyncio.get_running_loop())
        t.write(b"head")
        t.write(b"")
        t.write(b"body")
        assert fake.log == [] and not t.is_closing()
        await asyncio.sleep(0)
        assert fake.log == [b"headbody"]
        big = b"x" * (JOIN_LIMIT + 1)
        t.write(b"head")
        t.write(big)  # sent at once, after what is pending, without a copy
        assert fake.log[1:] == [b"head", big] and fake.log[2] is big
        t.write(b"last")
        t.close()
        assert fake.log[3:] == [b"last", "close"]
        t.write(b"dropped")
        t.abort()
        await asyncio.sleep(0)
        assert fake.log[5:] == ["abort"]

    asyncio.run(main())


def test_a_response_is_one_write(base, serve):
    """Head and body leave in one segment (one send): the first recv() holds all of it."""
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0))
    body = json.dumps({"instances": [[1.0, 2.0, 3.0, 4.0]]}).encode()
    head = (f"POST /v1/models/my_model:predict HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", s.port), timeout=20) as c:
        for _ in range(20):
            c.sendall(head + body)
            first = c.recv(65536).decode()
            length = int(re.search(r"(?i)content-length: *(\d+)", first).group(1))
            assert len(first.partition("\r\n\r\n")[2]) == length, first
            assert first.startswith("HTTP/1.1 200") and '"predictions"' in first


@pytest.mark.parametrize("batching", [False, True], ids=["direct", "batching"])
def test_slow_inference_answers_504_and_the_server_carries_on(tmp_path, serve, batching):
    def loader(path):
        def fn(x):
            time.sleep(float(x["x"][0, 0]))
            return {"y": x["x"]}

        f32 = TensorInfo("float32", (None, 2))
        return Servable({"serving_default": Signature({"x": f32}, {"y": f32}, fn)})

    (tmp_path / "m" / "1").mkdir(parents=True)
    (tmp_path / "m" / "1" / "saved_model.json").write_text("{}")
    params = cfg.BatchingParameters(max_batch_size=4, batch_timeout_micros=1000)
    s = serve(Manager([cfg.ModelConfig("m", str(tmp_path / "m"))], 0, loader=loader),
              batching=params if batching else None, timeout_s=0.5)
    r = s.post("/v1/models/m:predict", {"instances": [[1.5, 0]]})
    assert r.status_code == 504 and "Deadline exceeded" in r.json()["error"], r.text
    time.sleep(1.2)  # the late result arrives and is dropped
    r = s.post("/v1/models/m:predict", {"instances": [[0.0, 1.0]]})
    assert r.json() == {"predictions": [[0.0, 1.0]]}


@pytest.mark.parametrize("batching", [False, True], ids=["direct", "batching"])
def test_3000_requests_from_16_clients_without_an_error(base, serve, batching):
    params = cfg.BatchingParameters(max_batch_size=32, batch_timeout_micros=1000)
    s = serve(Manager([cfg.ModelConfig("my_model", str(base))], 0),
              batching=params if batching else None)
    expect = tf.saved_model.load(base / "1").predict(np.eye(4, dtype=np.float32), verbose=0)
    deadline = time.monotonic() + 100

    def client(k):
        bad = 0
        with requests.Session() as sess:
            for i in range(3000 // 16 + (k < 3000 % 16)):
                assert time.monotonic() < deadline
                j = (i + k) % 4
                r = sess.post(s.url + "/v1/models/my_model:predict", timeout=30,
                              data=json.dumps({"instances": [np.eye(4)[j].tolist()]}))
                ok = r.status_code == 200 and np.allclose(r.json()["predictions"][0],
                                                          expect[j], rtol=1e-6)
                bad += not ok
        return bad

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(client, range(16)))
    assert sum(results) == 0


# -- SavedModel signatures ------------------------------------------------------------------------


def test_saved_model_records_a_serving_default_signature(tmp_path):
    model = small_model(4)
    model.export(tmp_path / "m" / "1")
    meta = json.loads((tmp_path / "m" / "1" / "saved_model.json").read_text())
    sig = meta["signatures"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    ((name, spec),) = sig["inputs"].items()
    assert name.endswith("_input") and spec == {"dtype": "float32", "shape": [None, 4]}
    assert list(sig["outputs"].values()) == [{"dtype": "float32", "shape": [None, 3]}]
    loaded = tf.saved_model.load(tmp_path / "m" / "1")
    x = np.ones((2, 4), np.float32)
    out = loaded.signatures["serving_default"](**{name: x})
    np.testing.assert_allclose(list(out.values())[0].numpy(), model.predict(x, verbose=0))
    shown = subprocess.run([sys.executable, "-m", "minitf.saved_model", "show", "--dir",
                            str(tmp_path / "m" / "1"), "--all"], capture_output=True, text=True,
                           timeout=60, cwd=ROOT)
    assert shown.returncode == 0 and shown.stderr == ""
    assert "signature_def['serving_default']" in shown.stdout
    assert "dtype: DT_FLOAT" in shown.stdout and "shape: (-1, 4)" in shown.stdout
    with pytest.raises(ValueError, match="no signature 'nope'"):
        tf.saved_model.show(tmp_path / "m" / "1", "nope")
    (tmp_path / "m" / "1" / "saved_model.json").write_text('{"format": "minitf-saved-model", '
                                                           '"signatures": {"s": {}}}')
    with pytest.raises(ValueError, match="signature 's' has no valid 'inputs'"):
        tf.saved_model.load(tmp_path / "m" / "1")
    bad = subprocess.run([sys.executable, "-m", "minitf.saved_model", "show", "--dir",
                          str(tmp_path), "--all"], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert bad.returncode == 1 and "no saved_model.json" in bad.stdout


# -- the page at / and MNIST preprocessing ----------------------------------------------------------


def test_drawing_is_preprocessed_the_mnist_way():
    from minitf.datasets.draw import to_mnist

    assert not to_mnist(np.zeros((50, 80))).any()
    rng = np.random.default_rng(0)
    for _ in range(20):
        h, w = rng.integers(30, 300, size=2)
        img = np.zeros((h, w))
        r0, c0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
        img[r0:r0 + rng.integers(2, h - r0 + 1), c0:c0 + rng.integers(2, w - c0 + 1)] = \
            rng.random() * 255 + 1
        out = to_mnist(img)
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert 0 <= out.min() and out.max() <= 1
        rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20  # fits the 20x20 box
        com = [(out.sum(axis=a) @ np.arange(28)) / out.sum() for a in (1, 0)]
        assert np.allclose(com, 13.5, atol=1.0)  # centred by centre of mass


@pytest.fixture
def mnist_model_server(tmp_path, serve):
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
                                 tf.keras.layers.Dense(10)])
    export(model, tmp_path / "mnist_mlp" / "1")
    return serve(Manager([cfg.ModelConfig("mnist_mlp", str(tmp_path / "mnist_mlp"))], 0))


def test_page_lists_models(mnist_model_server):
    r = mnist_model_server.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    models = mnist_model_server.get("/v1/models").json()["models"]
    assert [m["name"] for m in models] == ["mnist_mlp"] and models[0]["version"] == "1"


def test_page_draws_a_digit_and_shows_a_prediction(mnist_model_server):
    from minitf.datasets.draw import to_mnist

    with chromium_page(1200, 900) as page:
        page.goto(mnist_model_server.url + "/", timeout=60_000)
        canvas = page.locator('[data-model="mnist_mlp"] canvas.draw')
        canvas.wait_for(timeout=30_000)
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 140, box["y"] + 40)
        page.mouse.down()
        for i in range(1, 21):  # a vertical stroke: a "1"
            page.mouse.move(box["x"] + 140 + i, box["y"] + 40 + 10 * i)
        page.mouse.up()
        digit = page.locator('[data-model="mnist_mlp"] .digit')
        page.wait_for_function(
            "() => /^[0-9]$/.test(document.querySelector('[data-model=\"mnist_mlp\"] "
            ".digit').textContent)", timeout=30_000)
        assert digit.text_content() in list("0123456789")
        shares = page.eval_on_selector_all(
            '[data-model="mnist_mlp"] .bar .p', "els => els.map(e => parseFloat(e.textContent))")
        assert len(shares) == 10 and abs(sum(shares) - 100) < 1.0
        page.screenshot(path=str(ARTIFACTS / "serving_page.png"))
        # the page's preprocessing is minitf.datasets.draw's, number for number
        rng = np.random.default_rng(1)
        img = np.zeros((60, 90))
        img[10:50, 30:45] = rng.random((40, 15))
        js = page.evaluate("([g, h, w]) => toMnist(g, h, w)",
                           [img.ravel().tolist(), 60, 90])
        np.testing.assert_allclose(np.array(js), to_mnist(img), atol=1e-6)


def test_command_line_flags(tmp_path, capsys):
    from minitf.serving.__main__ import build, main, parser

    conf = tmp_path / "models.config"
    conf.write_text(f"model_config_list {{ config {{ name: 'a' base_path: '{tmp_path}/a' }} }}")
    params = tmp_path / "batching.config"
    params.write_text("max_batch_size { value: 8 }")
    args = parser().parse_args([f"--model_config_file={conf}", "--enable_batching",
                                f"--batching_parameters_file={params}", "--rest_api_port=0"])
    assert args.enable_batching is True and args.rest_api_host == "127.0.0.1"
    assert build(args) is not None  # no version yet: served once one appears
    conf.write_text("model_config_list { config { name: 'a' } }")
    assert main([f"--model_config_file={conf}"]) == 2
    assert "needs 'name' and 'base_path'" in capsys.readouterr().err
    assert main([]) == 2
    assert "--model_base_path" in capsys.readouterr().err


def test_preprocessing_keeps_mnist_digits_recognisable():
    """MNIST digits drawn large somewhere on a canvas come back as the model knows them: a
    small MLP's accuracy on the preprocessed drawings stays close to that on the originals."""
    from minitf.datasets.draw import to_mnist

    (x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
                                 tf.keras.layers.Dense(64, activation="relu"),
                                 tf.keras.layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.Adam(2e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:8000] / 255.0, y[:8000].astype("int32"), batch_size=64, epochs=2, verbose=0)
    rng = np.random.default_rng(0)
    originals, drawn = xt[:200] / 255.0, []
    for img in originals:
        scale = int(rng.integers(6, 12))  # drawn 6-12x larger, anywhere on a 400x400 canvas
        big = np.kron(img, np.ones((scale, scale)))
        canvas = np.zeros((400, 400))
        r, c = rng.integers(0, 400 - big.shape[0] + 1, size=2)
        canvas[r:r + big.shape[0], c:c + big.shape[1]] = big
        drawn.append(to_mnist(canvas))
    acc = lambda imgs: np.mean(model.predict(np.asarray(imgs, np.float32), verbose=0)  # noqa: E731
                               .argmax(1) == yt[:200])
    assert acc(originals) > 0.85
    assert acc(drawn) >= acc(originals) - 0.1, (acc(drawn), acc(originals))
