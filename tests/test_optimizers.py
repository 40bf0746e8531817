"""Optimizers: every update matches a NumPy reference of the Keras (or TF1) formulas, eagerly,
inside tf.function and in TF1 graph mode (on both backends); the kernels of both backends
agree; schedules, clipping, None gradients, the deprecated ``lr=`` and convergence."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minitf as tf
from minitf import keras
from minitf import train as tf_train
from minitf.backends.optim_numpy import OptimizerKernelsNumpy

A = np.array([1.0, 2.0, 0.5, 3.0], np.float32)  # curvature of the quadratic loss
T = np.array([0.3, -1.0, 2.0, 0.1], np.float32)  # its minimum
W0 = np.array([1.0, 0.5, -1.0, 2.0], np.float32)
STEPS = 5


def quad_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of 0.5 * sum(A * (w - T)^2)."""
    return A * (w - T)


def quad_loss(w):
    return 0.5 * tf.reduce_sum(A * tf.square(w - T))


# -- NumPy references (float64) ------------------------------------------------------------------


def ref_keras(kind: str, cfg: dict, steps: int = STEPS, lrs=None) -> np.ndarray:
    """The Keras 3 update rules, step by step; ``lrs[t]`` overrides the learning rate."""
    w = W0.astype(np.float64)
    s1, s2, s3 = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    if kind == "adagrad":
        s1 += cfg.get("initial_accumulator_value", 0.1)
    for t in range(steps):
        g = quad_grad(w)
        lr = lrs[t] if lrs is not None else cfg["learning_rate"]
        if kind == "sgd":
            mom, nest = cfg.get("momentum", 0.0), cfg.get("nesterov", False)
            if mom:
                s1 = mom * s1 - lr * g
                w = w + (mom * s1 - lr * g if nest else s1)
            else:
                w = w - lr * g
        elif kind == "adam":
            b1, b2, eps = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999), cfg.get("epsilon", 1e-7)
            s1 = s1 + (g - s1) * (1 - b1)
            s2 = s2 + (g * g - s2) * (1 - b2)
            alpha = lr * math.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
            w = w - alpha * s1 / (np.sqrt(s2) + eps)
        elif kind == "adagrad":
            s1 = s1 + g * g
            w = w - lr * g / np.sqrt(s1 + cfg.get("epsilon", 1e-7))
        elif kind == "rmsprop":
            rho, mom = cfg.get("rho", 0.9), cfg.get("momentum", 0.0)
            eps, centered = cfg.get("epsilon", 1e-7), cfg.get("centered", False)
            s1 = rho * s1 + (1 - rho) * g * g
            if centered:
                s3 = rho * s3 + (1 - rho) * g
                denom = s1 - s3 * s3 + eps
            else:
                denom = s1 + eps
            inc = lr * g / np.sqrt(denom)
            if mom:
                s2 = mom * s2 + inc
                inc = s2
            w = w - inc
    return w


CONFIGS = [
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adam", {"learning_rate": 0.1}),
    ("adam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    ("adagrad", {"learning_rate": 0.5}),
    ("rmsprop", {"learning_rate": 0.05}),
    ("rmsprop", {"learning_rate": 0.05, "momentum": 0.5, "centered": True}),
]
IDS = [f"{k}-{'-'.join(f'{a}={b}' for a, b in c.items())}" for k, c in CONFIGS]
CLASSES = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
           "adagrad": keras.optimizers.Adagrad, "rmsprop": keras.optimizers.RMSprop}


