"""tf.data: sources, every transformation, shuffle semantics and seeds, structures, len and
cardinality, the vectorised batching path against the element-wise one, and augmentation."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitf as tf
from minitf import data
from minitf.data import _transforms, augment
from minitf.data.dataset import Dataset
from minitf.framework.errors import InvalidArgumentError
from minitf.framework.tensor import EagerTensor


def values(ds: Dataset) -> list:
    return list(ds.as_numpy_iterator())


def flat(ds: Dataset) -> list:
    return [np.asarray(v).tolist() for v in ds.as_numpy_iterator()]


def identity(*args):
    return args if len(args) > 1 else args[0]


# -- sources ---------------------------------------------------------------------------------


def test_from_tensor_slices_yields_eager_tensors_with_tf_dtypes():
    elements = list(Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]]))
    assert len(elements) == 3 and all(isinstance(e, EagerTensor) for e in elements)
    assert elements[1].dtype == tf.int32 and elements[1].shape == (2,)
    np.testing.assert_array_equal(elements[2].numpy(), [5, 6])
    assert next(iter(Dataset.from_tensor_slices([0.5, 1.5]))).dtype == tf.float32
    assert next(iter(Dataset.from_tensor_slices(np.zeros(2)))).dtype == tf.float64
    assert next(iter(Dataset.from_tensor_slices(tf.constant([1, 2], tf.int64)))).dtype == tf.int64


def test_structures_are_preserved():
    point = collections.namedtuple("Point", "x y")
    ds = Dataset.from_tensor_slices(({"b": np.arange(3), "a": np.ones((3, 2))},
                                     point(np.arange(3.0), np.arange(3) * 2)))
    first = next(iter(ds))
    assert isinstance(first, tuple) and list(first[0]) == ["b", "a"]
    assert isinstance(first[1], point) and int(first[1].y) == 0
    assert all(isinstance(t, EagerTensor) for t in (first[0]["a"], first[1].x))
    spec = ds.element_spec
    assert spec[0]["a"] == data.TensorSpec((2,), tf.float64)
    assert spec[1].y == data.TensorSpec((), tf.int64)
    batch = next(iter(ds.batch(2)))
    assert batch[0]["a"].shape == (2, 2) and isinstance(batch[1], point)


def test_from_tensor_slices_checks_and_copies():
    with pytest.raises(ValueError, match="first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(2)))
    with pytest.raises(ValueError, match="rank >= 1"):
        Dataset.from_tensor_slices(np.float32(1))
    x = np.arange(4)
    ds = Dataset.from_tensor_slices(x)
    x[0] = 100
    assert flat(ds) == [0, 1, 2, 3]


def test_from_tensors_and_range():
    ds = Dataset.from_tensors((np.arange(3), 7))
    assert len(ds) == 1 and ds.element_spec[0].shape == (3,)
    assert [a.tolist() for a in values(ds)[0]] == [[0, 1, 2], 7]
    assert flat(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert flat(Dataset.range(2, 9, 3)) == [2, 5, 8]
    assert flat(Dataset.range(5, 0, -2)) == [5, 3, 1]
    assert len(Dataset.range(2, 9, 3)) == 3
    assert next(iter(Dataset.range(3))).dtype == tf.int64
    assert Dataset.range(3, output_type=tf.int32).element_spec == data.TensorSpec((), tf.int32)
    assert flat(Dataset.range(3, output_type=tf.float32).batch(2)) == [[0.0, 1.0], [2.0]]


def test_from_generator():
    def gen(n):
        for i in range(int(n)):
            yield np.full((2,), i), i * 10

    sig = (data.TensorSpec((2,), tf.float32), data.TensorSpec((), tf.int32))
    ds = Dataset.from_generator(gen, args=(3,), output_signature=sig)
    assert ds.element_spec == sig
    assert [(a.tolist(), int(b)) for a, b in values(ds)] == [([0, 0], 0), ([1, 1], 10),
                                                              ([2, 2], 20)]
    assert values(ds)[0][0].dtype == np.float32  # called afresh each iteration
    with pytest.raises(TypeError, match="unknown"):
        len(ds)
    legacy = Dataset.from_generator(lambda: gen(2), output_types=(tf.float32, tf.int32))
    assert legacy.element_spec[0].shape == (None,)
    bad = Dataset.from_generator(lambda: iter([np.zeros(3)]),
                                 output_signature=data.TensorSpec((2,), tf.float32))
    with pytest.raises(ValueError, match="shape"):
        list(bad)


# -- transformations ---------------------------------------------------------------------------


def test_map_receives_tensors_and_unpacks_tuples():
    seen = []

    def fn(x, y):
        seen.append((type(x), type(y)))
        return x * 2, {"y": y + 1}

    ds = Dataset.from_tensor_slices((np.arange(3), np.arange(3))).map(
        fn, num_parallel_calls=data.AUTOTUNE, deterministic=False)
    out = values(ds)
    assert seen[0] == (EagerTensor, EagerTensor)
    assert [(int(a), int(b["y"])) for a, b in out] == [(0, 1), (2, 2), (4, 3)]
    dicts = Dataset.from_tensor_slices({"a": np.arange(2)}).map(lambda d: d["a"] + 10)
    assert flat(dicts) == [10, 11]
    lists = Dataset.range(2).map(lambda x: [x, 1.5])  # a list comes back as a tuple
    assert isinstance(next(iter(lists)), tuple)
    assert lists.element_spec[1] == data.TensorSpec((), tf.float32)


def test_map_element_spec_keeps_batch_dimension_unknown():
    ds = Dataset.from_tensor_slices(np.zeros((10, 4), np.float32)).batch(3)
    mapped = ds.map(lambda x: (tf.reduce_sum(x, axis=1), x[:, :2]))
    assert mapped.element_spec == (data.TensorSpec((None,), tf.float32),
                                   data.TensorSpec((None, 2), tf.float32))
    assert len(mapped) == 4


def test_filter():
    ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert flat(ds) == [0, 3, 6, 9]
    with pytest.raises(TypeError, match="unknown"):
        len(ds)
    assert int(ds.cardinality()) == data.UNKNOWN_CARDINALITY
    with pytest.raises(ValueError, match="scalar"):
        list(Dataset.range(3).filter(lambda x: tf.stack([x, x]) > 0))


def test_batch_and_drop_remainder():
    ds = Dataset.range(7)
    assert flat(ds.batch(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert flat(ds.batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(ds.batch(3)) == 3 and len(ds.batch(3, drop_remainder=True)) == 2
    assert ds.batch(3).element_spec.shape == (None,)
    assert ds.batch(3, drop_remainder=True).element_spec.shape == (3,)
    ragged = Dataset.from_generator(lambda: iter([np.zeros(2), np.zeros(3)]),
                                    output_signature=data.TensorSpec((None,), tf.float64))
    with pytest.raises(InvalidArgumentError, match="different shapes"):
        list(ragged.batch(2))
    with pytest.raises(ValueError):
        ds.batch(0)


def test_unbatch():
    ds = Dataset.from_tensor_slices((np.arange(12).reshape(6, 2), np.arange(6))).batch(4)
    out = ds.unbatch()
    assert [(a.tolist(), int(b)) for a, b in values(out)][:2] == [([0, 1], 0), ([2, 3], 1)]
    assert len(values(out)) == 6
    assert out.element_spec[0].shape == (2,)
    with pytest.raises(TypeError, match="unknown"):
        len(out)


def test_repeat_take_skip():
    ds = Dataset.range(3)
    assert flat(ds.repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert len(ds.repeat(2)) == 6
    forever = ds.repeat()
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert int(forever.cardinality()) == data.INFINITE_CARDINALITY
    assert flat(forever.take(7)) == [0, 1, 2, 0, 1, 2, 0] and len(forever.take(7)) == 7
    assert flat(ds.repeat(-1).skip(2).take(3)) == [2, 0, 1]
    assert flat(Dataset.range(0).repeat()) == []  # an empty pass ends an endless repeat
    assert flat(ds.take(-1)) == [0, 1, 2] and flat(ds.take(0)) == []
    assert flat(ds.skip(1)) == [1, 2] and flat(ds.skip(-1)) == [] and len(ds.skip(5)) == 0
    assert flat(ds.filter(lambda x: x > 0).skip(1)) == [2]


def test_prefetch_is_a_pass_through():
    ds = Dataset.range(5).batch(2).prefetch(data.AUTOTUNE)
    assert flat(ds) == [[0, 1], [2, 3], [4]] and len(ds) == 3
    assert data.AUTOTUNE == -1 and data.experimental.AUTOTUNE == -1


@pytest.mark.parametrize("general", [False, True])
def test_cache_replays_the_first_complete_pass(general):
    ds = Dataset.range(20)
    if general:
        ds = ds.map(identity)
    cached = ds.shuffle(20, seed=3).cache()
    first = flat(cached.take(5))  # an interrupted pass is not kept
    epoch1, epoch2 = flat(cached), flat(cached)
    assert epoch1 == epoch2 and sorted(epoch1) == list(range(20))
    assert first != epoch1[:5]


def test_cache_of_a_map_runs_the_function_once_per_element():
    calls = []
    ds = Dataset.range(4).map(lambda x: calls.append(1) or x).cache()
    assert flat(ds) == flat(ds) == [0, 1, 2, 3]
    assert len(calls) == 4


def test_zip_concatenate_enumerate():
    a, b = Dataset.range(3), Dataset.range(10, 15)
    assert [(int(x), int(y)) for x, y in values(Dataset.zip(a, b))] == [(0, 10), (1, 11), (2, 12)]
    zipped = Dataset.zip(datasets={"a": a, "b": b.repeat()})
    assert len(zipped) == 3 and list(values(zipped)[0]) == ["a", "b"]
    assert flat(a.concatenate(Dataset.range(5, 7))) == [0, 1, 2, 5, 6]
    assert len(a.concatenate(b)) == 8
    with pytest.raises(TypeError):
        _ = a.concatenate(Dataset.from_tensor_slices(np.zeros((2, 2)))).element_spec
    assert [(int(i), int(x)) for i, x in values(b.enumerate(start=1))][:2] == [(1, 10), (2, 11)]


def test_iterator_protocol_and_apply():
    it = iter(Dataset.range(2))
    assert int(it.get_next()) == 0 and int(next(it)) == 1
    with pytest.raises(StopIteration):
        next(it)
    assert it.element_spec == data.TensorSpec((), tf.int64)
    assert flat(Dataset.range(4).apply(lambda d: d.skip(2))) == [2, 3]
    assert bool(Dataset.range(0)) and "RangeDataset" in repr(Dataset.range(1))
    assert int(data.experimental.cardinality(Dataset.range(4))) == 4


def test_as_numpy_iterator_gives_numpy_values():
    out = values(Dataset.from_tensor_slices((np.arange(2), np.ones((2, 3)))))
    assert isinstance(out[0][0], np.int64) and isinstance(out[0][1], np.ndarray)


# -- shuffle -----------------------------------------------------------------------------------


def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    def make(**kw):
        return Dataset.range(50).shuffle(50, seed=7, **kw)

    a, b = make(), make()
    a1, a2, b1 = flat(a), flat(a), flat(b)
    assert a1 == b1 and a1 != a2
    assert sorted(a1) == sorted(a2) == list(range(50))
    fixed = make(reshuffle_each_iteration=False)
    assert flat(fixed) == flat(fixed)
    assert flat(make().repeat(2))[:50] == a1


def test_shuffle_without_seed_follows_the_global_seed():
    tf.random.set_seed(11)
    first = flat(Dataset.range(30).shuffle(30))
    tf.random.set_seed(11)
    assert flat(Dataset.range(30).shuffle(30)) == first


@settings(deadline=None, max_examples=40)
@given(n=st.integers(0, 1500), buffer=st.integers(1, 1500), seed=st.integers(0, 2**31))
def test_shuffle_buffer_semantics(n, buffer, seed):
    out = flat(Dataset.range(n).map(identity).shuffle(buffer, seed=seed))
    assert flat(Dataset.range(n).shuffle(buffer, seed=seed)) == out  # the index plan agrees
    assert sorted(out) == list(range(n))
    # an element can come out only once it has entered the buffer
    assert all(x <= position + buffer - 1 for position, x in enumerate(out))
    if buffer == 1:
        assert out == list(range(n))


# -- the vectorised path -------------------------------------------------------------------------


def pipelines(n: int, seed: int, batch: int, drop: bool) -> list:
    """The same pipelines built twice: on slices (planned) and behind a map (element-wise)."""
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)

    def build(general: bool):
        ds = Dataset.from_tensor_slices({"x": x, "y": y})
        return ds.map(identity) if general else ds

    return [
        (build(g).shuffle(n, seed=seed).batch(batch, drop_remainder=drop) for g in (0, 1)),
        (build(g).shuffle(max(n // 3, 1), seed=seed).batch(batch) for g in (0, 1)),
        (build(g).repeat(3).shuffle(7, seed=seed).batch(batch) for g in (0, 1)),
        (build(g).shuffle(n + 5, seed=seed).repeat(2).skip(1).take(2 * n - 3).batch(batch)
         for g in (0, 1)),
        (build(g).take(n - 1).cache().shuffle(n, seed=seed).prefetch(1).repeat().take(3 * n)
         .batch(batch, drop_remainder=drop) for g in (0, 1)),
    ]


@settings(deadline=None, max_examples=25)
@given(n=st.integers(2, 300), seed=st.integers(0, 2**31), batch=st.integers(1, 8),
       drop=st.booleans())
def test_vectorised_batches_equal_element_wise_batches(n, seed, batch, drop):
    for planned, general in pipelines(n, seed, batch, drop):
        assert planned._input._plan() is not None and general._input._plan() is None
        for _epoch in range(2):
            a, b = values(planned), values(general)
            assert len(a) == len(b)
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u["x"], v["x"])
                np.testing.assert_array_equal(u["y"], v["y"])


def test_planned_batching_does_not_stack_elements(monkeypatch):
    def boom(group):
        raise AssertionError("element-wise stacking on the vectorised path")

    monkeypatch.setattr(_transforms, "stack", boom)
    x = np.random.default_rng(0).random((1000, 28, 28)).astype(np.float32)
    ds = Dataset.from_tensor_slices((x, np.arange(1000))).shuffle(1000, seed=1).batch(128)
    batches = list(ds)
    assert len(batches) == 8 and batches[-1][0].shape == (1000 - 7 * 128, 28, 28)
    order = np.concatenate([b.numpy() for _, b in batches])
    assert sorted(order.tolist()) == list(range(1000))
    np.testing.assert_array_equal(batches[0][0].numpy(), x[order[:128]])
    small_buffer = Dataset.from_tensor_slices(x).shuffle(10, seed=1).repeat().batch(4)
    assert next(iter(small_buffer)).shape == (4, 28, 28)
    with pytest.raises(AssertionError, match="element-wise"):
        list(Dataset.from_tensor_slices(x).shuffle(10, seed=1).map(identity).batch(4).take(1))


# -- augmentation ----------------------------------------------------------------------------------

image_batches = st.tuples(
    st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.sampled_from([None, 1, 3]),
    st.sampled_from([np.float32, np.float64, np.uint8]), st.integers(0, 2**31))


def make_images(spec) -> np.ndarray:
    n, h, w, c, dtype, seed = spec
    shape = (n, h, w) if c is None else (n, h, w, c)
    return (np.random.default_rng(seed).random(shape) * 255).astype(dtype)


AUGMENTS = {
    "shift": lambda x, seed: augment.random_shift(x, 2, 3, seed=seed),
    "rotation": lambda x, seed: augment.random_rotation(x, 30, seed=seed),
    "zoom": lambda x, seed: augment.random_zoom(x, 0.2, seed=seed),
    "flip": lambda x, seed: augment.random_flip_left_right(x, seed=seed),
}


@settings(deadline=None, max_examples=30)
@given(spec=image_batches, name=st.sampled_from(sorted(AUGMENTS)))
def test_augment_keeps_shape_dtype_and_is_deterministic(spec, name):
    x = make_images(spec)
    fn = AUGMENTS[name]
    out = fn(x, 5)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out, fn(x, 5))
    a = fn(x, np.random.default_rng(9))
    np.testing.assert_array_equal(a, fn(x, np.random.default_rng(9)))
    assert np.isfinite(out.astype(np.float64)).all()


@settings(deadline=None, max_examples=30)
@given(spec=image_batches)
def test_augment_zero_ranges_are_identity(spec):
    x = make_images(spec)
    np.testing.assert_array_equal(augment.random_shift(x, 0, 0, seed=1), x)
    np.testing.assert_array_equal(augment.random_rotation(x, 0, seed=1), x)
    np.testing.assert_array_equal(augment.random_zoom(x, 0.0, seed=1), x)


@settings(deadline=None, max_examples=30)
@given(spec=image_batches, seed=st.integers(0, 2**31))
def test_flip_and_shift_move_whole_pixels(spec, seed):
    x = make_images(spec)
    flipped = augment.random_flip_left_right(x, seed=seed)
    for a, b in zip(x, flipped):
        assert np.array_equal(a, b) or np.array_equal(a[:, ::-1], b)
    shifted = augment.random_shift(x, 1, 1, seed=seed)
    for a, b in zip(x, shifted):
        h, w = a.shape[:2]
        pad = np.zeros((h + 2, w + 2, *a.shape[2:]), a.dtype)
        pad[1:-1, 1:-1] = a
        assert any(np.array_equal(pad[1 - dy:1 - dy + h, 1 - dx:1 - dx + w], b)
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_rotation_by_90_degrees_matches_rot90_and_zoom_keeps_centre():
    x = np.random.default_rng(0).random((2, 5, 5, 2))
    quarter = np.full(2, np.pi / 2)
    np.testing.assert_allclose(augment.rotate(x, quarter), np.rot90(x, axes=(1, 2)), atol=1e-12)
    np.testing.assert_array_equal(augment.rotate(x, quarter, interpolation="nearest"),
                                  np.rot90(x, axes=(1, 2)))
    zoomed = augment.zoom(x, np.array([2.0, 0.5]))
    np.testing.assert_allclose(zoomed[:, 2, 2], x[:, 2, 2])
    assert (zoomed[1, 0, 0] == 0).all()  # zooming out brings in the fill value


def test_augment_in_a_map_and_errors():
    tf.random.set_seed(3)
    images = np.random.default_rng(1).random((10, 8, 8)).astype(np.float32)
    ds = Dataset.from_tensor_slices((images, np.arange(10))).batch(4).map(
        lambda x, y: (augment.random_rotation(augment.random_shift(x, 1, 1), 10), y))
    first = [b.numpy() for b, _ in ds]
    tf.random.set_seed(3)
    assert all(np.array_equal(a, b.numpy()) for a, (b, _) in zip(first, ds))
    assert isinstance(augment.random_zoom(tf.constant(images), (0.9, 1.1)), EagerTensor)
    with pytest.raises(ValueError, match="batch of images"):
        augment.random_shift(images[0], 1, 1)
    with pytest.raises(ValueError, match="zoom"):
        augment.random_zoom(images, 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        augment.random_rotation(images, 5, interpolation="cubic")


# -- on disk: cache(filename), save / load ----------------------------------------------------------


def test_cache_to_a_file_survives_a_restart(tmp_path):
    import subprocess
    import sys

    prefix = str(tmp_path / "squares")
    calls = []
    ds = Dataset.range(5).map(lambda x: calls.append(1) or x * x).cache(prefix)
    assert [int(v) for v in ds.as_numpy_iterator()] == [0, 1, 4, 9, 16]
    assert [int(v) for v in ds.as_numpy_iterator()] == [0, 1, 4, 9, 16]
    assert len(calls) == 5  # the second pass read the file
    # a new process, with a map that would fail if it ran: the cache on disk answers
    code = ("import minitf as tf\n"
            f"ds = tf.data.Dataset.range(5).map(lambda x: 1 // 0).cache({prefix!r})\n"
            "print([int(v) for v in ds.as_numpy_iterator()])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[0, 1, 4, 9, 16]"


def test_an_interrupted_pass_leaves_no_file_cache(tmp_path):
    prefix = str(tmp_path / "part")
    ds = Dataset.range(6).cache(prefix)
    assert [int(v) for v in ds.take(2).as_numpy_iterator()] == [0, 1]
    assert not (tmp_path / "part.cache").exists()
    assert len(list(ds.as_numpy_iterator())) == 6
    assert (tmp_path / "part.cache" / "element_spec.json").is_file()


def test_save_and_load_keep_structure_dtypes_and_ragged_batches(tmp_path):
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    y = np.arange(7, dtype=np.int64)
    ds = Dataset.from_tensor_slices(({"img": x, "id": y}, y.astype(np.uint8))).batch(3)
    ds.save(str(tmp_path / "saved"))
    loaded = tf.data.Dataset.load(str(tmp_path / "saved"))
    assert loaded.element_spec == ds.element_spec
    assert len(loaded) == 3
    for (a_feats, a_lab), (b_feats, b_lab) in zip(ds.as_numpy_iterator(),
                                                 loaded.as_numpy_iterator(), strict=True):
        np.testing.assert_array_equal(a_feats["img"], b_feats["img"])
        np.testing.assert_array_equal(a_feats["id"], b_feats["id"])
        assert b_lab.dtype == np.uint8
        np.testing.assert_array_equal(a_lab, b_lab)


def test_load_refuses_bad_directories_clearly(tmp_path):
    import json

    with pytest.raises(FileNotFoundError, match="element_spec.json is missing"):
        tf.data.Dataset.load(str(tmp_path / "nothing"))
    Dataset.from_tensor_slices(np.ones((3, 2), np.float32)).save(str(tmp_path / "d"))
    spec_file = tmp_path / "d" / "element_spec.json"
    meta = json.loads(spec_file.read_text())
    meta["element_spec"]["dtype"] = "int32"  # the shard holds float32
    spec_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="the spec says int32"):
        list(tf.data.Dataset.load(str(tmp_path / "d")).as_numpy_iterator())
    meta["element_spec"] = {"tuple": [{"dtype": "object", "shape": []}]}
    spec_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="bad component dtype"):
        tf.data.Dataset.load(str(tmp_path / "d"))
    deep: dict = {"shape": [], "dtype": "float32"}
    for _ in range(100):
        deep = {"tuple": [deep]}
    meta["element_spec"] = deep
    spec_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="nested deeper"):
        tf.data.Dataset.load(str(tmp_path / "d"))
    with pytest.raises(ValueError, match="infinite"):
        Dataset.range(3).repeat().save(str(tmp_path / "inf"))
