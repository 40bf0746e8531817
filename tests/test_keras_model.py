"""tf.keras layers, Sequential models, compile/fit/evaluate/predict, optimizers and schedules,
checked against TensorFlow's documented behaviour."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitf as tf

layers = tf.keras.layers


def _blobs(n: int = 96, classes: int = 3, dim: int = 4, seed: int = 0):
    """A small separable classification problem: class means far apart."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n).astype("int32")
    centers = rng.normal(0, 3, (classes, dim))
    x = (centers[y] + rng.normal(0, 0.5, (n, dim))).astype("float32")
    return x, y


def _mlp(dim: int = 4, classes: int = 3, **dense_kwargs):
    return tf.keras.Sequential([layers.Dense(8, activation="relu", input_shape=(dim,),
                                             **dense_kwargs),
                                layers.Dense(classes)])


# -- layers -----------------------------------------------------------------------------------------


def test_dense_units_activation_bias_and_initializers():
    d = layers.Dense(3, activation="relu", kernel_initializer="ones",
                     bias_initializer=tf.keras.initializers.Constant(-1.0))
    out = d(np.array([[1.0, -2.0]], np.float32)).numpy()
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.0]])  # relu(1 - 2 - 1)
    out = d(np.array([[3.0, 1.0]], np.float32)).numpy()
    np.testing.assert_allclose(out, [[3.0, 3.0, 3.0]])
    assert [tuple(w.shape) for w in d.weights] == [(2, 3), (3,)]
    nb = layers.Dense(5, use_bias=False)
    nb(np.zeros((1, 7), np.float32))
    assert [tuple(w.shape) for w in nb.weights] == [(7, 5)]
    assert nb.count_params() == 35


def test_dense_input_dim_and_input_shape_build_the_model():
    for first in (layers.Dense(4, input_dim=3), layers.Dense(4, input_shape=(3,))):
        m = tf.keras.Sequential([first, layers.Dense(2)])
        assert m.built
        assert [tuple(w.shape) for w in m.weights] == [(3, 4), (4,), (4, 2), (2,)]
    with pytest.raises(ValueError, match="positive"):
        layers.Dense(0)


def test_dense_rejects_wrong_input_width():
    m = tf.keras.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError):
        m(np.zeros((1, 5), np.float32))


def test_flatten_activation_and_input_layer():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 12
    assert layers.Flatten()(x).shape == (2, 12)
    np.testing.assert_allclose(layers.Activation("relu")(x).numpy(), np.maximum(x, 0))
    for first in (tf.keras.Input(shape=(3, 4)), layers.InputLayer(input_shape=(3, 4))):
        m = tf.keras.Sequential([first, layers.Flatten(), layers.Dense(2)])
        assert m.built and m.count_params() == 12 * 2 + 2
        assert m.predict(x, verbose=0).shape == (2, 2)


def test_dropout_identity_at_inference_and_scaled_in_training():
    drop = layers.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(drop(x).numpy(), x)
    np.testing.assert_array_equal(drop(x, training=False).numpy(), x)
    y = drop(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    with pytest.raises(ValueError):
        layers.Dropout(1.0)


def test_dropout_is_active_in_fit_only():
    """With learning rate 0 the weights stay put: fit's loss differs from evaluate's only
    because fit runs the dropout layer in training mode."""
    x, y = _blobs()
    for rate, differs in ((0.5, True), (0.0, False)):
        m = tf.keras.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)),
                                 layers.Dropout(rate), layers.Dense(3)])
        m.compile(tf.keras.optimizers.SGD(0.0),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        fit_loss = m.fit(x, y, batch_size=len(x), epochs=1, verbose=0).history["loss"][0]
        eval_loss = m.evaluate(x, y, batch_size=len(x), verbose=0)
        assert (abs(fit_loss - eval_loss) > 1e-4) is differs


# -- Sequential -------------------------------------------------------------------------------------


def test_sequential_list_and_add_are_equivalent():
    a = tf.keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    b = tf.keras.Sequential()
    b.add(layers.Dense(4, input_shape=(3,)))
    b.add(layers.Dense(2))
    assert len(a.layers) == len(b.layers) == 2
    b.set_weights(a.get_weights())
    x = np.random.rand(5, 3).astype("float32")
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))
    with pytest.raises(TypeError):
        b.add("dense")


