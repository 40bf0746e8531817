"""``tf.lite``: converting small Keras models in every mode and running them with the
interpreter, against the float model's predictions; the interpreter's API and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.lite import kernels as K

L = tf.keras.layers


def _cnn(padding="valid", strides=1):
    return tf.keras.Sequential([
        L.Conv2D(4, 3, strides=strides, padding=padding, activation="relu",
                 input_shape=(10, 10, 2)),
        L.MaxPooling2D(), L.Flatten(), L.Dense(8, activation="relu"), L.Dropout(0.5),
        L.Dense(5), L.Activation("softmax")])


def _mlp():
    return tf.keras.Sequential([L.Flatten(input_shape=(6, 7)), L.Dense(16),
                                L.Activation("relu"), L.Dense(4)])


def _data(model, n=32, seed=0):
    shape = tuple(model.input_shape_)[1:]
    return np.random.default_rng(seed).normal(0.5, 1.0, (n, *shape)).astype(np.float32)


def _convert(model, x, mode):
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        c.target_spec.supported_types = [tf.float16]
    if mode.startswith("int8"):
        c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
    if mode == "int8_io":
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    content = c.convert()
    assert isinstance(content, bytes)
    return content


def _run(content, x):
    it = tf.lite.Interpreter(model_content=content)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], x.shape)
    it.allocate_tensors()
    if inp["dtype"] == np.int8:
        s, z = inp["quantization"]
        x = np.clip(np.rint(x / s) + z, -128, 127).astype(np.int8)
    it.set_tensor(inp["index"], x)
    it.invoke()
    y = it.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        s, z = out["quantization"]
        y = (y.astype(np.float32) - z) * s
    return it, y


MODES = ["float32", "float16", "dynamic", "int8", "int8_io"]
TOL = {"float32": 1e-5, "float16": 5e-3, "dynamic": 0.05, "int8": 0.05, "int8_io": 0.05}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("make", [_cnn, lambda: _cnn("same"), lambda: _cnn("same", 2), _mlp],
                         ids=["cnn", "cnn_same", "cnn_stride2", "mlp"])
def test_converted_model_matches_keras(make, mode):
    model = make()
    x = _data(model)
    want = model.predict(x)
    _, got = _run(_convert(model, x, mode), x)
    scale = max(1.0, float(np.abs(want).max()))
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= TOL[mode] * scale
    if mode != "float32":  # quantized: the class decisions agree on nearly every sample
        assert np.mean(got.argmax(1) == want.argmax(1)) >= 0.9


def test_int8_model_is_integer_between_quantize_and_dequantize():
    model = _cnn()
    x = _data(model)
    it, _ = _run(_convert(model, x, "int8"), x)
    details = it.get_tensor_details()
    ops = it._model.operators
    assert ops[0].op == "QUANTIZE" and ops[-1].op == "DEQUANTIZE"
    for op in ops[1:-1]:
        for i in op.inputs + op.outputs:
            assert details[i]["dtype"] in (np.int8, np.int32), (op.op, details[i]["name"])
    integer = {K.quantize, K.dequantize, K.conv_int8, K.conv_pool_int8, K.conv_wide_int8,
               K.max_pool, K.fc_int8, K.softmax_int8}
    assert all(kernel in integer for kernel, _ in it._plan)
    # weights: int8 in [-127, 127], zero point 0, one scale per output channel
    for d in details:
        if d["name"].endswith("/kernel"):
            w = it.get_tensor(d["index"])
            q = d["quantization_parameters"]
            assert w.dtype == np.int8 and w.min() >= -127
            assert len(q["scales"]) == w.shape[q["quantized_dimension"]]
            assert not q["zero_points"].any()
        if d["name"].endswith("/bias"):
            assert d["dtype"] == np.int32



@pytest.mark.parametrize("pool", [{}, {"pool_size": 3, "strides": 2}], ids=["2x2", "3x3s2"])
def test_int8_conv_pool_fusion_is_bit_exact(pool):
    model = tf.keras.Sequential([
        L.Conv2D(4, 3, padding="same", activation="relu", input_shape=(9, 9, 2)),
        L.MaxPooling2D(**pool), L.Flatten(), L.Dense(5)])
    x = _data(model, 8)
    content = _convert(model, x, "int8_io")
    outs = []
    for preserve in (False, True):
        it = tf.lite.Interpreter(model_content=content,
                                 experimental_preserve_all_tensors=preserve)
        index = it.get_input_details()[0]["index"]
        it.resize_tensor_input(index, x.shape)
        it.allocate_tensors()
        it.set_tensor(index, np.random.default_rng(1).integers(-128, 128, x.shape, np.int8))
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
        kernels = [k for k, _ in it._plan]
        assert (K.max_pool in kernels) == preserve, kernels
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("sh,pool", [(1, (1, 1, 1, 1)), (2, (2, 2, 2, 2)), (1, (3, 2, 2, 1))])
def test_wide_int8_convolution_matches_the_row_kernel(sh, pool):
    from minitf.lite.interpreter import _wide_args, _wide_conv

    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (2, 11, 9, 3), dtype=np.int8)
    w = rng.integers(-127, 128, (3, 2, 3, 5), dtype=np.int8)
    consts = (rng.integers(-999, 999, 5, dtype=np.int32),
              rng.integers(1 << 30, 2**31 - 1, 5, dtype=np.int32),
              rng.integers(-9, -6, 5, dtype=np.int32), -5, -5, 127)
    oh, ow = (11 - 3) // sh + 1, 9 - 2 + 1
    fh, fw, psh, psw = pool
    ph, pw = (oh - fh) // psh + 1, (ow - fw) // psw + 1
    cols = (pw - 1) * psw + fw
    want, got = np.zeros((2, ph, pw, 5), np.int8), np.ones((2, ph, pw, 5), np.int8)
    K.conv_pool_int8(x, w, *consts, sh, 1, fh, fw, psh, psw, np.zeros((fh, cols, 5), np.int32),
                     np.zeros(5, np.int32), want)
    K.conv_wide_int8(*_wide_args(_wide_conv(x, w, 1, ow), x, consts, sh, fh, fw, psh, psw, cols,
                                 got))
    assert np.array_equal(want, got)
    # where int16 pair sums could overflow, or columns are strided, the row kernel runs
    assert _wide_conv(x, np.full_like(w, -128), 1, ow) is None
    assert _wide_conv(x, w, 2, ow) is None

def test_sizes_and_io_details():
    big = tf.keras.Sequential([L.Dense(64, activation="relu", input_shape=(200,)), L.Dense(10)])
    xb = _data(big)
    sizes = {m: len(_convert(big, xb, m)) for m in ("float32", "float16", "dynamic", "int8")}
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["int8"] < 0.4 * sizes["float32"] and sizes["dynamic"] < 0.4 * sizes["float32"]
    model = _cnn()
    x = _data(model)
    it = tf.lite.Interpreter(model_content=_convert(model, x, "int8_io"))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and list(inp["shape"]) == [1, 10, 10, 2]
    assert list(inp["shape_signature"]) == [-1, 10, 10, 2]
    assert out["quantization"] == (1 / 256, -128)  # TFLite's int8 softmax output
    scale, zp = inp["quantization"]
    assert scale > 0 and -128 <= zp <= 127


def test_model_path_and_interpreter_errors(tmp_path):
    model = _mlp()
    x = _data(model, 4)
    path = tmp_path / "m.tflite"
    path.write_bytes(_convert(model, x, "float32"))
    it = tf.lite.Interpreter(model_path=str(path))
    with pytest.raises(RuntimeError, match="allocate_tensors"):
        it.invoke()
    it.allocate_tensors()
    index = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="dtype"):
        it.set_tensor(index, x[:1].astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        it.set_tensor(index, x)
    with pytest.raises(ValueError, match="batch size"):
        it.resize_tensor_input(index, [4, 7, 6])
    with pytest.raises(ValueError, match="exactly one"):
        tf.lite.Interpreter()


def test_converter_refuses_what_it_cannot_do():
    model = _mlp()
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.inference_input_type = tf.int8
    with pytest.raises(ValueError, match="representative_dataset"):
        c.convert()
    odd = tf.keras.Sequential([L.Dense(3, activation="tanh", input_shape=(4,))])
    with pytest.raises(NotImplementedError, match="tanh"):
        tf.lite.TFLiteConverter.from_keras_model(odd).convert()
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: iter([[np.zeros((1, 3), np.float32)]])
    with pytest.raises(ValueError, match="representative_dataset yielded shape"):
        c.convert()


def test_pruned_dense_runs_the_sparse_kernel_with_the_same_result(monkeypatch):
    from minitf.lite import interpreter

    monkeypatch.setattr(interpreter, "SPARSE", "always")  # the cost model wants big layers
    model = _mlp()
    w, b = model.layers[1].get_weights()
    w[np.abs(w) < np.quantile(np.abs(w), 0.9)] = 0.0
    model.layers[1].set_weights([w, b])
    x = _data(model)
    for mode, kernel in (("float32", K.fc_sparse_float), ("int8", K.fc_sparse_int8)):
        content = _convert(model, x, mode)
        it, got = _run(content, x)
        assert kernel in [k for k, _ in it._plan]
        assert np.abs(got - model.predict(x)).max() <= TOL[mode] * 4
        monkeypatch.setattr(interpreter, "SPARSE", "never")
        dense = _run(content, x)[1]  # the same sums in another order: exact in integers
        assert np.array_equal(dense, got) if mode == "int8" else np.allclose(dense, got, atol=1e-5)
        monkeypatch.setattr(interpreter, "SPARSE", "always")


def test_sparse_cost_model_picks_sparse_only_where_it_pays():
    from minitf.lite.interpreter import sparse_pays

    for kind in ("int8", "float32"):
        assert sparse_pays(kind, 256, 784, 128, 784 * 128 // 10)  # pruned 90 %, big batch
        assert not sparse_pays(kind, 1, 784, 128, 784 * 128 // 10)  # one image: dense wins
        assert not sparse_pays(kind, 256, 784, 128, 784 * 128 // 2)  # half the weights
