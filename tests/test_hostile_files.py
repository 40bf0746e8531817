"""Hostile and corrupt model files are refused with a ValueError naming what is wrong, within a
memory bound; loads and restores are all or nothing; custom layers need custom_objects."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import minitf as tf

L = tf.keras.layers


def _model():
    m = tf.keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(2)])
    m.compile(tf.keras.optimizers.Adam(0.01), "mse")
    m.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, verbose=0)
    return m


def _members(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(path, members: dict, method=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.fixture
def saved(tmp_path):
    _model().save(tmp_path / "good.keras")
    return _members(tmp_path / "good.keras")


def _edit_config(members, edit) -> dict:
    cfg = json.loads(members["config.json"])
    edit(cfg)
    return {**members, "config.json": json.dumps(cfg)}


def test_huge_units_is_refused_before_allocating(tmp_path, saved):
    def huge(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = 10**12

    _zip(tmp_path / "huge.keras", _edit_config(saved, huge))
    with pytest.raises(ValueError, match=r"huge.keras.*dense.*shape \(3, 1000000000000\)"):
        tf.keras.models.load_model(tmp_path / "huge.keras")


def test_wrong_shapes_and_missing_weights_are_named(tmp_path, saved):
    def wider(cfg):
        cfg["config"]["layers"][2]["config"]["units"] = 5

    _zip(tmp_path / "w.keras", _edit_config(saved, wider))
    with pytest.raises(ValueError, match="stores shape"):
        tf.keras.models.load_model(tmp_path / "w.keras")

    def more(cfg):
        cfg["config"]["layers"].append(dict(cfg["config"]["layers"][2]))

    _zip(tmp_path / "m.keras", _edit_config(saved, more))
    with pytest.raises(ValueError, match="stores only 0 weights"):
        tf.keras.models.load_model(tmp_path / "m.keras")


def test_deeply_nested_config_is_refused(tmp_path, saved):
    deep = b'{"class_name": "Sequential", "config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _zip(tmp_path / "deep.keras", {**saved, "config.json": deep})
    with pytest.raises(ValueError, match="nested more than"):
        tf.keras.models.load_model(tmp_path / "deep.keras")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "assets/../../x"])
def test_path_traversal_in_the_zip_is_refused(tmp_path, saved, name):
    _zip(tmp_path / "t.keras", {**saved, name: b"x"})
    with pytest.raises(ValueError, match="unsafe path"):
        tf.keras.models.load_model(tmp_path / "t.keras")


def test_h5_dataset_declaring_more_than_it_stores_is_refused(tmp_path):
    import h5py

    m = _model()
    m.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(3, 10**11), dtype="float32",
                         chunks=(3, 1024))  # declared, never written: stores nothing
    before = m.get_weights()
    with pytest.raises(ValueError, match="declares shape"):
        m.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_with_a_mismatched_second_layer_changes_nothing(tmp_path):
    m = _model()
    m.save_weights(tmp_path / "w.weights.h5")
    other = tf.keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(7)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="dense_1|shape"):
        other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def _checkpoint_edit(path, edit) -> None:
    members = _members(path)
    edit(members)
    _zip(path, members)


def test_checkpoint_restore_with_a_bad_last_array_or_rng_changes_nothing(tmp_path):
    m = _model()
    ckpt = tf.train.Checkpoint(model=m, optimizer=m.optimizer)
    path = ckpt.save(tmp_path / "c")
    m.fit(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    before = m.get_weights() + m.optimizer.get_weights()

    def bad_last(members):
        z = np.load(io.BytesIO(members["variables.npz"]))
        arrays = {k: z[k] for k in z.files}
        last = sorted(k for k in arrays if k.startswith("optimizer"))[-1]
        arrays[last] = np.zeros((9, 9), "float32")
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        members["variables.npz"] = buf.getvalue()

    def bad_rng(members):
        members["rng.json"] = json.dumps({"seed": 1, "bit_generator": {"bit_generator": "Nope"}})

    state = tf.random.uniform([3]).numpy()  # draws move the RNG; a failed restore must not
    for edit, match in ((bad_last, "shape"), (bad_rng, "random-generator")):
        bad = tmp_path / f"{edit.__name__}.ckpt"
        bad.write_bytes(open(path, "rb").read())
        _checkpoint_edit(bad, edit)
        with pytest.raises(ValueError, match=match):
            tf.train.Checkpoint(model=m, optimizer=m.optimizer).restore(bad)
        for a, b in zip(before, m.get_weights() + m.optimizer.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert state.shape == (3,)


class Scale(tf.keras.layers.Layer):
    """A custom layer with a weight and a setting of its own."""

    def __init__(self, factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_custom_layer_round_trips_with_custom_objects(tmp_path, ext):
    m = tf.keras.Sequential([L.Dense(3, input_shape=(2,)), Scale(2.5), L.Dense(1)])
    m.layers[1].w.assign(np.array([1.0, -2.0, 3.0], "float32"))
    m.save(tmp_path / f"c.{ext}")
    with pytest.raises(ValueError, match="Scale.*custom_objects"):
        tf.keras.models.load_model(tmp_path / f"c.{ext}")
    loaded = tf.keras.models.load_model(tmp_path / f"c.{ext}", custom_objects={"Scale": Scale})
    x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))
    assert isinstance(loaded.layers[1], Scale) and loaded.layers[1].factor == 2.5


_BOMB_LOADER = textwrap.dedent("""
    import resource, sys
    import minitf as tf
    # the limit: what the process uses now plus 128 MiB; a naive loader needs 256 MiB more
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + 128 * 2**20, resource.RLIM_INFINITY))
    try:
        tf.keras.models.load_model(sys.argv[1])
    except ValueError as e:
        print("ValueError:", e)
    except MemoryError:
        print("MemoryError")