def test_summary_text_has_keras_param_counts():
    m = tf.keras.Sequential([layers.Flatten(input_shape=(28, 28)),
                             layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                             layers.Dense(10)], name="mnist_mlp")
    lines: list[str] = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mnist_mlp"' in text
    assert "(None, 784)" in text and "(None, 128)" in text and "(None, 10)" in text
    row = next(line for line in lines if "Dense)" in line and "128)" in line)
    assert row.split()[-1] == "100480"
    assert "Total params: 101,770 (397.54 KB)" in text
    assert "Trainable params: 101,770 (397.54 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text
    unbuilt = tf.keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.summary()


def test_get_set_weights_and_trainable_variables():
    m = _mlp()
    ws = m.get_weights()
    assert [w.shape for w in ws] == [(4, 8), (8,), (8, 3), (3,)]
    assert len(m.trainable_variables) == 4
    m.set_weights([np.full_like(w, 0.5) for w in ws])
    assert all(np.all(w == 0.5) for w in m.get_weights())
    with pytest.raises(ValueError):
        m.set_weights(ws[:2])
    with pytest.raises(ValueError):
        m.set_weights([np.zeros((1, 1))] * 4)
    m.layers[0].trainable = False
    assert len(m.trainable_variables) == 2
    assert len(m.non_trainable_weights) == 2


def test_calling_a_model_on_a_tensor_and_under_a_tape():
    m = _mlp()
    x = tf.constant(np.random.rand(2, 4).astype("float32"))
    out = m(x)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), m.predict(x.numpy(), verbose=0), rtol=1e-6)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(m(x)))
    grads = tape.gradient(loss, m.trainable_variables)
    assert all(g is not None for g in grads)


def test_subclassed_model_fits():
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(3)

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    x, y = _blobs()
    net = Net()
    net.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = net.fit(x, y, epochs=3, verbose=0)
    assert len(net.trainable_variables) == 4
    assert h.history["loss"][-1] < h.history["loss"][0]


# -- compile ---------------------------------------------------------------------------------------


def test_compile_with_strings():
    m = _mlp()
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(m.optimizer, tf.keras.optimizers.Adam)
    m.compile("sgd", "mse")
    assert isinstance(m.optimizer, tf.keras.optimizers.SGD)
    with pytest.raises(ValueError):
        m.compile("adamw_unknown", "mse")
    with pytest.raises(ValueError):
        m.compile("adam", "no_such_loss")


@pytest.mark.parametrize("loss, y_kind, expected", [
    ("sparse_categorical_crossentropy", "sparse", "SparseCategoricalAccuracy"),
    ("categorical_crossentropy", "onehot", "CategoricalAccuracy"),
    ("binary_crossentropy", "binary", "BinaryAccuracy"),
    ("mse", "binary", "BinaryAccuracy"),
    ("mse", "onehot", "CategoricalAccuracy"),
])
def test_accuracy_string_resolves_like_keras(loss, y_kind, expected):
    x, y = _blobs()
    if y_kind == "binary":
        y = (y == 0).astype("float32")[:, None]
        m = tf.keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    else:
        if y_kind == "onehot":
            y = np.eye(3, dtype="float32")[y]
        m = tf.keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    m.compile("adam", loss, metrics=["accuracy"])
    h = m.fit(x, y, epochs=1, verbose=0)
    assert type(m.compiled_metrics[0]).__name__ == expected
    assert set(h.history) == {"loss", "accuracy"}
    assert 0.0 <= h.history["accuracy"][0] <= 1.0


def test_uncompiled_model_refuses_to_fit():
    with pytest.raises(RuntimeError, match="compile"):
        _mlp().fit(*_blobs(), verbose=0)


# -- fit / evaluate / predict ----------------------------------------------------------------------


