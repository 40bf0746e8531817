"""Model files move between minitf and real Keras 3 (torch backend) with equal predictions:
one test per layer and direction, for .keras, legacy .h5 and .weights.h5 files."""

from __future__ import annotations

import os

import numpy as np
import pytest

import minitf as tf

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = tf.keras.layers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# (minitf layers, the same in Keras, input shape)
CASES = {
    "Dense": (lambda: [L.Dense(4, activation="relu"), L.Dense(3, use_bias=False)],
              lambda K: [K.Dense(4, activation="relu"), K.Dense(3, use_bias=False)], (5,)),
    "Conv2D": (lambda: [L.Conv2D(3, (3, 2), strides=(1, 2), padding="same", activation="relu"),
                        L.Conv2D(2, 2)],
               lambda K: [K.Conv2D(3, (3, 2), strides=(1, 2), padding="same", activation="relu"),
                          K.Conv2D(2, 2)], (6, 6, 2)),
    "MaxPooling2D": (lambda: [L.MaxPooling2D((2, 2), strides=1, padding="same")],
                     lambda K: [K.MaxPooling2D((2, 2), strides=1, padding="same")], (4, 4, 2)),
    "AveragePooling2D": (lambda: [L.AveragePooling2D(2)], lambda K: [K.AveragePooling2D(2)],
                         (4, 4, 3)),
    "GlobalAveragePooling2D": (lambda: [L.GlobalAveragePooling2D()],
                              lambda K: [K.GlobalAveragePooling2D()], (3, 3, 2)),
    "Flatten": (lambda: [L.Flatten(), L.Dense(2)], lambda K: [K.Flatten(), K.Dense(2)], (3, 2)),
    "Dropout": (lambda: [L.Dropout(0.4), L.Dense(2)], lambda K: [K.Dropout(0.4), K.Dense(2)],
                (3,)),
    "BatchNormalization": (lambda: [L.BatchNormalization(momentum=0.9, epsilon=1e-2)],
                           lambda K: [K.BatchNormalization(momentum=0.9, epsilon=1e-2)], (4,)),
    "Activation": (lambda: [L.Activation("tanh"), L.Activation("softmax")],
                   lambda K: [K.Activation("tanh"), K.Activation("softmax")], (3,)),
    "SimpleRNN": (lambda: [L.SimpleRNN(4, return_sequences=True), L.SimpleRNN(3)],
                  lambda K: [K.SimpleRNN(4, return_sequences=True), K.SimpleRNN(3)], (5, 2)),
    "LSTM": (lambda: [L.LSTM(4, go_backwards=True)], lambda K: [K.LSTM(4, go_backwards=True)],
             (5, 3)),
    "GRU": (lambda: [L.GRU(4, return_sequences=True)],
            lambda K: [K.GRU(4, return_sequences=True)], (5, 3)),
    "Bidirectional": (
        lambda: [L.Bidirectional(L.LSTM(3, return_sequences=True)),
                 L.Bidirectional(L.GRU(2), merge_mode="sum")],
        lambda K: [K.Bidirectional(K.LSTM(3, return_sequences=True)),
                   K.Bidirectional(K.GRU(2), merge_mode="sum")], (5, 3)),
    "TimeDistributed": (lambda: [L.TimeDistributed(L.Dense(3, activation="relu"))],
                        lambda K: [K.TimeDistributed(K.Dense(3, activation="relu"))], (4, 2)),
    "RNN": (lambda: [L.RNN(L.SimpleRNNCell(3), return_sequences=True), L.RNN(L.LSTMCell(2)),
                     ],
            lambda K: [K.RNN(K.SimpleRNNCell(3), return_sequences=True), K.RNN(K.LSTMCell(2))],
            (5, 2)),
    "RNN_GRUCell": (lambda: [L.RNN(L.GRUCell(3), go_backwards=True)],
                    lambda K: [K.RNN(K.GRUCell(3), go_backwards=True)], (5, 2)),
}


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(4, *shape)).astype("float32")


def _randomize_minitf(model):
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype("float32")
                       for w in model.get_weights()])


