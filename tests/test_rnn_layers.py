"""SimpleRNN, LSTM and GRU against PyTorch (an independent implementation): final states, the
outputs of every real step and the gradients of inputs and weights, in both directions, with
masks; plus the Keras API around them (cells, RNN(cell), Bidirectional, TimeDistributed,
Embedding masks, stateful, dropout, tf.function, fit, config round trips)."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf

torch = pytest.importorskip("torch")

LAYERS = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
LENGTHS = [5, 3, 1]  # right-padded sequences of these lengths (batch 3, 5 steps)


def _keras_to_torch(kind: str, weights: list[np.ndarray], units: int) -> dict:
    """PyTorch's parameters from Keras's: transposed, and GRU's gates z, r, h -> r, z, n."""
    k, r, b = weights
    if kind == "GRU":
        perm = np.r_[units:2 * units, 0:units, 2 * units:3 * units]
        k, r, b = k[:, perm], r[:, perm], b[:, perm]
        b_ih, b_hh = b[0], b[1]
    else:
        b_ih, b_hh = b, np.zeros_like(b)
    return {"weight_ih_l0": k.T, "weight_hh_l0": r.T, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}


def _torch_grads_as_keras(kind: str, mod, units: int) -> list[np.ndarray]:
    gk = mod.weight_ih_l0.grad.numpy().T
    gr = mod.weight_hh_l0.grad.numpy().T
    gb = mod.bias_ih_l0.grad.numpy()
    if kind == "GRU":
        back = np.r_[units:2 * units, 0:units, 2 * units:3 * units]  # its own inverse
        gb = np.stack([gb, mod.bias_hh_l0.grad.numpy()])
        return [gk[:, back], gr[:, back], gb[:, back]]
    return [gk, gr, gb]  # bias_hh_l0 is zero and gets the same gradient


def _torch_run(kind, weights, units, x, v, lengths, go_backwards):
    """Per sequence: the real steps (reversed for go_backwards) through torch; returns the
    outputs per sequence, final states, and gradients of sum(v * h_final)."""
    mod = getattr(torch.nn, LAYERS[kind])(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        for name, val in _keras_to_torch(kind, weights, units).items():
            getattr(mod, name).copy_(torch.tensor(np.ascontiguousarray(val)))
    xt = torch.tensor(x, requires_grad=True)
    loss, outs, finals = 0.0, [], []
    for b, n in enumerate(lengths):
        seq = xt[b:b + 1, :n]
        if go_backwards:
            seq = torch.flip(seq, [1])
        out, state = mod(seq)
        h = state[0] if kind == "LSTM" else state
        loss = loss + (h[0, 0] * torch.tensor(v[b])).sum()
        outs.append(out[0].detach().numpy())
        finals.append(h[0, 0].detach().numpy())
    loss.backward()
    return outs, np.stack(finals), xt.grad.numpy(), _torch_grads_as_keras(kind, mod, units)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_matches_pytorch(kind, go_backwards, masked, backend):
    rng = np.random.default_rng(7)
    units, steps = 4, 5
    lengths = LENGTHS if masked else [steps] * 3
    x = rng.normal(size=(3, steps, 3)).astype(np.float32)
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
    x[~mask] = 9.0  # padding that would show if it leaked into the states
    v = rng.normal(size=(3, units)).astype(np.float32)
    layer = getattr(tf.keras.layers, kind)(units, return_sequences=True, return_state=True,
                                           go_backwards=go_backwards,
                                           bias_initializer="random_normal")
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        seq, h, *_ = layer(xk, mask=tf.constant(mask) if masked else None)
        loss = tf.reduce_sum(h * v)
    grads = tape.gradient(loss, [xk, *layer.trainable_weights])
    outs, h_ref, gx_ref, gw_ref = _torch_run(kind, layer.get_weights(), units, x, v, lengths,
                                             go_backwards)
    np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-5, atol=1e-5)
    for b, n in enumerate(lengths):
        got = seq.numpy()[b, steps - n:] if go_backwards else seq.numpy()[b, :n]
        np.testing.assert_allclose(got, outs[b], rtol=1e-5, atol=1e-5)
    gx = grads[0].numpy()
    np.testing.assert_allclose(gx[mask], gx_ref[mask], rtol=1e-4, atol=1e-5)
    assert not gx[~mask].any(), "padded steps must get no gradient"
    for g, ref in zip(grads[1:], gw_ref):
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-4, atol=1e-5)