def test_fit_arrays_learns_and_history_has_one_value_per_epoch():
    x, y = _blobs()
    m = _mlp()
    m.compile(tf.keras.optimizers.Adam(0.05),
              tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    h = m.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert h is m.history
    assert h.epoch == list(range(8))
    assert set(h.history) == {"loss", "accuracy"}
    assert all(len(v) == 8 for v in h.history.values())
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    assert h.history["accuracy"][-1] >= 0.9
    assert int(m.optimizer.iterations.numpy()) == 8 * 6  # ceil(96 / 16) steps per epoch
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc >= 0.9 and loss < 1.0
    logs = m.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    pred = m.predict(x, batch_size=7, verbose=0)
    assert pred.shape == (96, 3) and pred.dtype == np.float32
    assert (pred.argmax(1) == y).mean() == pytest.approx(acc)


def test_fit_with_dataset_matches_arrays_without_shuffle():
    x, y = _blobs()

    def run(data_kind):
        tf.random.set_seed(1)
        m = _mlp()
        m.compile(tf.keras.optimizers.SGD(0.1),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        if data_kind == "arrays":
            h = m.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        else:
            ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
            h = m.fit(ds, epochs=2, verbose=0)
        return h.history["loss"], m.get_weights()

    loss_a, w_a = run("arrays")
    loss_d, w_d = run("dataset")
    np.testing.assert_allclose(loss_a, loss_d, rtol=1e-5)
    for a, b in zip(w_a, w_d):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_dataset_with_validation_dataset_and_predict_dataset():
    x, y = _blobs()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    h = m.fit(ds, epochs=2, validation_data=ds, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # validation runs after the epoch's updates, in inference mode: it equals evaluate's value
    assert h.history["val_loss"][-1] == pytest.approx(m.evaluate(ds, verbose=0)[0], rel=1e-5)
    assert m.predict(tf.data.Dataset.from_tensor_slices(x).batch(10), verbose=0).shape == (96, 3)
    with pytest.raises(ValueError):
        m.fit(ds, validation_split=0.2, verbose=0)


def test_validation_data_and_validation_split():
    x, y = _blobs()
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    h = m.fit(x[:64], y[:64], epochs=2, validation_data=(x[64:], y[64:]), verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert h.history["val_loss"][-1] == pytest.approx(m.evaluate(x[64:], y[64:], verbose=0)[0],
                                                      rel=1e-5)
    # validation_split holds out the *last* fraction: training steps = ceil(72 / 8) = 9
    m2 = _mlp()
    m2.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    h2 = m2.fit(x, y, batch_size=8, epochs=1, validation_split=0.25, verbose=0)
    assert int(m2.optimizer.iterations.numpy()) == 9
    assert h2.history["val_loss"][0] == pytest.approx(m2.evaluate(x[72:], y[72:], verbose=0),
                                                      rel=1e-5)


def test_shuffle_changes_batch_order_but_not_without_it():
    x, y = _blobs()

    def weights(shuffle, seed):
        tf.random.set_seed(seed)
        m = _mlp()
        tf.random.set_seed(seed + 100)  # same init for all runs, shuffle order from seed
        m.set_weights([np.full_like(w, 0.1) for w in m.get_weights()])
        m.compile(tf.keras.optimizers.SGD(0.1),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        m.fit(x, y, batch_size=8, epochs=1, shuffle=shuffle, verbose=0)
        return np.concatenate([w.ravel() for w in m.get_weights()])

    np.testing.assert_array_equal(weights(False, 0), weights(False, 1))
    np.testing.assert_array_equal(weights(True, 0), weights(True, 0))
    assert not np.allclose(weights(True, 0), weights(True, 1))
    assert not np.allclose(weights(True, 0), weights(False, 0))


def test_callbacks_see_every_epoch_and_batch_and_initial_epoch():
    events = []

    class Recorder(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch", epoch))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch", batch, round(logs["loss"], 6) > 0))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            events.append("done")

    x, y = _blobs(n=40)
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    h = m.fit(x, y, batch_size=20, epochs=4, initial_epoch=2, callbacks=[Recorder()],
              verbose=0)
    assert events == ["begin", ("epoch", 2), ("batch", 0, True), ("batch", 1, True),
                      ("end", 2, ["accuracy", "loss"]), ("epoch", 3), ("batch", 0, True),
                      ("batch", 1, True), ("end", 3, ["accuracy", "loss"]), "done"]
    assert h.epoch == [2, 3] and len(h.history["loss"]) == 2


@pytest.mark.parametrize("verbose", [0, 1, 2, "auto"])
def test_verbose_output_is_sane(verbose, capsys):
    x, y = _blobs(n=200)
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    m.fit(x, y, batch_size=4, epochs=3, verbose=verbose)
    out = capsys.readouterr().out
    if verbose == 0:
        assert out == ""
        return
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) <= 6  # captured output is not a terminal: no per-batch redraws
    assert "\r" not in out
    assert "Epoch 1/3" in out and "Epoch 3/3" in out
    assert "50/50" in out and "loss:" in out and "accuracy:" in out


def test_progress_bar_redraws_in_place_and_is_throttled(monkeypatch):
    import io
    import itertools

    class Tty(io.StringIO):
        def isatty(self):
            return True

    clock = itertools.count(0.0, 0.004)  # a fake clock: 4 ms per reading, so 1000 batches
    monkeypatch.setattr(tf.keras.callbacks.time, "perf_counter", lambda: next(clock))

    stream = Tty()
    bar = tf.keras.callbacks.ProgbarLogger(verbose=1, stream=stream)
    bar.set_params({"epochs": 1, "steps": 1000})
    bar.on_epoch_begin(0)
    for i in range(1000):
        bar.on_train_batch_end(i, {"loss": 1.0})
    bar.on_epoch_end(0, {"loss": 0.5})
    text = stream.getvalue()
    assert text.startswith("Epoch 1/1\n")
    assert 20 <= text.count("\r") <= 60  # 4 fake seconds, <= 10 redraws a second: not 1000
    assert text.rstrip("\n").split("\r")[-1].startswith("1000/1000")
    assert "loss: 0.5000" in text


def test_evaluate_predict_and_batch_methods():
    x, y = _blobs()
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    before = m.evaluate(x, y, verbose=0)
    assert isinstance(before, list) and len(before) == 2
    out = m.train_on_batch(x, y)
    assert isinstance(out, list) and len(out) == 2
    assert m.train_on_batch(x, y, return_dict=True).keys() == {"loss", "accuracy"}
    assert int(m.optimizer.iterations.numpy()) == 2
    assert m.test_on_batch(x, y)[0] < before[0]
    np.testing.assert_allclose(m.predict_on_batch(x), m.predict(x, verbose=0), rtol=1e-6)
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert isinstance(m.evaluate(x, y, verbose=0), float)


def test_evaluate_verbose_prints_one_line(capsys):
    x, y = _blobs()
    m = _mlp()
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    m.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
    m.evaluate(x, y, verbose=1)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "loss:" in out and "accuracy:" in out


def test_regularizer_loss_is_added():
    x, y = _blobs()
    y = y.astype("float32")[:, None]
    m = tf.keras.Sequential([layers.Dense(1, input_shape=(4,),
                                          kernel_regularizer=tf.keras.regularizers.l2(0.1))])
    assert len(m.losses) == 1
    kernel = m.layers[0].kernel.numpy()
    np.testing.assert_allclose(float(m.losses[0].numpy()), 0.1 * np.sum(kernel ** 2), rtol=1e-5)
    m.compile(tf.keras.optimizers.SGD(0.0), "mse")
    mse = float(np.mean((m.predict(x, verbose=0) - y) ** 2))
    # Keras reports the total loss (data loss + regularization) in fit and evaluate
    assert m.evaluate(x, y, batch_size=len(x), verbose=0) == pytest.approx(
        mse + 0.1 * np.sum(kernel ** 2), rel=1e-5)
    h = m.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    assert h.history["loss"][0] == pytest.approx(mse + 0.1 * np.sum(kernel ** 2), rel=1e-5)
    # and its gradient shrinks the kernel
    plain = tf.keras.Sequential([layers.Dense(1, input_shape=(4,))])
    reg = tf.keras.Sequential([layers.Dense(1, input_shape=(4,), kernel_regularizer="l2")])
    reg.set_weights(plain.get_weights())
    for model in (plain, reg):
        model.compile(tf.keras.optimizers.SGD(0.01), "mse")
        model.fit(x, y, batch_size=len(x), epochs=5, shuffle=False, verbose=0)
    assert np.sum(reg.get_weights()[0] ** 2) < np.sum(plain.get_weights()[0] ** 2)


# -- optimizers ------------------------------------------------------------------------------------


def test_legacy_lr_keyword_warns_and_works():
    with pytest.warns(DeprecationWarning, match="lr"):
        opt = tf.keras.optimizers.Adam(lr=0.01)
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.keras.optimizers.SGD(learning_rate=0.1)


@pytest.mark.parametrize("make", [
    lambda: tf.keras.optimizers.SGD(0.1),
    lambda: tf.keras.optimizers.SGD(0.05, momentum=0.9),
    lambda: tf.keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: tf.keras.optimizers.Adam(0.1),
    lambda: tf.keras.optimizers.Adagrad(0.5),
    lambda: tf.keras.optimizers.RMSprop(0.05),
    lambda: tf.keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
])
def test_optimizers_reduce_a_quadratic(make):
    opt = make()
    w = tf.Variable([3.0, -2.0])
    target = np.array([1.0, 1.0], np.float32)

    def loss():
        return tf.reduce_sum(tf.square(w - target))

    start = float(loss().numpy())
    for _ in range(50):
        opt.minimize(loss, [w])
    assert float(loss().numpy()) < 0.05 * start
    assert int(opt.iterations.numpy()) == 50


def test_sgd_momentum_and_nesterov_follow_keras_formulas():
    g = np.array([1.0, -2.0], np.float32)
    for nesterov in (False, True):
        opt = tf.keras.optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov)
        w = tf.Variable([0.0, 0.0])
        ref_w, m = np.zeros(2), np.zeros(2)
        for _ in range(3):
            opt.apply_gradients(zip([tf.constant(g)], [w]))
            m = 0.9 * m - 0.1 * g
            ref_w = ref_w + (0.9 * m - 0.1 * g if nesterov else m)
        np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-5)


def test_adam_first_step_moves_by_learning_rate():
    opt = tf.keras.optimizers.Adam(0.01)
    w = tf.Variable([1.0, 1.0])
    opt.apply_gradients([(tf.constant([5.0, -0.001]), w)])
    np.testing.assert_allclose(w.numpy(), [0.99, 1.01], rtol=1e-4)
    assert opt.get_slot_names() == ["momentum", "velocity"]


def test_apply_gradients_and_minimize_with_a_tape():
    w = tf.Variable([[1.0, 2.0]])
    b = tf.Variable([0.5])
    opt = tf.keras.optimizers.SGD(0.5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w * w) + tf.reduce_sum(b)
    grads = tape.gradient(loss, [w, b])
    opt.apply_gradients(zip(grads, [w, b]))
    np.testing.assert_allclose(w.numpy(), [[0.0, 0.0]])
    np.testing.assert_allclose(b.numpy(), [0.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(b * 2.0)
    opt.minimize(loss, [b], tape=tape)
    np.testing.assert_allclose(b.numpy(), [-1.0])
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply_gradients([(None, w)])


def test_exponential_and_piecewise_schedules():
    sched = tf.keras.optimizers.schedules
    exp = sched.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert float(exp(0).numpy()) == pytest.approx(0.1)
    assert float(exp(10).numpy()) == pytest.approx(0.05)
    assert float(exp(5).numpy()) == pytest.approx(0.1 * 0.5 ** 0.5)
    stair = sched.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert float(stair(19).numpy()) == pytest.approx(0.05)
    pw = sched.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])
    assert [float(pw(s).numpy()) for s in (0, 5, 6, 10, 11, 100)] == pytest.approx(
        [1.0, 1.0, 0.5, 0.5, 0.1, 0.1])


def test_schedule_drives_the_optimizer_inside_fit():
    x, y = _blobs(n=32)
    schedule = tf.keras.optimizers.schedules.PiecewiseConstantDecay([2], [0.1, 0.0])
    m = _mlp()
    m.compile(tf.keras.optimizers.SGD(schedule),
              tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)  # steps 0..3
    after_two_epochs = m.get_weights()
    assert float(m.optimizer.learning_rate.numpy()) == 0.0
    m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)  # lr is 0 from step 3 on
    for a, b in zip(after_two_epochs, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_callable_learning_rate_is_read_each_step():
    lr = {"value": 0.1}
    opt = tf.keras.optimizers.SGD(learning_rate=lambda: lr["value"])
    w = tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([1.0]), w)])
    lr["value"] = 0.5
    opt.apply_gradients([(tf.constant([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.5], rtol=1e-6)


def test_learning_rate_can_be_set_after_compile_without_retracing():
    x, y = _blobs(n=32)
    m = _mlp()
    m.compile(tf.keras.optimizers.SGD(0.1),
              tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x, y, epochs=1, verbose=0)
    m.optimizer.learning_rate = 0.0
    before = m.get_weights()
    m.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