def _eager_run(opt, steps: int = STEPS) -> np.ndarray:
    w = tf.Variable(W0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = quad_loss(w)
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
    return w.numpy()


def _traced_run(opt, steps: int = STEPS) -> tuple[np.ndarray, tf.function]:
    w = tf.Variable(W0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = quad_loss(w)
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
        return loss

    for _ in range(steps):
        step()
    return w.numpy(), step


@pytest.mark.parametrize(("kind", "cfg"), CONFIGS, ids=IDS)
def test_keras_optimizer_eager_matches_reference(kind, cfg):
    opt = CLASSES[kind](**cfg)
    np.testing.assert_allclose(_eager_run(opt), ref_keras(kind, cfg), rtol=1e-5, atol=1e-6)
    assert int(opt.iterations.numpy()) == STEPS


@pytest.mark.parametrize(("kind", "cfg"), CONFIGS, ids=IDS)
def test_keras_optimizer_traced_matches_reference(kind, cfg, backend):
    opt = CLASSES[kind](**cfg)
    w, step = _traced_run(opt)
    np.testing.assert_allclose(w, ref_keras(kind, cfg), rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1
    assert int(opt.iterations.numpy()) == STEPS


def test_one_fused_op_per_variable_in_the_traced_step():
    opt = keras.optimizers.Adam(0.01)
    ws = [tf.Variable(W0), tf.Variable(np.ones((2, 3), np.float32))]

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = quad_loss(ws[0]) + tf.reduce_sum(tf.square(ws[1]))
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))

    step()
    ops = step.get_concrete_function().graph.get_operations()
    assert [o.type for o in ops].count("ApplyAdam") == 2


def test_keras_optimizer_in_tf1_graph_mode():
    cfg = {"learning_rate": 0.1}
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(W0)
        opt = keras.optimizers.Adam(**cfg)
        train_op = opt.minimize(quad_loss(w), [w])
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(STEPS):
            sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), ref_keras("adam", cfg), rtol=1e-5, atol=1e-6)


# -- TF1 tf.train ----------------------------------------------------------------------------------


def ref_tf1(kind: str, lr: float, steps: int = STEPS, **kw) -> np.ndarray:
    """The TF1 update rules (``tf.compat.v1.train``), step by step."""
    w = W0.astype(np.float64)
    a, b = np.zeros_like(w), np.zeros_like(w)
    if kind == "adagrad":
        a += 0.1
    if kind == "rmsprop":
        a += 1.0  # TF1 starts the mean square at one
    for t in range(1, steps + 1):
        g = quad_grad(w)
        if kind == "sgd":
            w = w - lr * g
        elif kind == "momentum":
            a = kw["momentum"] * a + g
            w = w - lr * (g + kw["momentum"] * a if kw.get("use_nesterov") else a)
        elif kind == "adam":
            a = 0.9 * a + 0.1 * g
            b = 0.999 * b + 0.001 * g * g
            lr_t = lr * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            w = w - lr_t * a / (np.sqrt(b) + 1e-8)
        elif kind == "adagrad":
            a = a + g * g
            w = w - lr * g / np.sqrt(a)
        elif kind == "rmsprop":
            a = 0.9 * a + 0.1 * g * g
            b = kw.get("momentum", 0.0) * b + lr * g / np.sqrt(a + 1e-10)
            w = w - b
    return w


TF1 = [
    ("sgd", lambda: tf_train.GradientDescentOptimizer(0.1), {}),
    ("momentum", lambda: tf_train.MomentumOptimizer(0.1, 0.9), {"momentum": 0.9}),
    ("momentum", lambda: tf_train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
     {"momentum": 0.9, "use_nesterov": True}),
    ("adam", lambda: tf_train.AdamOptimizer(0.1), {}),
    ("adagrad", lambda: tf_train.AdagradOptimizer(0.1), {}),
    ("rmsprop", lambda: tf_train.RMSPropOptimizer(0.01, momentum=0.5), {"momentum": 0.5}),
]


@pytest.mark.parametrize(("kind", "make", "kw"), TF1, ids=[
    "sgd", "momentum", "nesterov", "adam", "adagrad", "rmsprop"])