def test_bidirectional_matches_pytorch():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    bi = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(5, return_sequences=True))
    y = bi(x).numpy()
    mod = torch.nn.LSTM(3, 5, batch_first=True, bidirectional=True)
    w = bi.get_weights()
    with torch.no_grad():
        for suffix, ws in (("", w[:3]), ("_reverse", w[3:])):
            for name, val in _keras_to_torch("LSTM", ws, 5).items():
                getattr(mod, name + suffix).copy_(torch.tensor(np.ascontiguousarray(val)))
        ref = mod(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


# -- the Keras API -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LAYERS))
def test_fused_layer_equals_its_cell_in_a_loop(kind):
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype(np.float32)
    layer = getattr(tf.keras.layers, kind)(4, return_sequences=True)
    y = layer(x).numpy()
    loop = tf.keras.layers.RNN(layer.cell, return_sequences=True)
    h = layer.cell.get_initial_state(batch_size=2)
    steps = []
    for t in range(6):
        out, h = layer.cell(x[:, t], h)
        steps.append(out.numpy())
    np.testing.assert_allclose(np.stack(steps, 1), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loop(x).numpy(), y, rtol=1e-5, atol=1e-6)


def test_weight_layouts_and_keras_defaults():
    lstm = tf.keras.layers.LSTM(3)
    lstm.build(tf.TensorShape([None, 4, 2]))
    k, r, b = lstm.get_weights()
    assert (k.shape, r.shape, b.shape) == ((2, 12), (3, 12), (12,))
    np.testing.assert_array_equal(b, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # unit_forget_bias
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5)  # orthogonal rows
    gru = tf.keras.layers.GRU(3)
    gru.build(tf.TensorShape([None, 4, 2]))
    assert [w.shape for w in gru.get_weights()] == [(2, 9), (3, 9), (2, 9)]
    gru2 = tf.keras.layers.GRU(3, reset_after=False)
    gru2.build(tf.TensorShape([None, 4, 2]))
    assert gru2.get_weights()[2].shape == (9,)
    assert [w.name.split("/")[-1].split(":")[0] for w in lstm.weights] == \
        ["kernel", "recurrent_kernel", "bias"]


def test_embedding_mask_keeps_the_state_of_padded_steps():
    ids = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0]])
    emb = tf.keras.layers.Embedding(6, 4, mask_zero=True)
    lstm = tf.keras.layers.LSTM(3, return_sequences=True)
    seq = lstm(emb(ids)).numpy()
    np.testing.assert_array_equal(seq[0, 3], seq[0, 2])
    np.testing.assert_array_equal(seq[1, 4], seq[1, 0])
    short = tf.keras.layers.LSTM(3)
    short.build(tf.TensorShape([None, 3, 4]))
    short.set_weights(lstm.get_weights())
    np.testing.assert_allclose(short(emb(ids[:1, :3])).numpy()[0], seq[0, 4], rtol=1e-6)


def test_return_state_and_initial_state():
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype(np.float32)
    lstm = tf.keras.layers.LSTM(5, return_state=True)
    out, h, c = lstm(x)
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    first = tf.keras.layers.LSTM(5, return_state=True)
    _, h2, c2 = first(x[:, :2])
    second = tf.keras.layers.LSTM(5)
    second.build(tf.TensorShape([None, 2, 3]))
    first_w = first.get_weights()
    second.set_weights(first_w)
    whole = tf.keras.layers.LSTM(5)
    whole.build(tf.TensorShape([None, 4, 3]))
    whole.set_weights(first_w)
    np.testing.assert_allclose(second(x[:, 2:], initial_state=[h2, c2]).numpy(),
                               whole(x).numpy(), rtol=1e-5, atol=1e-6)


def test_stateful_carries_state_and_resets():
    x = np.random.default_rng(4).normal(size=(2, 6, 3)).astype(np.float32)
    whole = tf.keras.layers.GRU(4)
    y = whole(x).numpy()
    st = tf.keras.layers.GRU(4, stateful=True)
    st.build(tf.TensorShape([2, 3, 3]))
    st.set_weights(whole.get_weights())
    st(x[:, :3])
    np.testing.assert_allclose(st(x[:, 3:]).numpy(), y, rtol=1e-5, atol=1e-6)
    st.reset_states()
    np.testing.assert_allclose(st(x[:, :3]).numpy(), whole(x[:, :3]).numpy(), rtol=1e-6)


def test_dropout_only_while_training():
    x = np.ones((4, 5, 3), np.float32)
    for kw in ({"dropout": 0.5}, {"recurrent_dropout": 0.5}):
        layer = tf.keras.layers.LSTM(6, **kw)
        infer = layer(x).numpy()
        np.testing.assert_array_equal(layer(x, training=False).numpy(), infer)
        assert not np.allclose(layer(x, training=True).numpy(), infer)


