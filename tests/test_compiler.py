"""minitf.compiler (tf.function(jit_compile=True)): compiled results agree with op-by-op
execution to float32 rounding, the passes do what they say, and what cannot be lowered is
named in the error."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import minitf as tf
from minitf.framework.errors import UnimplementedError


def _mlp():
    rng = np.random.default_rng(1)
    w1 = tf.Variable(rng.normal(size=(8, 16)).astype("f4"))
    b1 = tf.Variable(rng.normal(size=16).astype("f4"))
    w2 = tf.Variable(rng.normal(size=(16, 3)).astype("f4"))
    b2 = tf.Variable(np.zeros(3, "f4"))

    def loss(x, y):
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(h, w2) + b2
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        return tf.reduce_mean(xent) + 0.01 * tf.reduce_sum(tf.square(w1)), tf.sigmoid(logits)

    x = rng.normal(size=(5, 8)).astype("f4")
    y = np.array([0, 1, 2, 1, 0], "i4")
    return loss, (x, y), [w1, b1, w2, b2]


def test_compiled_mlp_loss_agrees_with_op_by_op(backend):
    loss, args, _ = _mlp()
    compiled = tf.function(loss, jit_compile=True)
    for want, got in zip(tf.function(loss)(*args), compiled(*args)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6, atol=1e-6)
        assert got.dtype == want.dtype
    eager = loss(*args)
    np.testing.assert_allclose(compiled(*args)[0].numpy(), eager[0].numpy(), rtol=2e-6)


def test_generated_source_and_ir_stages_are_readable():
    loss, args, _ = _mlp()
    f = tf.function(loss, jit_compile=True)
    source = f.experimental_get_compiler_ir(*args)()
    assert "def run(" in source and "np.matmul(" in source
    assert "AddV2 -> Relu, in place" in source  # bias + relu: the GEMM's epilogue, one loop
    cf = f.get_concrete_function(*args)
    lowered = cf.experimental_get_compiler_ir()(stage="lowered")
    fused = cf.experimental_get_compiler_ir()(stage="fuse_elementwise")
    assert "Relu(" in lowered and "Relu(" not in fused and "Fused(" in fused
    assert cf._compiled.fusions >= 2
    with pytest.raises(ValueError, match="unknown stage"):
        cf.experimental_get_compiler_ir()(stage="hlo")


def test_constants_are_folded_and_dead_code_dropped():
    @tf.function(jit_compile=True)
    def f(x):
        unused = tf.exp(x) * 3.0  # noqa: F841 - dead code
        scale = tf.exp(tf.constant(1.0)) * tf.constant(2.0)
        return x * scale

    x = np.array([1.0, 2.0], "f4")
    np.testing.assert_allclose(f(x).numpy(), x * np.float32(np.e) * 2, rtol=1e-6)
    cf = f.get_concrete_function(x)
    assert "Exp(" in cf.experimental_get_compiler_ir()(stage="lowered")
    folded = cf.experimental_get_compiler_ir()(stage="fold_constants")
    assert "Exp(" not in folded and len(cf._compiled.program.nodes) == 1


def test_an_op_without_lowering_rule_is_named():
    f = tf.function(lambda x: tf.nn.softmax(x) * 2.0, jit_compile=True)
    with pytest.raises(UnimplementedError, match=r"op Softmax \('Softmax'\) has no lowering rule"):
        f(np.ones((2, 3), "f4"))
    g = tf.function(lambda x: tf.nn.softmax(x))  # without jit_compile it runs
    assert g(np.ones((2, 3), "f4")).shape == (2, 3)


def test_assignments_compile_and_unlowerable_state_is_named():
    v = tf.Variable(1.0)
    f = tf.function(lambda x: v.assign_add(x), jit_compile=True)
    assert f(tf.constant(2.0)).numpy() == 3.0 and v.numpy() == 3.0
    f(tf.constant(1.0))
    assert v.numpy() == 4.0
    g = tf.function(lambda x: tf.numpy_function(np.sort, [x], tf.float32), jit_compile=True)
    with pytest.raises(UnimplementedError, match=r"op NumpyFunction .* changes state"):
        g(np.ones(2, "f4"))


def test_compiled_function_reads_variables_at_call_time_and_is_differentiable():
    loss, args, variables = _mlp()
    f = tf.function(loss, jit_compile=True)
    before = f(*args)[0].numpy()
    with tf.GradientTape() as tape:
        value = f(*args)[0]
    grads = tape.gradient(value, variables)
    with tf.GradientTape() as tape:
        value_eager = loss(*args)[0]
    for g, e in zip(grads, tape.gradient(value_eager, variables)):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
    variables[3].assign(variables[3] + 1.0)  # a bias shift leaves the softmax loss unchanged
    variables[0].assign(variables[0] * 0.0)
    assert f(*args)[0].numpy() != before
    np.testing.assert_allclose(f(*args)[0].numpy(), loss(*args)[0].numpy(), rtol=2e-6)


def test_the_core_does_not_import_the_compiler():
    code = "import sys, minitf; print('minitf.compiler' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "False"


def _compilable_cases():
    from op_cases import CASES

    from minitf.compiler.rules import SUPPORTED
    return [c for c in CASES if c.op in SUPPORTED]


@pytest.mark.parametrize("case", _compilable_cases(), ids=lambda c: c.id)
def test_every_op_with_a_lowering_rule_matches_its_registry_op(case):
    """The registry's op cases, float32, compiled vs eager (the parity matrix, compiled)."""
    arrays = case.arrays(np.float32)
    want = case.run(*[tf.constant(a) for a in arrays])
    try:
        got = tf.function(case.run, jit_compile=True)(*arrays)
    except UnimplementedError as e:  # the case builds a helper op the compiler lacks
        pytest.skip(str(e))
    for w, g in zip(want, got):
        assert g.dtype == w.dtype and g.shape == w.shape
        scale = max(1.0, float(np.max(np.abs(w.numpy()))) if w.numpy().size else 1.0)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=0,
                                   atol=case.parity_rtol * scale)