def test_tf1_minimize_in_a_session_matches_reference(kind, make, kw, backend):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4])
        w = tf.Variable(W0, name="w")
        loss = 0.5 * tf.reduce_sum(A * tf.square(w - x))
        global_step = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
        train_op = make().minimize(loss, global_step=global_step)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(STEPS):
            sess.run(train_op, feed_dict={x: T})
        lr = {"rmsprop": 0.01}.get(kind, 0.1)
        np.testing.assert_allclose(sess.run(w), ref_tf1(kind, lr, **kw), rtol=1e-5, atol=1e-6)
        assert sess.run(global_step) == STEPS


def test_tf1_compute_and_apply_gradients_and_slots():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(W0, name="w")
        frozen = tf.Variable(1.0, trainable=False)
        loss = quad_loss(w) * frozen
        opt = tf_train.AdamOptimizer(0.1)
        pairs = opt.compute_gradients(loss)
        assert [v for _, v in pairs] == [w]  # only trainable variables
        train_op = opt.apply_gradients(pairs)
        assert sorted(opt.get_slot_names()) == ["m", "v"]
        assert opt.get_slot(w, "m") is not None
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(STEPS):
            sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), ref_tf1("adam", 0.1), rtol=1e-5, atol=1e-6)


def test_tf1_optimizer_eagerly_with_a_callable_loss():
    w = tf.Variable(W0)
    opt = tf_train.GradientDescentOptimizer(0.1)
    for _ in range(STEPS):
        opt.minimize(lambda: quad_loss(w), var_list=[w])
    np.testing.assert_allclose(w.numpy(), ref_tf1("sgd", 0.1), rtol=1e-5, atol=1e-6)


def test_tf1_exponential_decay_and_global_step():
    g = tf.Graph()
    with g.as_default():
        step = tf_train.get_or_create_global_step()
        assert tf_train.get_or_create_global_step() is step
        lr = tf_train.exponential_decay(0.1, step, 2, 0.5, staircase=True)
        w = tf.Variable(W0)
        train_op = tf_train.GradientDescentOptimizer(lr).minimize(quad_loss(w), global_step=step)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        seen = []
        for _ in range(5):
            seen.append(float(sess.run(lr)))
            sess.run(train_op)
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


# -- kernels: both backends agree ------------------------------------------------------------------


def test_numba_and_numpy_kernels_agree():
    pytest.importorskip("numba")
    from minitf.backends.numba_cpu.optim import OptimizerKernelsNumba

    rng = np.random.default_rng(0)
    nb, ref = OptimizerKernelsNumba(), OptimizerKernelsNumpy()

    def arr(*shape, pos=False):
        x = rng.standard_normal(shape).astype(np.float32)
        return np.abs(x) + 0.1 if pos else x

    var, grad = arr(7, 5), arr(7, 5)
    grad_t = np.asfortranarray(grad)  # non-contiguous input
    cases = [
        ("apply_gradient_descent", (var, grad_t, 0.1)),
        ("apply_momentum", (var, arr(7, 5), grad, 0.1, 0.9, False)),
        ("apply_momentum", (var, arr(7, 5), grad, 0.1, 0.9, True)),
        ("apply_adam", (var, arr(7, 5), arr(7, 5, pos=True), grad, 0.01, 0.9, 0.999, 1e-7, 3.0)),
        ("apply_adagrad", (var, arr(7, 5, pos=True), grad, 0.1, 1e-7)),
        ("apply_rmsprop", (var, arr(7, 5, pos=True), None, None, grad, 0.01, 0.9, 0.0, 1e-7)),
        ("apply_rmsprop", (var, arr(7, 5, pos=True) + 2, arr(7, 5), arr(7, 5) * 0.1, grad, 0.01,
                           0.9, 0.5, 1e-7)),
        ("apply_adam", (np.float32(2.0).reshape(()), np.zeros((), np.float32),
                        np.zeros((), np.float32), np.float32(0.5).reshape(()), 0.1, 0.9, 0.999,
                        1e-7, 1.0)),
    ]
    for name, args in cases:
        a, b = getattr(nb, name)(*args), getattr(ref, name)(*args)
        a = a if isinstance(a, tuple) else (a,)
        b = b if isinstance(b, tuple) else (b,)
        for x, y in zip(a, b):
            if y is None:
                assert x is None
                continue
            assert x.dtype == np.float32 and x.shape == y.shape, name
            np.testing.assert_allclose(x, y, rtol=2e-6, atol=1e-7, err_msg=name)


