"""Functional models with several named inputs and outputs: SavedModel signature, ``show``,
``tf.saved_model.load``, and the server's row and columnar formats, errors, swap and batching.

Reuses test_serving's fixtures (servers on 127.0.0.1, a free port, stopped; SIGALRM timeout).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import minitf as tf

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("requests")

import test_serving  # noqa: E402

from minitf.saved_model import main as saved_model_cli  # noqa: E402
from minitf.serving import config as cfg  # noqa: E402
from minitf.serving.manager import Manager  # noqa: E402

PREDICT = "/v1/models/two:predict"
# test_serving's fixtures, by name: servers on 127.0.0.1 stopped at teardown; the timeout
serve, _timeout, _wait = test_serving.serve, test_serving._timeout, test_serving._wait


def two_in_two_out(seed: int = 0, dict_outputs: bool = False):
    """Inputs ``a`` (3 floats) and ``b`` (2 floats); outputs ``score`` (2) and ``prob`` (1)."""
    tf.random.set_seed(seed)
    a, b = tf.keras.Input((3,), name="a"), tf.keras.Input((2,), name="b")
    h = tf.keras.layers.Concatenate(name="ab")([a, b])
    score = tf.keras.layers.Dense(2, name="score")(h)
    prob = tf.keras.layers.Dense(1, activation="sigmoid", name="prob")(h)
    outputs = {"s": score, "p": prob} if dict_outputs else [score, prob]
    return tf.keras.Model([a, b], outputs)


X = {"a": np.array([[1, 2, 3], [0.5, -1, 0]], np.float32),
     "b": np.array([[1, 0], [-2, 0.25]], np.float32)}


@pytest.fixture(scope="module")
def model():
    return two_in_two_out(0)


@pytest.fixture
def two(tmp_path, model, serve):
    """``two/1``, written by ``model.export``, served."""
    model.export(tmp_path / "two" / "1", verbose=False)
    return serve(Manager([cfg.ModelConfig("two", str(tmp_path / "two"))], 0.05))


def test_signature_show_and_load(tmp_path, model, capsys):
    tf.saved_model.save(model, tmp_path / "m")
    sig = json.loads((tmp_path / "m" / "saved_model.json").read_text())["signatures"]
    sig = sig["serving_default"]
    assert sig["inputs"] == {"a": {"dtype": "float32", "shape": [None, 3]},
                             "b": {"dtype": "float32", "shape": [None, 2]}}
    assert sig["outputs"] == {"score": {"dtype": "float32", "shape": [None, 2]},
                              "prob": {"dtype": "float32", "shape": [None, 1]}}
    assert saved_model_cli(["show", "--dir", str(tmp_path / "m"), "--all"]) == 0
    shown = capsys.readouterr().out
    for key, shape in (("inputs['a']", "(-1, 3)"), ("inputs['b']", "(-1, 2)"),
                       ("outputs['score']", "(-1, 2)"), ("outputs['prob']", "(-1, 1)")):
        block = shown[shown.index(key):]
        assert "dtype: DT_FLOAT" in block.split("\n")[1] and f"shape: {shape}" in block
    fn = tf.saved_model.load(tmp_path / "m").signatures["serving_default"]
    out = fn(a=X["a"], b=X["b"])
    want = model.predict(X, verbose=0)
    assert list(out) == ["score", "prob"]
    for got, expect in zip(out.values(), want):
        np.testing.assert_allclose(got.numpy(), expect, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['c'\]"):
        fn(a=X["a"], c=X["b"])


def test_dict_outputs_are_keyed_by_their_keys(tmp_path):
    m = two_in_two_out(1, dict_outputs=True)
    m.export(tmp_path / "d", verbose=False)
    fn = tf.saved_model.load(tmp_path / "d").signatures["serving_default"]
    out, want = fn(**X), m.predict(X, verbose=0)
    assert sorted(out) == ["p", "s"]
    for k in out:
        np.testing.assert_allclose(out[k].numpy(), want[k], rtol=1e-6, atol=1e-7)


def test_integer_input_and_a_repeated_output(tmp_path):
    ids, num = tf.keras.Input((4,), dtype="int32", name="ids"), tf.keras.Input((2,), name="num")
    e = tf.keras.layers.Flatten()(tf.keras.layers.Embedding(10, 3)(ids))
    d = tf.keras.layers.Dense(2, name="d")(tf.keras.layers.Concatenate()([e, num]))
    m = tf.keras.Model([ids, num], [d, d])
    tf.saved_model.save(m, tmp_path / "i")
    fn = tf.saved_model.load(tmp_path / "i").signatures["serving_default"]
    assert fn.inputs["ids"] == {"dtype": "int32", "shape": [None, 4]}
    assert list(fn.outputs) == ["d", "d_1"]
    x = {"ids": np.array([[1, 2, 3, 9]], np.int32), "num": np.ones((1, 2), np.float32)}
    out = fn(**x)
    np.testing.assert_array_equal(out["d"].numpy(), out["d_1"].numpy())
    np.testing.assert_allclose(out["d"].numpy(), m.predict(x, verbose=0)[0], rtol=1e-6)


def test_row_and_columnar_formats(two, model):
    score, prob = model.predict(X, verbose=0)
    meta = two.get("/v1/models/two/metadata").json()["metadata"]["signature_def"]
    sig = meta["signature_def"]["serving_default"]
    assert list(sig["inputs"]) == ["a", "b"] and list(sig["outputs"]) == ["score", "prob"]
    rows = two.post(PREDICT, {"instances": [{"a": X["a"][i].tolist(), "b": X["b"][i].tolist()}
                                            for i in range(2)]})
    assert rows.status_code == 200, rows.text
    preds = rows.json()["predictions"]
    assert [sorted(p) for p in preds] == [["prob", "score"]] * 2
    np.testing.assert_allclose([p["score"] for p in preds], score, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose([p["prob"] for p in preds], prob, rtol=1e-6, atol=1e-7)
    cols = two.post(PREDICT, {"inputs": {k: v.tolist() for k, v in X.items()}})
    assert cols.status_code == 200, cols.text
    outs = cols.json()["outputs"]
    assert sorted(outs) == ["prob", "score"]
    np.testing.assert_allclose(outs["score"], score, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(outs["prob"], prob, rtol=1e-6, atol=1e-7)


def _errors():
    a, b = [1.0, 2.0, 3.0], [1.0, 0.0]
    yield "row missing", {"instances": [{"a": a, "b": b}, {"a": a}]}, \
        "Failed to process element: 1 of 'instances' list. JSON object: {\"a\": [1.0, 2.0, " \
        "3.0]} must only have keys: a,b"
    yield "row extra", {"instances": [{"a": a, "b": b, "c": b}]}, \
        "Failed to process element: 0 key: c of 'instances' list. Error: JSON object: " \
        "does not have named input: c"
    yield "row plain", {"instances": [a, a]}, "instances is a plain list, but expecting list " \
        "of objects"
    yield "row mixed", {"instances": [{"a": a, "b": b}, a]}, \
        "Expecting object but got list at item 1 of input list"
    yield "row shape", {"instances": [{"a": b, "b": b}]}, \
        "input 'a' has shape [1,2], but the signature expects [-1,3]"
    yield "columnar missing", {"inputs": {"a": [a]}}, "Missing named input: b in 'inputs' object."
    yield "columnar extra", {"inputs": {"a": [a], "b": [b], "c": [b]}}, \
        "does not have named input: c in 'inputs' object"
    yield "columnar plain", {"inputs": [a]}, "inputs is a plain value/list, but expecting an " \
        "object"
    yield "batch sizes", {"inputs": {"a": [a, a], "b": [b]}}, \
        "inputs must share their first (batch) dimension, got {'a': 2, 'b': 1}"


@pytest.mark.parametrize("what,body,message", list(_errors()), ids=[e[0] for e in _errors()])
def test_named_input_errors_are_400(two, what, body, message):
    r = two.post(PREDICT, body)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["error"] and message in r.json()["error"], r.text


def test_version_swap_and_batching_with_two_inputs(tmp_path, serve):
    base = tmp_path / "two"
    two_in_two_out(1).export(base / "1", verbose=False)
    params = cfg.BatchingParameters(max_batch_size=8, batch_timeout_micros=2000,
                                    num_batch_threads=1)
    s = serve(Manager([cfg.ModelConfig("two", str(base))], 0.05), batching=params)
    v2 = two_in_two_out(2)
    v2.export(base / "2", verbose=False)
    _wait(lambda: [v["version"] for v in s.get("/v1/models/two").json()
                   ["model_version_status"]] == ["2"])
    score, prob = v2.predict(X, verbose=0)

    def one(i):  # concurrent requests of one or two rows, merged by the batcher
        rows = [i % 2] if i % 3 else [0, 1]
        r = s.post(PREDICT, {"inputs": {k: v[rows].tolist() for k, v in X.items()}})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["outputs"]["score"], score[rows], rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_allclose(r.json()["outputs"]["prob"], prob[rows], rtol=1e-6,
                                   atol=1e-7)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(24)))