def test_compiled_with_an_input_signature_and_unknown_batch():
    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec([None, 3])])
    def f(x):
        return tf.reduce_sum(tf.reshape(tf.tanh(x) * 2.0, [-1]))

    for n in (1, 4):
        x = np.linspace(-1, 1, 3 * n, dtype=np.float32).reshape(n, 3)
        np.testing.assert_allclose(f(x).numpy(), np.sum(np.tanh(x) * 2), rtol=1e-5)
    assert f.experimental_get_tracing_count() == 1


def _keras_mlp(jit_compile):
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu", input_shape=(20,)),
                                 tf.keras.layers.Dense(3)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model


def test_model_compile_jit_trains_like_op_by_op_and_compiles_predict(capsys):
    rng = np.random.default_rng(0)
    x = rng.random((96, 20)).astype("f4")
    y = rng.integers(0, 3, 96).astype("i4")
    plain, jit = _keras_mlp(False), _keras_mlp(True)
    h_plain = plain.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    h_jit = jit.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert capsys.readouterr().out == ""  # the whole training step compiled: no fallback
    assert jit._fns["train"]._plain is None
    np.testing.assert_allclose(h_jit.history["loss"], h_plain.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(h_jit.history["accuracy"], h_plain.history["accuracy"])
    for a, b in zip(jit.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jit.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=2e-6, atol=1e-6)
    step = jit._fns["predict"]
    assert step._plain is None  # the forward pass was compiled, no fallback
    assert all(cf._compiled is not None for cf in step._jit._concrete.values())
    np.testing.assert_allclose(jit.evaluate(x, y, verbose=0), plain.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    assert jit._fns["test"]._plain is None
    np.testing.assert_allclose(jit.train_on_batch(x[:32], y[:32]),
                               plain.train_on_batch(x[:32], y[:32]), rtol=1e-6)


def test_model_compile_jit_argument_is_checked_and_auto_is_off():
    model = _keras_mlp("auto")
    model.predict(np.zeros((2, 20), "f4"), verbose=0)
    assert type(model._fns["predict"]).__name__ == "Function"
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        _keras_mlp("xla")


def test_jit_verbose_prints_the_generated_source(capsys):
    f = tf.function(lambda x: tf.nn.relu(x * 2.0 + 1.0), jit_compile=True)
    x = np.ones(3, "f4")
    assert not tf.config.optimizer.get_jit_verbose()
    f(x)
    assert capsys.readouterr().out == ""
    tf.config.optimizer.set_jit_verbose(True)
    try:
        f(np.ones(4, "f4"))  # a new shape: a new compilation
    finally:
        tf.config.optimizer.set_jit_verbose(False)
    out = capsys.readouterr().out
    assert out.startswith("# minitf.compiler: inputs ") and "def run(" in out
    assert "Mul -> AddV2 -> Relu" in out


def test_without_fusion_each_elementwise_op_is_its_own_kernel():
    from minitf import compiler

    loss, args, _ = _mlp()
    cf = tf.function(loss).get_concrete_function(*args)
    fused = compiler.CompiledFunction(cf)
    unfused = compiler.CompiledFunction(cf, ("dead_code", "fold_constants"))
    assert unfused.fusions == 0 and "fuse_elementwise" not in unfused.stages
    assert unfused.source.count("@numba.") > fused.source.count("@numba.")  # kernels
    for a, b in zip(unfused(list(args)), fused(list(args))):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


def _train_step(optimizer, jit_compile):
    """A tf.function training step of a small MLP: forward, gradients, update."""
    rng = np.random.default_rng(2)
    w1 = tf.Variable(rng.normal(size=(6, 8)).astype("f4") * 0.5)
    b1 = tf.Variable(np.zeros(8, "f4"))
    w2 = tf.Variable(rng.normal(size=(8, 3)).astype("f4") * 0.5)
    b2 = tf.Variable(np.zeros(3, "f4"))
    variables = [w1, b1, w2, b2]

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss, grads

    return step, variables


@pytest.mark.parametrize("make_optimizer", [
    lambda: tf.keras.optimizers.SGD(0.1),
    lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9),
    lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: tf.keras.optimizers.Adam(0.01),
    lambda: tf.keras.optimizers.Adagrad(0.1),
    lambda: tf.keras.optimizers.RMSprop(0.01),
    lambda: tf.keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
], ids=["sgd", "momentum", "nesterov", "adam", "adagrad", "rmsprop", "rmsprop-centered"])
def test_compiled_training_step_agrees_with_op_by_op(make_optimizer):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6)).astype("f4")
    y = np.array([0, 1, 2, 1, 0], "i4")
    plain, v_plain = _train_step(make_optimizer(), False)
    jit, v_jit = _train_step(make_optimizer(), True)
    for _ in range(4):
        (loss_p, grads_p), (loss_j, grads_j) = plain(x, y), jit(x, y)
        np.testing.assert_allclose(loss_j.numpy(), loss_p.numpy(), rtol=1e-6)
        for gj, gp in zip(grads_j, grads_p):
            np.testing.assert_allclose(gj.numpy(), gp.numpy(), rtol=1e-5, atol=1e-7)
    for a, b in zip(v_jit, v_plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    compiled = jit.get_concrete_function(x, y)._compiled
    assert compiled.fusion_counts["optimizer"] == 4  # one kernel call updates all four
    assert compiled.fusion_counts["gemm_epilogue"] >= 2


def test_in_place_updates_leave_arrays_others_hold_unchanged():
    step, variables = _train_step(tf.keras.optimizers.Adam(0.01), True)
    x = np.ones((5, 6), "f4")
    y = np.zeros(5, "i4")
    step(x, y)
    held = variables[0].numpy()  # the variable's own (read-only) array
    before = held.copy()
    view = variables[2].numpy()[1:]  # a view of another one's
    view_before = view.copy()
    step(x, y)
    np.testing.assert_array_equal(held, before)
    np.testing.assert_array_equal(view, view_before)
    assert not np.array_equal(variables[0].numpy(), before)
    variables[0].assign(np.zeros((6, 8), "f4"))  # an assignment between steps is seen
    step(x, y)
    assert np.abs(variables[0].numpy()).max() < 0.05  # one Adam step away from zero
    assert not variables[0].numpy().flags.writeable


def test_a_value_read_before_an_in_place_update_keeps_its_value():
    w = tf.Variable(np.arange(4, dtype="f4"))
    opt = tf.keras.optimizers.SGD(1.0)

    @tf.function(jit_compile=True)
    def step(g):
        before = tf.identity(w)
        opt.apply_gradients([(g, w)])
        return before * 1.0, w + 0.0

    old, new = step(np.ones(4, "f4"))
    np.testing.assert_array_equal(old.numpy(), np.arange(4))
    np.testing.assert_array_equal(w.numpy(), np.arange(4) - 1)
    source = step.experimental_get_compiler_ir(np.ones(4, "f4"))()
    assert "not in place" in source  # copy-on-write: the read is used after the update


def test_training_step_ir_shows_each_pass():
    step, _ = _train_step(tf.keras.optimizers.Adam(0.01), True)
    x, y = np.ones((5, 6), "f4"), np.zeros(5, "i4")
    ir = step.experimental_get_compiler_ir(x, y)
    assert ir(stage="lowered").count("ApplyAdam(") == 4
    assert ir(stage="fuse_optimizer").count("ApplyAdam(") == 1
    assert "Gemm(" in ir(stage="fuse_gemm_epilogue")
    assert "buffers: b0" in ir(stage="plan_buffers") and "# into b" in ir(stage="plan_buffers")
    assert "adam_all(" in ir() and "4 variable(s) in one loop" in ir()


def _dropout_model(jit_compile):
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(3,)),
                                 tf.keras.layers.Dropout(0.5), tf.keras.layers.Dense(2)])
    model.compile("adam", "mse", jit_compile=jit_compile)
    return model


