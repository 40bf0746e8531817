"""Saving and loading: model files, weights, SavedModel directories, tf.train.Checkpoint
(resumed training continues exactly), and hostile files that must run no code."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import minitf as tf

layers = tf.keras.layers


def _data(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32") + (x[:, 2] > 1).astype("int32")
    return x, y


def _model(dropout: float = 0.3):
    return tf.keras.Sequential([
        layers.Dense(16, activation="relu", input_shape=(6,),
                     kernel_regularizer=tf.keras.regularizers.l2(1e-3)),
        layers.Dropout(dropout),
        layers.Dense(3, activation="softmax"),
    ])


def _compiled(optimizer=None):
    m = _model()
    m.compile(optimizer or tf.keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def _assert_same_weights(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


# -- model files --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_save_load_model_round_trip_predicts_identically(tmp_path, name):
    x, y = _data()
    m = _compiled()
    m.fit(x, y, epochs=2, verbose=0)
    m.save(tmp_path / name)
    loaded = tf.keras.models.load_model(tmp_path / name)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Dropout", "Dense"]
    assert loaded.layers[1].rate == pytest.approx(0.3)
    assert isinstance(loaded.optimizer, tf.keras.optimizers.Adam)
    assert int(loaded.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy())
    _assert_same_weights(loaded.optimizer.get_weights(), m.optimizer.get_weights())
    # the regularizer survives: evaluate (which includes its loss) agrees
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)  # and training goes on


def test_load_model_without_compile_and_with_schedule(tmp_path):
    x, y = _data()
    sched = tf.keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
    m = _compiled(tf.keras.optimizers.SGD(sched, momentum=0.9))
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    bare = tf.keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert bare.optimizer is None
    np.testing.assert_array_equal(bare.predict(x, verbose=0), m.predict(x, verbose=0))
    full = tf.keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(full.optimizer.learning_rate, tf.Tensor)
    assert float(full.optimizer.learning_rate.numpy()) == pytest.approx(
        float(m.optimizer.learning_rate.numpy()))


def test_save_needs_a_model_file_name(tmp_path):
    with pytest.raises(ValueError, match="keras"):
        _compiled().save(tmp_path / "m.pkl")


def test_save_weights_load_weights(tmp_path):
    x, y = _data()
    m = _compiled()
    m.fit(x, y, epochs=1, verbose=0)
    m.save_weights(tmp_path / "w.weights.h5")
    other = _model()
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), m.predict(x, verbose=0))
    wrong = tf.keras.Sequential([layers.Dense(4, input_shape=(6,))])
    with pytest.raises(ValueError):
        wrong.load_weights(tmp_path / "w.weights.h5")


def test_saved_model_directory_round_trip(tmp_path):
    x, y = _data()
    m = _compiled()
    m.fit(x, y, epochs=1, verbose=0)
    tf.saved_model.save(m, tmp_path / "export")
    restored = tf.saved_model.load(tmp_path / "export")
    np.testing.assert_array_equal(restored(tf.constant(x)).numpy(), m.predict(x, verbose=0))
    serve = restored.signatures["serving_default"]
    np.testing.assert_array_equal(serve(x).numpy(), m.predict(x, verbose=0))
    assert len(restored.trainable_variables) == 4
    with pytest.raises(ValueError, match="SavedModel"):
        tf.saved_model.load(tmp_path)


# -- checkpoints: resuming is exact ---------------------------------------------------------------


def _train(model, x, y, epochs):
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=True, verbose=0)


@pytest.mark.parametrize("make_opt", [
    lambda: tf.keras.optimizers.Adam(0.01),
    lambda: tf.keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: tf.keras.optimizers.RMSprop(
        tf.keras.optimizers.schedules.ExponentialDecay(0.01, 5, 0.9)),
])
def test_checkpoint_resumed_training_continues_identically(tmp_path, make_opt):
    """N+M epochs straight through == N epochs, save, restore into a fresh model and
    optimizer, M epochs: same weights, slots and step count, bit for bit (dropout masks and
    shuffling orders come from the restored RNG state)."""
    x, y = _data()
    n, m_epochs = 2, 2

    tf.random.set_seed(7)
    straight = _compiled(make_opt())
    _train(straight, x, y, n + m_epochs)

    tf.random.set_seed(7)
    first = _compiled(make_opt())
    _train(first, x, y, n)
    ckpt = tf.train.Checkpoint(model=first, optimizer=first.optimizer)
    path = ckpt.save(tmp_path / "ckpt")
    assert tf.train.latest_checkpoint(tmp_path) == path

    tf.random.set_seed(123)  # a different state, so only the restore can make it match
    np.random.seed(123)
    resumed = _compiled(make_opt())
    tf.train.Checkpoint(model=resumed, optimizer=resumed.optimizer).restore(path)
    _assert_same_weights(resumed.get_weights(), first.get_weights())
    _train(resumed, x, y, m_epochs)

    _assert_same_weights(resumed.get_weights(), straight.get_weights())
    assert int(resumed.optimizer.iterations.numpy()) == int(straight.optimizer.iterations.numpy())
    _assert_same_weights(resumed.optimizer.get_weights(), straight.optimizer.get_weights())


def test_checkpoint_resumes_op_seeded_dropout_identically(tmp_path):
    """A Dropout with its own ``seed`` draws from an op-level generator: saved too."""
    x, y = _data()

    def model():
        m = tf.keras.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                                 layers.Dropout(0.5, seed=5), layers.Dense(3)])
        m.compile(tf.keras.optimizers.Adam(0.01),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m

    tf.random.set_seed(1)
    straight = model()
    _train(straight, x, y, 2)
    tf.random.set_seed(1)
    first = model()
    _train(first, x, y, 1)
    path = tf.train.Checkpoint(model=first, optimizer=first.optimizer).save(tmp_path / "c")
    tf.random.set_seed(2)
    resumed = model()
    _train(resumed, x, y, 1)  # advances the op generator: only the restore can undo this
    tf.train.Checkpoint(model=resumed, optimizer=resumed.optimizer).restore(path)
    _train(resumed, x, y, 1)
    _assert_same_weights(resumed.get_weights(), straight.get_weights())


def test_checkpoint_of_plain_variables_and_a_custom_loop(tmp_path):
    w = tf.Variable([1.0, -1.0])
    opt = tf.keras.optimizers.Adam(0.1)

    def step():
        opt.minimize(lambda: tf.reduce_sum(tf.square(w - 3.0)), [w])

    for _ in range(3):
        step()
    path = tf.train.Checkpoint(w=w, optimizer=opt).save(tmp_path / "c")
    for _ in range(2):
        step()
    expected = w.numpy().copy()

    w2 = tf.Variable([0.0, 0.0])
    opt2 = tf.keras.optimizers.Adam(0.1)
    opt2.build([w2])
    tf.train.Checkpoint(w=w2, optimizer=opt2).restore(path)
    for _ in range(2):
        opt2.minimize(lambda: tf.reduce_sum(tf.square(w2 - 3.0)), [w2])
    np.testing.assert_array_equal(w2.numpy(), expected)


def test_checkpoint_mismatch_is_a_clear_error(tmp_path):
    path = tf.train.Checkpoint(model=_compiled()).save(tmp_path / "c")
    other = tf.keras.Sequential([layers.Dense(2, input_shape=(6,))])
    with pytest.raises(ValueError, match="variables"):
        tf.train.Checkpoint(model=other).restore(path)
    with pytest.raises(ValueError, match="nothing saved"):
        tf.train.Checkpoint(net=other).restore(path)


def test_model_file_restores_rng_so_resumed_fit_matches(tmp_path):
    x, y = _data()
    tf.random.set_seed(3)
    straight = _compiled()
    _train(straight, x, y, 3)

    tf.random.set_seed(3)
    first = _compiled()
    _train(first, x, y, 2)
    first.save(tmp_path / "m.keras")
    tf.random.set_seed(99)
    resumed = tf.keras.models.load_model(tmp_path / "m.keras")
    _train(resumed, x, y, 1)
    _assert_same_weights(resumed.get_weights(), straight.get_weights())


# -- hostile files: no pickle, no code -------------------------------------------------------------


class _Boom:
    """Unpickling this would create a marker file: proof that code ran."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickle_bytes(marker) -> bytes:
    _Boom.marker = marker
    return pickle.dumps(_Boom())


