"""The Keras functional API: symbolic inputs, Model(inputs, outputs), merge layers, training
with several inputs and outputs, and functional model files both ways with real Keras 3
(torch backend) as the oracle."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import minitf as tf

L = tf.keras.layers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _two_output_model():
    a, b = tf.keras.Input((5,), name="a"), tf.keras.Input((3,), name="b")
    h = L.Dense(4, activation="relu", name="h1")(a)
    c = L.concatenate([L.add([h, L.Dense(4, name="h2")(h)], name="add"), b], name="cat")
    out = [L.Dense(2, activation="softmax", name="cls")(c), L.Dense(1, name="reg")(c)]
    return tf.keras.Model([a, b], out, name="two")


# -- the graph ---------------------------------------------------------------------------------


def test_input_is_symbolic_and_layers_record_the_graph():
    a = tf.keras.Input(shape=(5,), name="a")
    assert (a.shape, a.dtype, a.name) == ((None, 5), "float32", "a")
    assert tf.keras.Input((2, 3), batch_size=4, dtype="int32").shape == (4, 2, 3)
    h = L.Dense(4)(a)
    assert h.shape == (None, 4) and h.dtype == "float32"
    m = _two_output_model()
    assert [x.name for x in m.layers] == ["a", "h1", "h2", "add", "b", "cat", "cls", "reg"]
    assert m.input_shape == [(None, 5), (None, 3)]
    assert m.output_shape == [(None, 2), (None, 1)]
    assert [t.shape for t in m.inputs] == [(None, 5), (None, 3)] and len(m.outputs) == 2
    assert m.get_layer("cls") is m.layers[6] and m.get_layer(index=0).name == "a"
    with pytest.raises(ValueError, match="No such layer: nope"):
        m.get_layer("nope")
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(a)


def test_calls_eagerly_under_a_tape_and_in_a_tf_function():
    m = _two_output_model()
    x = [_rng().normal(size=(3, 5)).astype("float32"), np.ones((3, 3), "float32")]
    eager = m(x)
    by_name = m({"a": x[0], "b": x[1]})
    traced = tf.function(lambda u, v: m([u, v]))(*x)
    for got in (by_name, traced):
        for g, e in zip(got, eager):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-6)
    with tf.GradientTape() as tape:
        out = m(x)
        loss = tf.reduce_sum(out[0] * out[0]) + tf.reduce_sum(out[1])
    grads = tape.gradient(loss, m.trainable_variables)
    assert len(grads) == 8 and all(g is not None for g in grads)
    with pytest.raises(ValueError, match="expects 2 input"):
        m(x[:1] * 3)


def test_summary_lists_connections_as_keras_does():
    lines = []
    _two_output_model().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    add = next(i for i, line in enumerate(lines) if line.startswith(" add (Add)"))
    assert lines[add].endswith("h1[0][0],") and lines[add + 1].strip() == "h2[0][0]"
    assert "Total params: 68" in text


def test_nested_models_and_a_shared_layer():
    inner_in = tf.keras.Input((4,))
    inner = tf.keras.Model(inner_in, L.Dense(3, activation="tanh")(inner_in), name="inner")
    seq = tf.keras.Sequential([L.Dense(2)], name="seq")
    shared = L.Dense(4, name="shared")
    a, b = tf.keras.Input((4,), name="a"), tf.keras.Input((4,), name="b")
    out = seq(inner(L.add([shared(a), shared(b)])))
    m = tf.keras.Model([a, b], out)
    assert [x.name for x in m.layers] == ["a", "b", "shared", "add", "inner", "seq"]
    assert len(m.weights) == 6  # the shared kernel and bias once
    x = [_rng().normal(size=(2, 4)).astype("float32") for _ in range(2)]
    s = shared.kernel.numpy()
    want = (x[0] @ s + x[1] @ s + 2 * shared.bias.numpy())
    want = np.tanh(want @ inner.layers[1].kernel.numpy() + inner.layers[1].bias.numpy())
    want = want @ seq.layers[0].kernel.numpy() + seq.layers[0].bias.numpy()
    np.testing.assert_allclose(m.predict(x), want, rtol=1e-5, atol=1e-6)
    outer = tf.keras.Sequential([tf.keras.Input((4,)), inner, L.Dense(1)])  # in a Sequential
    assert outer.predict(x[0]).shape == (2, 1)


def test_get_config_and_from_config_rebuild_the_graph():
    m = _two_output_model()
    cfg = m.get_config()
    assert cfg["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    node = cfg["layers"][3]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in node] == [["h1", 0, 0], ["h2", 0, 0]]
    clone = tf.keras.Model.from_config(json.loads(json.dumps(cfg)))
    assert [x.name for x in clone.layers] == [x.name for x in m.layers]
    clone.set_weights(m.get_weights())
    x = [np.ones((2, 5), "float32"), np.ones((2, 3), "float32")]
    for a, b in zip(clone.predict(x), m.predict(x)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# -- merge layers --------------------------------------------------------------------------------


MERGES = {
    "Add": (L.Add, lambda a, b: a + b),
    "Subtract": (L.Subtract, lambda a, b: a - b),
    "Multiply": (L.Multiply, lambda a, b: a * b),
    "Average": (L.Average, lambda a, b: (a + b) / 2),
    "Maximum": (L.Maximum, np.maximum),
    "Minimum": (L.Minimum, np.minimum),
    "Concatenate": (L.Concatenate, lambda a, b: np.concatenate([a, b], -1)),
    "Dot": (lambda: L.Dot(axes=1), lambda a, b: np.sum(a * b, 1, keepdims=True)),
}


@pytest.mark.parametrize("kind", sorted(MERGES))
def test_merge_layer_values_shapes_and_finite_difference_gradients(kind):
    make, ref = MERGES[kind]
    rng = _rng()
    a, b = (rng.normal(size=(2, 3)).astype("float32") for _ in range(2))
    b += np.sign(b - a) * 0.3  # keep max/min away from ties, where they are not smooth
    layer = make()
    sym = layer([tf.keras.Input((3,)), tf.keras.Input((3,))])
    np.testing.assert_allclose(np.asarray(layer([a, b])), ref(a, b), rtol=1e-6)
    assert sym.shape == (None,) + ref(a, b).shape[1:]
    w = rng.normal(size=ref(a, b).shape).astype("float32")
    ta, tb = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as tape:
        tape.watch([ta, tb])
        loss = tf.reduce_sum(layer([ta, tb]) * w)
    grads = [np.asarray(g) for g in tape.gradient(loss, [ta, tb])]
    eps = 1e-2
    for which, g in enumerate(grads):
        num = np.zeros_like(g)
        for idx in np.ndindex(g.shape):
            vals = []
            for d in (eps, -eps):
                args = [a.astype("float64"), b.astype("float64")]
                args[which][idx] += d
                vals.append(np.sum(ref(*args) * w))
            num[idx] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-3, atol=1e-3)


def test_merge_functional_forms_and_bad_shapes():
    x, y = tf.keras.Input((3,)), tf.keras.Input((4,))
    assert L.concatenate([x, y]).shape == (None, 7)
    assert L.concatenate([tf.keras.Input((2, 3)), tf.keras.Input((5, 3))], axis=1).shape == \
        (None, 7, 3)
    assert L.multiply([x, x, x]).shape == (None, 3)
    assert L.dot([tf.keras.Input((2, 3)), tf.keras.Input((4, 3))], axes=2).shape == \
        (None, 2, 4)
    with pytest.raises(ValueError, match=r"Add layer .*compatible shapes.*\(None, 3\), "
                                         r"\(None, 4\)"):
        L.Add()([x, y])
    with pytest.raises(ValueError, match="Subtract layer .* exactly 2 inputs"):
        L.Subtract()([x, x, x])
    with pytest.raises(ValueError, match="Concatenate.*matching shapes except"):
        L.Concatenate(axis=1)([tf.keras.Input((2, 3)), tf.keras.Input((5, 4))])
    with pytest.raises(ValueError, match="should be called on a list"):
        L.Add()(x)


# -- training --------------------------------------------------------------------------------------


def test_fit_with_two_inputs_and_two_outputs_logs_keras_names_and_learns():
    m = _two_output_model()
    rng = _rng(1)
    x = {"a": rng.normal(size=(16, 5)), "b": rng.normal(size=(16, 3))}
    y = {"cls": (x["a"][:, 0] > 0).astype("int32"), "reg": x["b"][:, :1] * 2}
    m.compile(tf.keras.optimizers.Adam(0.05),
              loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
              loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    hist = m.fit(x, y, epochs=4, batch_size=16, verbose=0).history
    assert list(hist) == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    assert hist["loss"][-1] < hist["loss"][0]
    np.testing.assert_allclose(hist["loss"][0], hist["cls_loss"][0] + 0.5 * hist["reg_loss"][0],
                               rtol=1e-5)
    logs = m.evaluate([x["a"], x["b"]], [y["cls"], y["reg"]], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    pred = m.predict(x)
    assert [p.shape for p in pred] == [(16, 2), (16, 1)]
    with pytest.raises(ValueError, match=r"keys \['nope'\] that are not output names"):
        m.compile("sgd", loss={"nope": "mse"})


def test_fit_with_two_inputs_and_one_output():
    a, b = tf.keras.Input((2,)), tf.keras.Input((2,))
    m = tf.keras.Model([a, b], L.Dense(1)(L.concatenate([a, b])))
    m.compile(tf.keras.optimizers.SGD(0.1), "mse")
    rng = _rng(2)
    xa, xb = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
    hist = m.fit([xa, xb], xa[:, :1] - xb[:, 1:], epochs=4, batch_size=16, verbose=0).history
    assert list(hist) == ["loss"] and hist["loss"][-1] < hist["loss"][0]


def test_fit_on_a_dataset_of_dict_inputs():
    a, b = tf.keras.Input((3,), name="a"), tf.keras.Input((2,), name="b")
    m = tf.keras.Model({"a": a, "b": b}, L.Dense(1)(L.Dropout(0.5)(L.concatenate([a, b]))))
    m.compile("sgd", "mse")
    x = {"a": np.ones((8, 3), "float32"), "b": np.ones((8, 2), "float32")}
    ds = tf.data.Dataset.from_tensor_slices((x, np.ones((8, 1), "float32"))).batch(4)
    assert list(m.fit(ds, epochs=1, verbose=0).history) == ["loss"]
    assert m.predict(ds).shape == (8, 1)


def test_keras_2_inbound_nodes_load():
    """Keras 2 wrote a node as a list of ``[layer, node, tensor, kwargs]`` references."""
    cfg = _two_output_model().get_config()
    for entry in cfg["layers"]:
        entry["inbound_nodes"] = [
            [t["config"]["keras_history"] + [{}] for t in _as_refs(node["args"][0])]
            for node in entry["inbound_nodes"]]
    m = tf.keras.Model.from_config(cfg)
    assert m.get_layer("add").input_shape_ == [tf.TensorShape([None, 4])] * 2
    assert m.output_shape == [(None, 2), (None, 1)]


def _as_refs(x):
    return x if isinstance(x, list) else [x]


# -- files with real Keras 3 -----------------------------------------------------------------------


def _residual(K):
    x = K.Input((4,))
    h = K.layers.Dense(4, activation="relu")(x)
    return K.Model(x, K.layers.Dense(2)(K.layers.Add()([x, h])))


def _two_inputs(K):
    a, b = K.Input((3,), name="a"), K.Input((2,), name="b")
    return K.Model([a, b], K.layers.Dense(2)(K.layers.Concatenate()([a, b])))


def _two_outputs(K):
    x = K.Input((4,))
    h = K.layers.Dense(3, activation="tanh")(x)
    return K.Model(x, [K.layers.Dense(2, name="p")(h),
                       K.layers.Maximum()([h, K.layers.Dense(3, name="q")(h)])])


def _nested(K):
    i = K.Input((4,))
    inner = K.Model(i, K.layers.Dense(3, activation="relu")(i), name="inner")
    x = K.Input((4,))
    h = inner(x)  # also an output: Keras counts a nested model's calls from 1 in output_layers
    return K.Model(x, [K.Sequential([K.layers.Dense(2)], name="head")(h), h])


def _transfer(K):
    """A functional base model inside a Sequential one (transfer learning's usual shape)."""
    i = K.Input((3,))
    base = K.Model(i, K.layers.Dense(4, activation="relu")(K.layers.BatchNormalization()(i)),
                   name="base")
    return K.Sequential([K.Input((3,)), base, K.layers.Dense(2)], name="transfer")


ARCHS = {"residual": _residual, "two_inputs": _two_inputs, "two_outputs": _two_outputs,
         "nested": _nested, "transfer": _transfer}


def _data(model):
    rng = _rng(3)
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    xs = [rng.normal(size=(3, *s[1:])).astype("float32") for s in shapes]
    return xs if len(xs) > 1 else xs[0]


def _set_random(model, seed):
    rng = _rng(seed)
    model.set_weights([rng.uniform(-1, 1, size=w.shape).astype("float32")
                       for w in model.get_weights()])


def _same(a, b):
    for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_functional_files_both_ways_with_keras(tmp_path, arch, fmt):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    m = ARCHS[arch](tf.keras)
    _set_random(m, 1)
    x = _data(m)
    m.save(tmp_path / f"m.{fmt}")
    k = keras.models.load_model(tmp_path / f"m.{fmt}")
    _same(k.predict(x, verbose=0), m.predict(x))
    assert [a.name for a in k.layers] == [a.name for a in m.layers]
    k = ARCHS[arch](keras)
    _set_random(k, 2)
    k.save(tmp_path / f"k.{fmt}")
    back = tf.keras.models.load_model(tmp_path / f"k.{fmt}")
    _same(back.predict(x), k.predict(x, verbose=0))
    assert [type(a).__name__ for a in back.layers] == [type(a).__name__ for a in k.layers]


def test_compiled_two_output_model_travels_to_keras_and_back(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    m = _two_outputs(tf.keras)
    m.compile("adam", loss=["mse", "mae"], loss_weights=[1.0, 0.25])
    x, rng = _data(m), _rng(4)
    y = [rng.normal(size=(3, 2)), rng.normal(size=(3, 3))]
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    k = keras.models.load_model(tmp_path / "m.keras")
    assert int(k.optimizer.iterations) == 1
    k.save(tmp_path / "k.keras")
    back = tf.keras.models.load_model(tmp_path / "k.keras")
    assert back._output_losses.weights == [1.0, 0.25]
    _same(back.predict(x), m.predict(x))


def test_tensor_arithmetic_is_keras_ops_both_ways(tmp_path):
    """x + y, x - y, x * y (Keras 3 records them as ops, keras.src.ops.numpy.Add, ...)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = _rng(6).normal(size=(3, 3)).astype("float32")
    a = tf.keras.Input((3,))
    h = L.Dense(3)(a)
    m = tf.keras.Model(a, L.Dense(2)(2.0 * (h + a) - a))
    m.save(tmp_path / "m.keras")
    k = keras.models.load_model(tmp_path / "m.keras")
    _same(k.predict(x, verbose=0), m.predict(x))
    k.save(tmp_path / "k.keras")
    _same(tf.keras.models.load_model(tmp_path / "k.keras").predict(x), m.predict(x))
    with pytest.raises(ValueError, match="Multiply with a number.*legacy .h5"):
        m.save(tmp_path / "m.h5")
    i = keras.Input((3,))
    k = keras.Model(i, keras.layers.Dense(2)(keras.layers.Dense(3)(i) + i))
    k.save(tmp_path / "k.h5")  # Keras writes its ops to .h5 without their module
    back = tf.keras.models.load_model(tmp_path / "k.h5")
    _same(back.predict(x), k.predict(x, verbose=0))
    back.save(tmp_path / "back.h5")  # as the Add layer, which Keras reads
    _same(keras.models.load_model(tmp_path / "back.h5").predict(x, verbose=0), back.predict(x))
    k = keras.Model(i, keras.ops.exp(i))
    k.save(tmp_path / "exp.keras")
    with pytest.raises(ValueError, match="keras.src.ops.numpy.Exp"):
        tf.keras.models.load_model(tmp_path / "exp.keras")


# -- corrupt functional configs --------------------------------------------------------------------


@pytest.fixture
def functional_file(tmp_path):
    _two_output_model().save(tmp_path / "f.keras")
    with zipfile.ZipFile(tmp_path / "f.keras") as z:
        return {n: z.read(n) for n in z.namelist()}


def _broken(tmp_path, members, edit):
    cfg = json.loads(members["config.json"])
    edit(cfg["config"])
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in {**members, "config.json": json.dumps(cfg)}.items():
            z.writestr(name, data)
    return path


def _layer(body, name):
    return next(e for e in body["layers"] if e["name"] == name)


def _history(body, name):
    return _layer(body, name)["inbound_nodes"][0]["args"][0]["config"]["keras_history"]


CORRUPT = {
    "unknown class": (lambda b: _layer(b, "cls").update(class_name="Evil"),
                      "unknown layer class 'Evil'"),
    "unknown reference": (lambda b: _history(b, "h1").__setitem__(0, "ghost"),
                          "reads from layer 'ghost', which the model does not have"),
    "cycle": (lambda b: _history(b, "h1").__setitem__(0, "cls"),
              "layer 'h1' reads cls\\[0\\]\\[0\\].*cycle"),
    "missing node": (lambda b: _history(b, "h1").__setitem__(1, 7),
                     "reads a\\[7\\]\\[0\\]"),
    "duplicate name": (lambda b: _layer(b, "reg").update(name="cls"),
                       "layer name 'cls' is used more than once"),
    "bad output": (lambda b: b.update(output_layers=[["nope", 0, 0]]),
                   "output_layers names \\['nope', 0, 0\\]"),
    "huge units": (lambda b: _layer(b, "reg")["config"].update(units=10**12),
                   "layer 'reg' weight 'kernel' has shape \\(7, 1000000000000\\)"),
    "deep nesting": (lambda b: b.update(layers=b["layers"][:1] + [_deep(b, 6)]),
                     "nested more than 4 deep"),
    "bad input shape": (lambda b: _layer(b, "a")["config"].update(batch_shape=[None, -3]),
                        "InputLayer 'a' has an invalid batch_shape"),
}


def _deep(body, n):
    entry = {"class_name": "Functional", "name": "m0", "inbound_nodes": [],
             "config": {"name": "m0", "layers": [], "input_layers": [], "output_layers": []}}
    for i in range(1, n):
        entry = {"class_name": "Functional", "name": f"m{i}", "inbound_nodes": [],
                 "config": {"name": f"m{i}", "layers": [entry]}}
    return entry


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_functional_configs_are_refused_by_name(tmp_path, functional_file, case):
    edit, message = CORRUPT[case]
    path = _broken(tmp_path, functional_file, edit)
    with pytest.raises(ValueError, match=message):
        tf.keras.models.load_model(path)


def test_fuzzed_functional_graphs_raise_value_errors_naming_the_file(tmp_path, functional_file):
    """References, nodes, names, inputs and outputs set to junk (a seeded, bounded sample): the
    load succeeds or raises a ValueError naming the file, never another exception."""
    junk = [None, -1, 0, 2, 10**12, "x", [], {}, True, [[[1]]], ["a", 0, 0], [["a", 0, 0]],
            {"class_name": "__keras_tensor__"}, {"x": ["cls", 0, 0]}]
    names = ["a", "b", "h1", "h2", "add", "cat", "cls", "reg", "ghost"]
    rng = _rng(5)

    def edit(body):
        entry = body["layers"][rng.integers(len(body["layers"]))]
        kind, value = rng.integers(5), junk[rng.integers(len(junk))]
        if kind == 0 and entry["inbound_nodes"]:
            args = entry["inbound_nodes"][0]["args"][0]
            ref = (args if isinstance(args, dict) else args[0])["config"]["keras_history"]
            ref[rng.integers(3)] = [names[rng.integers(len(names))], int(rng.integers(-1, 3))][
                rng.integers(2)]
        elif kind == 1:
            entry["inbound_nodes"] = value
        elif kind == 2:
            body["input_layers" if rng.integers(2) else "output_layers"] = value
        elif kind == 3 and entry["inbound_nodes"]:
            entry["inbound_nodes"][0]["args"] = value
        else:
            entry["name"] = value

    for _ in range(60):
        path = _broken(tmp_path, functional_file, edit)
        try:
            tf.keras.models.load_model(path)
        except ValueError as e:
            assert path.name in str(e), e