def test_dropout_compiles_and_draws_what_op_by_op_draws(capsys):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(16, 3)).astype("f4"), rng.normal(size=(16, 2)).astype("f4")
    histories = []
    for jit in (False, True):
        model = _dropout_model(jit)
        tf.random.set_seed(7)  # the same dropout masks for both
        histories.append((model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                                    shuffle=False).history["loss"], model.get_weights()))
    assert capsys.readouterr().out == ""  # compiled, no fallback
    np.testing.assert_allclose(histories[1][0], histories[0][0], rtol=1e-6)
    for a, b in zip(histories[1][1], histories[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_keras_runs_an_op_without_rule_op_by_op_inside_the_compiled_step(capsys):
    x, y = np.linspace(-1, 1, 12, dtype="f4").reshape(4, 3), np.array([0, 1, 2, 1], "i4")
    models = []
    for jit in (False, True):
        tf.random.set_seed(0)
        model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation="softmax",
                                                           input_shape=(3,))])
        model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=jit)
        models.append(model.fit(x, y, epochs=2, verbose=0).history["loss"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and re.fullmatch(
        r"jit_compile: no lowering rule, run op by op inside the compiled step: "
        r"Softmax \('dense\w*/Softmax'\).*", out[0])
    assert model._fns["train"]._plain is None  # compiled, with Softmax inside
    np.testing.assert_allclose(models[1], models[0], rtol=1e-6)


def test_keras_runs_a_step_with_unlowerable_state_op_by_op_in_one_line(capsys):
    from minitf.keras.models import _JitOrOpByOp

    total = tf.Variable(0.0)
    step = _JitOrOpByOp(lambda x: total.assign_add(
        tf.reduce_sum(tf.numpy_function(np.sort, [x], tf.float32))), "train")
    step(np.ones(3, "f4"))
    step(np.ones(3, "f4"))
    assert total.numpy() == 6.0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and re.fullmatch(
        r"jit_compile: train_step runs op by op: jit_compile=True: op NumpyFunction "
        r"\('\w+'\) changes state or draws random numbers; .*", out[0])


def test_a_fallback_op_returning_its_input_keeps_outputs_out_of_reused_buffers(monkeypatch):
    from minitf import compiler
    from minitf.compiler import passes, rules

    # StopGradient's kernel returns its input: as an op without a rule (and not known as a
    # view), it stands for any fallback op that may return one of its inputs
    monkeypatch.setattr(rules, "SUPPORTED", rules.SUPPORTED - {"StopGradient"})
    monkeypatch.setattr(passes, "VIEWS", passes.VIEWS - {"StopGradient"})
    cf = tf.function(lambda x: tf.stop_gradient(tf.exp(x) * 2.0)).get_concrete_function(
        np.zeros((2, 3), "f4"))
    compiled = compiler.CompiledFunction(cf, strict=False)
    assert compiled.fallbacks and not compiled.program.buffers  # its input is an output
    first = compiled([np.zeros((2, 3), "f4")])[0]
    compiled([np.ones((2, 3), "f4")])
    np.testing.assert_allclose(first, 2.0)