def _zip(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _object_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, arr_0000=np.array([{"a": 1}, None], dtype=object))
    return buf.getvalue()


def _valid_model_file(tmp_path):
    m = _compiled()
    m.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as z:
        return {n: z.read(n) for n in z.namelist()}


def test_zip_holding_a_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "bad.keras"
    _zip(bad, {"data.pkl": _pickle_bytes(marker)})
    with pytest.raises(ValueError, match="data.pkl"):
        tf.keras.models.load_model(bad)
    members = _valid_model_file(tmp_path)
    members["model.weights.h5"] = _pickle_bytes(marker)
    _zip(bad, members)
    with pytest.raises(ValueError, match="model.weights.h5"):
        tf.keras.models.load_model(bad)
    (tmp_path / "w.weights.h5").write_bytes(_pickle_bytes(marker))
    with pytest.raises(ValueError, match="refusing|corrupt"):
        _model().load_weights(tmp_path / "w.weights.h5")
    assert not marker.exists()


def _rewrite_h5(data: bytes, edit) -> bytes:
    import h5py

    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as f:
        edit(f)
    return buf.getvalue()


def test_weights_holding_objects_or_strings_are_refused(tmp_path):
    def strings(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.array([b"x", b"y"], dtype=object).astype("S1")

    members = _valid_model_file(tmp_path)
    members["model.weights.h5"] = _rewrite_h5(members["model.weights.h5"], strings)
    _zip(tmp_path / "bad.keras", members)
    with pytest.raises(ValueError, match="not numbers"):
        tf.keras.models.load_model(tmp_path / "bad.keras")
    m = _compiled()
    m.save_weights(tmp_path / "w.weights.h5")
    data = _rewrite_h5((tmp_path / "w.weights.h5").read_bytes(), strings)
    (tmp_path / "w.weights.h5").write_bytes(data)
    with pytest.raises(ValueError, match="not numbers"):
        _model().load_weights(tmp_path / "w.weights.h5")


def test_truncated_and_corrupt_files_raise_clear_errors(tmp_path):
    good = tmp_path / "m.keras"
    _compiled().save(good)
    data = good.read_bytes()
    (tmp_path / "trunc.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a minitf model file"):
        tf.keras.models.load_model(tmp_path / "trunc.keras")
    (tmp_path / "junk.keras").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError):
        tf.keras.models.load_model(tmp_path / "junk.keras")
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF  # inside a compressed member: its CRC fails
    (tmp_path / "flip.keras").write_bytes(bytes(flipped))
    with pytest.raises(ValueError):
        tf.keras.models.load_model(tmp_path / "flip.keras")
    members = _valid_model_file(tmp_path)
    members["config.json"] = b'{"class_name": "Sequential", '
    _zip(tmp_path / "badjson.keras", members)
    with pytest.raises(ValueError, match="config.json"):
        tf.keras.models.load_model(tmp_path / "badjson.keras")
    with pytest.raises(FileNotFoundError):
        tf.keras.models.load_model(tmp_path / "missing.keras")