def _randomize_keras(model):
    rng = np.random.default_rng(2)
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype("float32")
                       for w in model.get_weights()])


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("layer", sorted(CASES))
def test_minitf_file_loads_in_keras(tmp_path, layer, fmt):
    make, _, shape = CASES[layer]
    m = tf.keras.Sequential([L.InputLayer(shape=shape), *make()])
    _randomize_minitf(m)  # BN's moving statistics too, so inference uses them
    m.save(tmp_path / f"m.{fmt}")
    k = keras.models.load_model(tmp_path / f"m.{fmt}")
    x = _x(shape)
    np.testing.assert_allclose(np.asarray(k.predict(x, verbose=0)), m.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert [type(a).__name__ for a in k.layers] == [type(a).__name__ for a in m.layers]


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("layer", sorted(CASES))
def test_keras_file_loads_in_minitf(tmp_path, layer, fmt):
    _, make, shape = CASES[layer]
    k = keras.Sequential([keras.Input(shape), *make(keras.layers)])
    _randomize_keras(k)
    k.save(tmp_path / f"k.{fmt}")
    m = tf.keras.models.load_model(tmp_path / f"k.{fmt}")
    x = _x(shape)
    np.testing.assert_allclose(m.predict(x, verbose=0), np.asarray(k.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)
    assert [type(a).__name__ for a in m.layers] == [type(a).__name__ for a in k.layers]


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_embedding_with_a_recurrent_layer_both_ways(tmp_path, fmt):
    ids = np.array([[3, 1, 0, 0], [5, 2, 7, 1]], dtype="int32")  # 0s padded: masked steps
    m = tf.keras.Sequential([L.InputLayer(shape=(4,), dtype="int32"),
                             L.Embedding(8, 3, mask_zero=True), L.LSTM(2)])
    _randomize_minitf(m)
    m.save(tmp_path / f"m.{fmt}")
    k = keras.models.load_model(tmp_path / f"m.{fmt}")
    np.testing.assert_allclose(np.asarray(k.predict(ids, verbose=0)), m.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)
    k.save(tmp_path / f"k.{fmt}")
    back = tf.keras.models.load_model(tmp_path / f"k.{fmt}")
    np.testing.assert_allclose(back.predict(ids, verbose=0), m.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_masked_bidirectional_with_its_own_backward_layer_both_ways(tmp_path, fmt):
    ids = np.array([[3, 1, 0, 0], [5, 2, 7, 1]], dtype="int32")
    m = tf.keras.Sequential([
        L.InputLayer(shape=(4,), dtype="int32"), L.Embedding(8, 3, mask_zero=True),
        L.Bidirectional(L.LSTM(2, return_sequences=True),
                        backward_layer=L.GRU(3, return_sequences=True, go_backwards=True)),
        L.TimeDistributed(L.Dense(2))])
    _randomize_minitf(m)
    m.save(tmp_path / f"m.{fmt}")
    k = keras.models.load_model(tmp_path / f"m.{fmt}")
    assert type(k.layers[1].backward_layer).__name__ == "GRU"
    np.testing.assert_allclose(np.asarray(k.predict(ids, verbose=0)), m.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)
    _randomize_keras(k)
    k.save(tmp_path / f"k.{fmt}")
    back = tf.keras.models.load_model(tmp_path / f"k.{fmt}")
    np.testing.assert_allclose(back.predict(ids, verbose=0), np.asarray(k.predict(ids, verbose=0)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["Conv2D", "Bidirectional", "RNN"])
def test_weights_files_both_ways(tmp_path, layer):
    make_m, make_k, shape = CASES[layer]
    m = tf.keras.Sequential([L.InputLayer(shape=shape), *make_m(), L.Flatten(), L.Dense(2)])
    k = keras.Sequential([keras.Input(shape), *make_k(keras.layers), keras.layers.Flatten(),
                          keras.layers.Dense(2)])
    x = _x(shape)
    _randomize_minitf(m)
    m.save_weights(tmp_path / "m.weights.h5")
    k.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(np.asarray(k.predict(x, verbose=0)), m.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    _randomize_keras(k)
    k.save_weights(tmp_path / "k.weights.h5")
    m.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(m.predict(x, verbose=0), np.asarray(k.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def test_functional_chain_from_keras_and_compile_config(tmp_path):
    inp = keras.Input((5,))
    h = keras.layers.Dense(4, activation="relu")(inp)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Dropout(0.2)(h))
    k = keras.Model(inp, out)
    k.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    x, y = _x((5,)), np.array([0, 1, 2, 1])
    k.fit(x, y, epochs=2, verbose=0)
    k.save(tmp_path / "f.keras")
    m = tf.keras.models.load_model(tmp_path / "f.keras")
    np.testing.assert_allclose(m.predict(x, verbose=0), np.asarray(k.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)
    assert isinstance(m.optimizer, tf.keras.optimizers.SGD)
    assert m.optimizer.momentum == pytest.approx(0.9)
    assert int(m.optimizer.iterations.numpy()) == int(k.optimizer.iterations)
    for a, b in zip(m.optimizer.get_weights(), [np.asarray(v) for v in k.optimizer.variables]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_optimizer_state_and_loss_settings_travel_to_keras_and_back(tmp_path):
    m = tf.keras.Sequential([L.Dense(3, input_shape=(5,))])
    m.compile(tf.keras.optimizers.Adam(0.01),
              tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _x((5,)), np.array([0, 1, 2, 1])
    m.fit(x, y, epochs=3, verbose=0)
    m.save(tmp_path / "m.keras")
    k = keras.models.load_model(tmp_path / "m.keras")
    assert type(k.optimizer).__name__ == "Adam"
    assert int(k.optimizer.iterations) == 3
    for a, b in zip([np.asarray(v) for v in k.optimizer.variables], m.optimizer.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert k.loss.get_config()["from_logits"] is True
    k.save(tmp_path / "k.keras")
    back = tf.keras.models.load_model(tmp_path / "k.keras")
    assert back.compiled_loss.get_config()["from_logits"] is True
    # one more identical step in both minitf models: the whole training state came back
    m.train_on_batch(x, y)
    back.train_on_batch(x, y)
    for a, b in zip(back.get_weights(), m.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_keras_features_minitf_lacks_are_refused_by_name(tmp_path):
    k = keras.Sequential([keras.Input((4,)),
                          keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg())])
    k.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="kernel_constraint"):
        tf.keras.models.load_model(tmp_path / "c.keras")
    k = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2)])
    k.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="Lambda"):
        tf.keras.models.load_model(tmp_path / "lambda.keras")
