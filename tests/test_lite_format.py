"""minitf-lite files: malformed, truncated or hostile files are refused with a clear
``InvalidModelError`` and never make the reader allocate what the file does not contain."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import minitf as tf
from minitf.lite import format as fmt

L = tf.keras.layers


@pytest.fixture(scope="module")
def content():
    model = tf.keras.Sequential([L.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
                                 L.MaxPooling2D(), L.Flatten(), L.Dense(3)])
    x = np.random.default_rng(0).normal(size=(8, 6, 6, 1)).astype(np.float32)
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(8))
    return c.convert()


def _header(content):
    (n,) = struct.unpack_from("<I", content, 8)
    return json.loads(content[12:12 + n])


def _data_section(content):
    (n,) = struct.unpack_from("<I", content, 8)
    return content[12 + n + (-(12 + n) % 16):]


def _mutated(content, edit):
    """The file with its JSON header edited (and re-padded), the data section kept."""
    head = _header(content)
    edit(head)
    raw = json.dumps(head).encode()
    return (fmt.MAGIC + struct.pack("<I", len(raw)) + raw + b"\0" * (-(12 + len(raw)) % 16)
            + _data_section(content))


def _load(content):
    it = tf.lite.Interpreter(model_content=content)
    it.allocate_tensors()
    return it


def test_round_trip(content):
    assert _load(_mutated(content, lambda h: None)).get_input_details()[0]["dtype"] == np.float32


@pytest.mark.parametrize("cut", [0, 4, 8, 11, 12, 40, -1, -17, -200])
def test_truncated_file_is_refused(content, cut):
    with pytest.raises(fmt.InvalidModelError, match="invalid minitf-lite model"):
        _load(content[:cut] if cut else b"")


def test_not_a_model():
    with pytest.raises(fmt.InvalidModelError, match="FlatBuffer"):
        tf.lite.Interpreter(model_content=b"TFL3" + b"\0" * 100)
    with pytest.raises(fmt.InvalidModelError, match="JSON"):
        tf.lite.Interpreter(model_content=fmt.MAGIC + struct.pack("<I", 3) + b"\xff{[")
    with pytest.raises(TypeError, match="bytes"):
        tf.lite.Interpreter(model_content="a string")


def _set(path, value):
    def edit(head):
        obj = head
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value
    return edit


HOSTILE = [
    (("version",), 99, "version"),
    (("tensors", 0, "dtype"), "object", "dtype"),
    (("tensors", 0, "shape"), [1 << 20, 1 << 20], "elements"),  # 2**40 floats: refused
    (("tensors", 0, "shape"), [-1, 6, 6, 1], "shape"),
    (("tensors", 2, "shape"), [9, 9, 9, 2], "bytes"),  # a weight whose buffer is too small
    (("buffers", 0), [1 << 40, 18], "truncated"),
    (("tensors", 2, "scale"), [float("nan")], "scale"),
    (("tensors", 2, "buffer"), 999, "buffer"),
    (("operators", 0, "op"), "EXEC_PYTHON", "unknown op"),
    (("operators", 1, "inputs"), [0, 12345], "inputs"),
    (("operators", 1, "options"), {"strides": [0, 1], "padding": "VALID"}, "strides"),
    (("outputs",), [], "output"),
    (("inputs",), [2], "constant"),
]


@pytest.mark.parametrize("path,value,match", HOSTILE, ids=[m for *_, m in HOSTILE])
def test_hostile_header_is_refused_clearly(content, path, value, match):
    with pytest.raises(fmt.InvalidModelError, match=match):
        _load(_mutated(content, _set(path, value)))


def test_activation_shape_mismatch_is_refused(content):
    def edit(head):
        last = head["operators"][-2]["outputs"][0]
        head["tensors"][last]["shape"] = [1, 7]
    with pytest.raises(fmt.InvalidModelError, match="declared"):
        _load(_mutated(content, edit))


def test_random_byte_flips_never_crash(content):
    rng = np.random.default_rng(0)
    for _ in range(200):
        b = bytearray(content)
        for p in rng.integers(0, len(b), 3):
            b[p] = rng.integers(0, 256)
        try:
            it = _load(bytes(b))
            it.invoke()
        except fmt.InvalidModelError:
            pass