""")


def test_decompression_bomb_is_refused_under_a_memory_limit(tmp_path, saved):
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("config.json", "metadata.json"):
            z.writestr(name, saved[name])
        with z.open("model.weights.h5", "w", force_zip64=True) as f:
            chunk = bytes(1 << 24)
            for _ in range(16):  # 256 MiB of zeros, about 256 KB deflated
                f.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    out = subprocess.run([sys.executable, "-c", _BOMB_LOADER, str(bomb)], capture_output=True,
                         text=True, timeout=300)
    assert "ValueError:" in out.stdout and "decompression bomb" in out.stdout, \
        out.stdout + out.stderr[-2000:]


def test_fuzzed_model_files_raise_value_errors_only(tmp_path, saved):
    """Truncations and byte flips of .keras and legacy .h5 files (no checksum guards the
    HDF5 bytes there), a seeded bounded loop: each load either succeeds or raises ValueError
    (never another exception, never a crash)."""
    good = tmp_path / "good.keras"
    _zip(good, saved, zipfile.ZIP_STORED)
    _model().save(tmp_path / "good.h5")
    rng = np.random.default_rng(0)
    script = textwrap.dedent("""
        import sys
        import minitf as tf
        bad = 0
        for path in sys.argv[1:]:
            try:
                tf.keras.models.load_model(path)
            except ValueError:
                pass
            except Exception as e:
                bad += 1
                print(path, type(e).__name__, e)
        print("unexpected:", bad)
    """)
    paths = []
    for i in range(60):
        ext = "keras" if i % 2 else "h5"
        buf = bytearray((tmp_path / f"good.{ext}").read_bytes())
        if i % 4 == 0:
            buf = buf[: rng.integers(1, len(buf))]
        else:
            for pos in rng.integers(0, len(buf), size=int(rng.integers(1, 8))):
                buf[pos] ^= int(rng.integers(1, 256))
        p = tmp_path / f"fuzz{i}.{ext}"
        p.write_bytes(bytes(buf))
        paths.append(str(p))
    # in a subprocess: a crash in the HDF5 library would fail this test, not kill the run
    out = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "unexpected: 0" in out.stdout, out.stdout + out.stderr[-2000:]


def test_registered_and_scoped_custom_layers_load_without_custom_objects(tmp_path):
    saving = tf.keras.saving

    @saving.register_keras_serializable(package="course")
    class Twice(tf.keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    m = tf.keras.Sequential([L.Dense(2, input_shape=(3,)), Twice()])
    m.save(tmp_path / "r.keras")
    loaded = tf.keras.models.load_model(tmp_path / "r.keras")
    assert isinstance(loaded.layers[1], Twice)
    m2 = tf.keras.Sequential([L.Dense(2, input_shape=(3,)), Scale(3.0)])
    m2.save(tmp_path / "s.keras")
    with saving.custom_object_scope({"Scale": Scale}):
        assert isinstance(tf.keras.models.load_model(tmp_path / "s.keras").layers[1], Scale)
    cfg = saving.serialize_keras_object(m2.layers[1])
    assert isinstance(saving.deserialize_keras_object(cfg, {"Scale": Scale}), Scale)
    with pytest.raises(ValueError, match="custom_objects"):
        saving.deserialize_keras_object(cfg)


def test_skip_mismatch_loads_the_layers_that_match(tmp_path):
    m = _model()
    m.save_weights(tmp_path / "w.weights.h5")
    other = tf.keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(7)])
    kept = other.layers[1].get_weights()
    other.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    for a, b in zip(other.layers[0].get_weights(), m.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(other.layers[1].get_weights(), kept):
        np.testing.assert_array_equal(a, b)


def test_saving_never_imports_the_models_module():
    """keras.models imports keras.saving; the reverse would be an import cycle."""
    import ast
    from pathlib import Path

    for path in Path(tf.keras.saving.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert "models" not in (node.module or "").split("."), path
                assert all(a.name != "models" for a in node.names), path


def test_custom_activation_needs_custom_objects(tmp_path):
    def swishy(x):
        return x * tf.sigmoid(x)

    m = tf.keras.Sequential([L.Dense(3, activation=swishy, input_shape=(2,))])
    m.save(tmp_path / "a.keras")
    with pytest.raises(ValueError, match="swishy.*custom_objects"):
        tf.keras.models.load_model(tmp_path / "a.keras")
    loaded = tf.keras.models.load_model(tmp_path / "a.keras", custom_objects={"swishy": swishy})
    x = np.ones((2, 2), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))


def test_checkpoint_with_an_inflating_array_archive_is_refused(tmp_path):
    m = _model()
    path = tf.train.Checkpoint(model=m).save(tmp_path / "c")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as inner:  # an .npz of 64 MiB zeros
        inner.writestr("model/0000.npy", bytes(64 << 20))
    _checkpoint_edit(path, lambda members: members.update({"variables.npz": buf.getvalue()}))
    with pytest.raises(ValueError, match="decompression bomb"):
        tf.train.Checkpoint(model=m).restore(path)


def test_fuzzed_configs_raise_value_errors_naming_the_file(tmp_path):
    """Each setting of each layer set to junk (a seeded, bounded sample): the load succeeds or
    raises a ValueError that names the file, never another exception."""
    m = tf.keras.Sequential([L.Conv2D(2, 3, input_shape=(5, 5, 1)), L.BatchNormalization(),
                             L.MaxPooling2D(), L.Flatten(), L.Dropout(0.1), L.Dense(2)])
    m.compile("adam", "mse")
    m.save(tmp_path / "ok.keras")
    members = _members(tmp_path / "ok.keras")
    cfg = json.loads(members["config.json"])
    slots = [(i, k) for i, e in enumerate(cfg["config"]["layers"]) for k in e["config"]]
    slots += [("compile", k) for k in cfg["compile_config"]]
    junk = [None, -1, 0, 10**12, 1e400, "x", [], {}, True, [[[1]]], {"class_name": "os.system"}]
    rng = np.random.default_rng(0)
    for n in range(80):
        i, key = slots[rng.integers(len(slots))]
        bad = json.loads(members["config.json"])
        target = bad["compile_config"] if i == "compile" else bad["config"]["layers"][i]["config"]
        target[key] = junk[rng.integers(len(junk))]
        path = tmp_path / f"f{n}.keras"
        _zip(path, {**members, "config.json": json.dumps(bad).replace("Infinity", "1e400")})
        try:
            tf.keras.models.load_model(path)
        except ValueError as e:
            assert path.name in str(e), (i, key, target[key], e)


def test_hostile_wrapper_configs_are_refused_by_name(tmp_path):
    m = tf.keras.Sequential([L.InputLayer(shape=(5, 3)),
                             L.Bidirectional(L.LSTM(2, return_sequences=True)),
                             L.TimeDistributed(L.Dense(2))])
    m.save(tmp_path / "w.keras")
    saved = _members(tmp_path / "w.keras")

    def huge_inner(cfg):  # the wrapped layer's size: checked before allocating, too
        cfg["config"]["layers"][1]["config"]["layer"]["config"]["units"] = 10**9

    def nested_deep(cfg):
        td = cfg["config"]["layers"][2]
        for _ in range(6):
            td = {"class_name": "TimeDistributed", "config": {"name": "t", "layer": td}}
        cfg["config"]["layers"][2] = td

    def not_recurrent(cfg):
        cfg["config"]["layers"][1]["config"]["layer"] = cfg["config"]["layers"][2]["config"][
            "layer"]

    for edit, match in ((huge_inner, r"shape \(3, 4000000000\)"),
                        (nested_deep, "nested more than 4 deep"),
                        (not_recurrent, "Bidirectional wraps a recurrent layer")):
        path = tmp_path / f"{edit.__name__}.keras"
        _zip(path, _edit_config(saved, edit))
        with pytest.raises(ValueError, match=match):
            tf.keras.models.load_model(path)