def test_kernels_do_not_write_their_inputs():
    ref = OptimizerKernelsNumpy()
    var, m, v, g = (np.ones(3, np.float32) for _ in range(4))
    for x in (var, m, v, g):
        x.flags.writeable = False
    ref.apply_adam(var, m, v, g, 0.1, 0.9, 0.999, 1e-7, 1.0)  # would raise on a write
    pytest.importorskip("numba")
    from minitf.backends.numba_cpu.optim import OptimizerKernelsNumba

    OptimizerKernelsNumba().apply_adam(var, m, v, g, 0.1, 0.9, 0.999, 1e-7, 1.0)
    np.testing.assert_array_equal(var, np.ones(3))


# -- schedules, learning rate, clipping ------------------------------------------------------------


def test_schedules_values():
    s = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose([float(s(t)) for t in (0, 5, 10, 20)],
                               [0.1, 0.1 * 0.5**0.5, 0.05, 0.025], rtol=1e-6)
    s = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    np.testing.assert_allclose([float(s(t)) for t in (9, 10, 19, 20)],
                               [0.1, 0.05, 0.05, 0.025], rtol=1e-6)
    p = keras.optimizers.schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1])
    np.testing.assert_allclose([float(p(t)) for t in (0, 3, 4, 6, 7, 100)],
                               [1.0, 1.0, 0.5, 0.5, 0.1, 0.1], rtol=1e-6)
    c = keras.optimizers.schedules.CosineDecay(1.0, 10, alpha=0.1)
    np.testing.assert_allclose([float(c(t)) for t in (0, 5, 10, 50)], [1.0, 0.55, 0.1, 0.1],
                               rtol=1e-6)
    i = keras.optimizers.schedules.InverseTimeDecay(1.0, 2, 0.5)
    np.testing.assert_allclose(float(i(4)), 0.5, rtol=1e-6)


def test_schedule_in_a_traced_step_changes_lr_without_retracing():
    sched = keras.optimizers.schedules.PiecewiseConstantDecay([1, 3], [0.2, 0.1, 0.01])
    opt = keras.optimizers.SGD(sched)
    w, step = _traced_run(opt)
    lrs = [float(sched(t)) for t in range(STEPS)]
    np.testing.assert_allclose(w, ref_keras("sgd", {}, lrs=lrs), rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(float(np.asarray(opt.learning_rate)), 0.01, rtol=1e-6)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1


def test_setting_learning_rate_takes_effect_without_retracing():
    opt = keras.optimizers.SGD(0.1)
    w = tf.Variable(W0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = quad_loss(w)
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))

    lrs = [0.1, 0.1, 0.01, 0.01, 0.3]
    for lr in lrs:
        opt.learning_rate = lr
        step()
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(w.numpy(), ref_keras("sgd", {}, lrs=lrs), rtol=1e-5, atol=1e-6)
    assert isinstance(opt.learning_rate, tf.Variable)
    np.testing.assert_allclose(float(np.asarray(opt.lr)), 0.3, rtol=1e-6)


def test_learning_rate_as_variable_or_callable():
    lr = tf.Variable(0.1)
    opt = keras.optimizers.SGD(learning_rate=lr)
    assert opt.learning_rate is lr
    np.testing.assert_allclose(_eager_run(opt, 2), ref_keras("sgd", {"learning_rate": 0.1}, 2),
                               rtol=1e-5)
    opt = keras.optimizers.SGD(learning_rate=lambda: 0.1)
    np.testing.assert_allclose(_eager_run(opt, 2), ref_keras("sgd", {"learning_rate": 0.1}, 2),
                               rtol=1e-5)