def test_time_distributed_and_bidirectional_shapes():
    x = np.random.default_rng(5).normal(size=(2, 4, 3)).astype(np.float32)
    td = tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(7))
    y = td(x)
    assert y.shape == (2, 4, 7)
    np.testing.assert_allclose(y.numpy()[:, 1], td.layer(x[:, 1]).numpy(), rtol=1e-6)
    for mode, last in (("concat", 10), ("sum", 5), ("ave", 5), ("mul", 5)):
        bi = tf.keras.layers.Bidirectional(tf.keras.layers.GRU(5), merge_mode=mode)
        assert bi(x).shape == (2, last)
    bi = tf.keras.layers.Bidirectional(tf.keras.layers.SimpleRNN(2, return_state=True))
    out, hf, hb = bi(x)
    assert out.shape == (2, 4) and hf.shape == hb.shape == (2, 2)
    assert len(bi.weights) == 6


def test_tf_function_and_graph_mode_equal_eager():
    x = np.random.default_rng(6).normal(size=(2, 4, 3)).astype(np.float32)
    layer = tf.keras.layers.GRU(3, return_sequences=True)
    eager = layer(x).numpy()
    np.testing.assert_allclose(tf.function(lambda a: layer(a))(x).numpy(), eager, rtol=1e-6)
    g = tf.Graph()
    with g.as_default():
        ph = tf.placeholder(tf.float32, [None, 4, 3])
        y = layer(ph)
        grad = tf.gradients(tf.reduce_sum(y), layer.trainable_weights[1])
    with tf.Session(graph=g) as sess:
        out, _ = sess.run([y, grad], {ph: x})
    np.testing.assert_allclose(out, eager, rtol=1e-6)


def test_fit_learns_a_sequence_task():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 5, size=(256, 6))
    x[rng.random(x.shape) < 0.3] = 0
    y = (x == 3).any(axis=1).astype(np.int64)  # is there a 3 anywhere?
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(5, 8, mask_zero=True),
                                 tf.keras.layers.LSTM(16), tf.keras.layers.Dense(2)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=25, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9


@pytest.mark.parametrize("make", [
    lambda: tf.keras.layers.LSTM(3, return_sequences=True, go_backwards=True, dropout=0.1),
    lambda: tf.keras.layers.GRU(3, reset_after=False, recurrent_activation="tanh"),
    lambda: tf.keras.layers.SimpleRNN(3, activation="relu", return_state=True),
    lambda: tf.keras.layers.RNN(tf.keras.layers.LSTMCell(3), return_sequences=True),
    lambda: tf.keras.layers.Bidirectional(tf.keras.layers.GRU(3), merge_mode="sum"),
    lambda: tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(3)),
    lambda: tf.keras.layers.Embedding(7, 3, mask_zero=True),
], ids=["lstm", "gru", "simple", "rnn-cell", "bidirectional", "time-distributed", "embedding"])
def test_config_round_trip_gives_the_same_layer(make):
    layer = make()
    x = np.random.default_rng(8).integers(0, 7, (2, 4, 3)).astype(np.float32)
    if isinstance(layer, tf.keras.layers.Embedding):
        x = x[:, :, 0]
    y = layer(x)
    copy = type(layer).from_config(layer.get_config())
    y2 = copy(x)
    copy.set_weights(layer.get_weights())
    y, y2 = (v[0] if isinstance(v, list) else v for v in (y, y2))
    np.testing.assert_allclose(copy(x)[0].numpy() if isinstance(copy(x), list)
                               else copy(x).numpy(), y.numpy(), rtol=1e-6)
    assert y2.shape == y.shape


def test_model_with_recurrent_layers_saves_and_loads(tmp_path):
    ids = np.random.default_rng(9).integers(0, 6, (3, 5))
    model = tf.keras.Sequential([
        tf.keras.layers.Embedding(6, 4, mask_zero=True),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(3, return_sequences=True)),
        tf.keras.layers.GRU(3), tf.keras.layers.Dense(2)])
    model.build((None, 5))
    model.save(tmp_path / "rnn.keras")
    loaded = tf.keras.models.load_model(tmp_path / "rnn.keras")
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-6)


def test_sequential_mnist_example_runs_headless():
    from minitf.examples import sequential_mnist

    res = sequential_mnist.main(["--subset", "256", "--test-subset", "500", "--epochs", "1",
                                 "--verbose", "0", "--cell", "gru"])
    assert len(res["epoch_seconds"]) == 1 and 0.0 <= res["test_accuracy"] <= 1.0