def test_checkpoint_hostile_files(tmp_path):
    marker = tmp_path / "pwned"
    model = _compiled()
    good = tf.train.Checkpoint(model=model).save(tmp_path / "c")
    data = open(good, "rb").read()
    (tmp_path / "trunc.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="checkpoint"):
        tf.train.Checkpoint(model=model).restore(tmp_path / "trunc.ckpt")
    index = json.dumps({"format": "minitf-checkpoint", "index": {"model": 4}})
    _zip(tmp_path / "obj.ckpt", {"index.json": index, "variables.npz": _object_npz(),
                                 "rng.json": "{}"})
    with pytest.raises(ValueError, match="plain array"):
        tf.train.Checkpoint(model=model).restore(tmp_path / "obj.ckpt")
    _zip(tmp_path / "pkl.ckpt", {"index.json": index, "variables.npz": _pickle_bytes(marker),
                                 "rng.json": "{}"})
    with pytest.raises(ValueError):
        tf.train.Checkpoint(model=model).restore(tmp_path / "pkl.ckpt")
    _zip(tmp_path / "noindex.ckpt", {"x.pkl": _pickle_bytes(marker)})
    with pytest.raises(ValueError, match="index.json"):
        tf.train.Checkpoint(model=model).restore(tmp_path / "noindex.ckpt")
    assert not marker.exists()


@pytest.mark.parametrize("layer_spec", [
    {"class_name": "os.system", "config": {"command": "touch pwned"}},
    {"class_name": "__import__", "config": {"name": "os"}},
    {"class_name": "Lambda", "config": {"function": "lambda x: x"}},
    {"class_name": "Dense", "config": {"units": 2, "activation": "eval"}},
    {"class_name": "Dense", "config": {"units": 2, "kernel_initializer":
                                       {"class_name": "subprocess.Popen", "config": {}}}},
    {"class_name": "Dense", "config": {"units": 2, "kernel_regularizer":
                                       {"class_name": "builtins.exec", "config": {}}}},
    {"class_name": "Dense", "config": {"units": 2, "__class__": "x"}},
])
def test_config_naming_unknown_or_dangerous_classes_is_refused(tmp_path, layer_spec):
    members = _valid_model_file(tmp_path)
    cfg = json.loads(members["config.json"])
    cfg["config"]["layers"][1] = layer_spec  # [0] is the InputLayer
    members["config.json"] = json.dumps(cfg)
    _zip(tmp_path / "evil.keras", members)
    with pytest.raises(ValueError, match="evil.keras"):
        tf.keras.models.load_model(tmp_path / "evil.keras")
    assert not (tmp_path / "pwned").exists()


def test_optimizer_and_loss_configs_naming_unknown_classes_are_refused(tmp_path):
    for key, spec in (("optimizer", {"class_name": "pickle.loads", "config": {}}),
                      ("loss", {"class_name": "os.system", "config": {}})):
        members = _valid_model_file(tmp_path)
        cfg = json.loads(members["config.json"])
        cfg["compile_config"][key] = spec
        members["config.json"] = json.dumps(cfg)
        _zip(tmp_path / "evil.keras", members)
        with pytest.raises(ValueError, match="evil.keras"):
            tf.keras.models.load_model(tmp_path / "evil.keras")


def test_checkpoint_tf2_idioms(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(step=step, model=_compiled())
    assert ckpt.step is step
    with pytest.raises(AttributeError, match="step"):
        ckpt.optimizer  # noqa: B018
    ckpt.restore(tf.train.latest_checkpoint(tmp_path))  # nothing saved yet: a no-op
    ckpt.step.assign_add(5)
    path = ckpt.save(tmp_path / "ckpt")
    ckpt.step.assign(0)
    ckpt.restore(tf.train.latest_checkpoint(tmp_path)).expect_partial()
    assert int(step.numpy()) == 5 and path.endswith("ckpt-1.ckpt")


def test_a_keras2_era_h5_file_loads(tmp_path):
    """TensorFlow 2.x's model.save('m.h5'): batch_input_shape, BatchNormalization's axis=[1],
    'name:0' weight names, Adam with decay=0.0, metrics as nested dicts."""
    import h5py

    ref = tf.keras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.BatchNormalization(), layers.Dense(2)])
    rng = np.random.default_rng(0)
    ref.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in ref.get_weights()])
    init = {"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None, "use_bias": True,
            "trainable": True, "dtype": "float32"}
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "name": "dense_input"}},
        {"class_name": "Dense", "config": {"name": "dense", "batch_input_shape": [None, 3],
                                           "units": 4, "activation": "relu", **init}},
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1],
            "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_constraint": None, "gamma_constraint": None}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 2,
                                           "activation": "linear", **init}}]}}
    training = {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
        "optimizer_config": {"class_name": "Adam", "config": {
            "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9,
            "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
    names = {"dense": ["kernel:0", "bias:0"], "dense_1": ["kernel:0", "bias:0"],
             "batch_normalization": ["gamma:0", "beta:0", "moving_mean:0",
                                     "moving_variance:0"]}
    with h5py.File(tmp_path / "tf2.h5", "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps(training)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [n.encode() for n in ("dense", "batch_normalization", "dense_1")]
        for layer, name in zip(ref.layers, ("dense", "batch_normalization", "dense_1")):
            full = [f"{name}/{w}" for w in names[name]]
            lg = g.create_group(name)
            lg.attrs["weight_names"] = [n.encode() for n in full]
            for n, w in zip(full, layer.get_weights()):
                lg.create_dataset(n, data=w)
    loaded = tf.keras.models.load_model(tmp_path / "tf2.h5")
    x = rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ref.predict(x, verbose=0))
    assert isinstance(loaded.optimizer, tf.keras.optimizers.Adam)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_layer_without_a_keras_mapping_fails_at_save_time(tmp_path, monkeypatch, suffix):
    from minitf.keras.saving import registry

    monkeypatch.delitem(registry._SPECS, "TimeDistributed")
    model = tf.keras.Sequential([tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(2))])
    model.build((None, 3, 4))
    with pytest.raises(ValueError, match="TimeDistributed has no Keras 3 file mapping"):
        model.save(tmp_path / f"m{suffix}")
    assert not (tmp_path / f"m{suffix}").exists()


def _custom_objects_of_every_kind():
    K = tf.keras

    class Triple(K.layers.Layer):
        def call(self, inputs):
            return inputs * 3.0

    def doubled(x):
        return x * 2.0

    class MySGD(K.optimizers.SGD):
        pass

    class MyZeros(K.initializers.Zeros):
        pass

    class MyL2(K.regularizers.L2):
        pass

    class MyMSE(K.losses.MeanSquaredError):
        pass

    class MyMean(K.metrics.Mean):
        pass

    return {"layers": (Triple, Triple()), "activations": (doubled, doubled),
            "metrics": (MyMean, MyMean()),
            "optimizers": (MySGD, MySGD(0.1)), "initializers": (MyZeros, MyZeros()),
            "regularizers": (MyL2, MyL2(0.01)), "losses": (MyMSE, MyMSE())}


@pytest.mark.parametrize("kind", ["layers", "activations", "optimizers", "initializers",
                                  "regularizers", "losses", "metrics"])
def test_every_deserialize_takes_custom_objects_the_scope_and_the_registry(kind, monkeypatch):
    from minitf.keras import object_registration

    monkeypatch.setattr(object_registration, "_REGISTERED", {})  # registers for this test only
    cls, obj = _custom_objects_of_every_kind()[kind]
    module = getattr(tf.keras, kind)
    config = module.serialize(obj)
    with pytest.raises(ValueError, match=cls.__name__):
        module.deserialize(config)
    by_arg = module.deserialize(config, custom_objects={cls.__name__: cls})
    with tf.keras.saving.custom_object_scope({cls.__name__: cls}):
        by_scope = module.deserialize(config)
    tf.keras.saving.register_keras_serializable(package=f"test_{kind}")(cls)
    by_registry = module.deserialize(module.serialize(obj))
    for got in (by_arg, by_scope, by_registry):
        assert got is cls if kind == "activations" else isinstance(got, cls)


def test_custom_layers_inside_wrappers_deserialize_and_load(tmp_path):
    Triple = _custom_objects_of_every_kind()["layers"][0]
    L = tf.keras.layers
    wrapped = L.TimeDistributed(Triple())
    back = L.deserialize(L.serialize(wrapped), custom_objects={"Triple": Triple})
    assert isinstance(back.layer, Triple)
    model = tf.keras.Sequential([L.TimeDistributed(L.Dense(2)), L.TimeDistributed(Triple())])
    model.build((None, 3, 4))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Triple"):
        tf.keras.models.load_model(tmp_path / "m.keras")
    loaded = tf.keras.models.load_model(tmp_path / "m.keras", custom_objects={"Triple": Triple})
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