def test_lr_keyword_is_deprecated_but_accepted():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = keras.optimizers.SGD(lr=0.5)
    assert float(opt.learning_rate.numpy()) == 0.5
    with pytest.raises(TypeError, match="unexpected keyword"):
        keras.optimizers.Adam(learning_rat=0.1)


def test_defaults_match_keras():
    adam = keras.optimizers.Adam()
    assert (float(adam.learning_rate.numpy()), adam.beta_1, adam.beta_2, adam.epsilon) == (
        pytest.approx(0.001), 0.9, 0.999, 1e-7)
    sgd = keras.optimizers.SGD()
    assert (float(sgd.learning_rate.numpy()), sgd.momentum, sgd.nesterov) == (
        pytest.approx(0.01), 0.0, False)
    rms = keras.optimizers.RMSprop()
    assert (float(rms.learning_rate.numpy()), rms.rho, rms.epsilon, rms.momentum,
            rms.centered) == (pytest.approx(0.001), 0.9, 1e-7, 0.0, False)
    ada = keras.optimizers.Adagrad()
    assert (float(ada.learning_rate.numpy()), ada.initial_accumulator_value, ada.epsilon) == (
        pytest.approx(0.001), 0.1, 1e-7)


def test_none_gradients_are_skipped_with_a_warning():
    w, unused = tf.Variable(W0), tf.Variable(np.ones(2, np.float32))
    opt = keras.optimizers.SGD(0.1)
    with tf.GradientTape() as tape:
        loss = quad_loss(w)
    grads = tape.gradient(loss, [w, unused])
    assert grads[1] is None
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients(zip(grads, [w, unused]))
    np.testing.assert_array_equal(unused.numpy(), np.ones(2))
    np.testing.assert_allclose(w.numpy(), ref_keras("sgd", {"learning_rate": 0.1}, 1), rtol=1e-6)
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply_gradients([(None, unused)])


def test_clipping():
    g = np.array([3.0, 4.0], np.float32)  # norm 5

    def one_step(**kw):
        w = tf.Variable(np.zeros(2, np.float32))
        keras.optimizers.SGD(1.0, **kw).apply_gradients([(tf.constant(g), w)])
        return -w.numpy()

    np.testing.assert_allclose(one_step(clipvalue=3.5), [3.0, 3.5])
    np.testing.assert_allclose(one_step(clipnorm=1.0), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(one_step(clipnorm=10.0), [3.0, 4.0], rtol=1e-6)
    w1, w2 = tf.Variable(np.zeros(2, np.float32)), tf.Variable(np.zeros(1, np.float32))
    keras.optimizers.SGD(1.0, global_clipnorm=6.5).apply_gradients(
        [(tf.constant(g), w1), (tf.constant([12.0]), w2)])  # global norm 13
    np.testing.assert_allclose(-w1.numpy(), [1.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(-w2.numpy(), [6.0], rtol=1e-6)
    with pytest.raises(ValueError, match="Only one"):
        keras.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_minimize_with_callable_or_tape_and_variables_list():
    w = tf.Variable(W0)
    opt = keras.optimizers.Adam(0.1)
    opt.minimize(lambda: quad_loss(w), [w])
    with tf.GradientTape() as tape:
        loss = quad_loss(w)
    opt.minimize(loss, [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), ref_keras("adam", {"learning_rate": 0.1}, 2),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(quad_loss(w), [w])
    names = [v.name for v in opt.variables]
    assert len(opt.variables()) == 4 and names == [v.name for v in opt.variables()]
    assert opt.variables[0] is opt.iterations and opt.iterations.dtype == tf.int64
    assert opt.get_slot(w, "momentum").shape == w.shape
    assert all(not v.trainable for v in opt.variables)


def test_get_and_config_round_trip():
    for name, cls in [("sgd", keras.optimizers.SGD), ("Adam", keras.optimizers.Adam),
                      ("adagrad", keras.optimizers.Adagrad), ("RMSprop", keras.optimizers.RMSprop)]:
        assert type(keras.optimizers.get(name)) is cls
    opt = keras.optimizers.SGD(0.3, momentum=0.5, nesterov=True)
    assert keras.optimizers.get(opt) is opt
    clone = keras.optimizers.get(keras.optimizers.serialize(opt))
    assert (type(clone), clone.momentum, clone.nesterov) == (keras.optimizers.SGD, 0.5, True)
    assert float(clone.learning_rate.numpy()) == pytest.approx(0.3)
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9, staircase=True)
    clone = keras.optimizers.Adam.from_config(keras.optimizers.Adam(sched).get_config())
    assert isinstance(clone._lr_fn, keras.optimizers.schedules.ExponentialDecay)
    assert clone._lr_fn.get_config() == sched.get_config()
    with pytest.raises(ValueError, match="Could not interpret"):
        keras.optimizers.get("adamw2")


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd", "adagrad"])
def test_converges_on_a_quadratic(name):
    lr = {"adam": 0.05, "rmsprop": 0.02, "sgd": 0.1, "adagrad": 0.5}[name]
    cfg = {"momentum": 0.9} if name == "sgd" else {}
    opt = CLASSES[name](learning_rate=lr, **cfg)
    w, _ = _traced_run(opt, steps=300)
    np.testing.assert_allclose(w, T, atol=2e-2)


def test_float64_variables():
    w = tf.Variable(W0.astype(np.float64))
    opt = keras.optimizers.Adam(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(STEPS):
            with tf.GradientTape() as tape:
                a, t = A.astype(np.float64), T.astype(np.float64)
                loss = 0.5 * tf.reduce_sum(a * tf.square(w - t))
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
    assert w.dtype == tf.float64
    np.testing.assert_allclose(w.numpy(), ref_keras("adam", {"learning_rate": 0.1}), rtol=1e-6,
                               atol=1e-7)


def test_decoupled_weight_decay():
    w = tf.Variable(np.array([2.0, -4.0], np.float32))
    opt = keras.optimizers.SGD(0.1, weight_decay=0.5)
    opt.apply_gradients([(tf.constant([1.0, 0.0]), w)])
    # var -= lr * wd * var, then the SGD step
    np.testing.assert_allclose(w.numpy(), [2.0 * 0.95 - 0.1, -4.0 * 0.95], rtol=1e-6)


def test_both_bases_share_the_slot_machinery():
    """TF1 and Keras optimizers keep slots alike (created on the first update, one set per
    variable, in creation order) and name them each their own way; a constant-lr momentum
    step moves the variable the same in both."""
    w1, w2 = tf.Variable(W0, name="dense/w"), tf.Variable(W0, name="dense/w")
    tf1 = tf_train.MomentumOptimizer(0.1, 0.9)
    k = keras.optimizers.SGD(0.1, momentum=0.9)
    assert tf1.get_slot_names() == k.get_slot_names() == []
    for _ in range(STEPS):
        tf1.minimize(lambda: quad_loss(w1), var_list=[w1])
        k.minimize(lambda: quad_loss(w2), [w2])
    np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-6)
    assert tf1.get_slot_names() == k.get_slot_names() == ["momentum"]
    assert tf1.get_slot(w1, "momentum").name == "dense/w/Momentum_momentum:0"
    assert k.get_slot(w2, "momentum").name == "SGD/dense_w_momentum:0"
    assert [v.name for v in tf1.variables()] == ["dense/w/Momentum_momentum:0"]
    assert [v.name for v in k.variables] == ["SGD/iteration:0", "SGD/learning_rate:0",
                                             "SGD/dense_w_momentum:0"]
