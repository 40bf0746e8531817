"""tf.keras.callbacks: History, EarlyStopping, ModelCheckpoint, LearningRateScheduler,
TerminateOnNaN and the live plot, driven by scripted metric values where the logic matters."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf

callbacks = tf.keras.callbacks


def _data(n: int = 32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    return x, y


def _model(lr: float = 0.05):
    m = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    m.compile(tf.keras.optimizers.SGD(lr), "mse", metrics=["mae"])
    return m


class Scripted(callbacks.Callback):
    """Overwrites ``logs[key]`` with scripted values (listed before the callback under test,
    which then sees them) and snapshots the weights at every epoch end."""

    def __init__(self, key: str, values: list[float]) -> None:
        super().__init__()
        self.key, self.values, self.weights = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_history_records_every_epoch():
    x, y = _data()
    m = _model()
    h = m.fit(x, y, epochs=3, validation_data=(x, y), verbose=0)
    assert isinstance(h, callbacks.History)
    assert h.epoch == [0, 1, 2]
    assert sorted(h.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(v) == 3 and all(isinstance(f, float) for f in v) for v in h.history.values())
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_early_stopping_patience():
    x, y = _data()
    for patience, stop_epoch in ((0, 3), (2, 4)):  # 2: epochs 3 and 4 do not improve
        m = _model()
        scripted = Scripted("val_loss", [5, 4, 3, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5, 0.1])
        es = callbacks.EarlyStopping(monitor="val_loss", patience=patience)
        h = m.fit(x, y, epochs=10, callbacks=[scripted, es], validation_data=(x, y), verbose=0)
        assert es.stopped_epoch == stop_epoch
        assert h.epoch == list(range(stop_epoch + 1))
        assert es.best == 3


def test_early_stopping_min_delta_and_mode():
    x, y = _data()
    m = _model()
    scripted = Scripted("accuracy", [0.5, 0.6, 0.605, 0.61, 0.9])
    es = callbacks.EarlyStopping(monitor="accuracy", patience=1, min_delta=0.02)
    assert es.mode == "max"
    m.fit(x, y, epochs=5, callbacks=[scripted, es], verbose=0)
    assert es.stopped_epoch == 2


def test_early_stopping_restores_best_weights():
    x, y = _data()
    m = _model()
    scripted = Scripted("val_loss", [5, 1, 3, 4, 5, 6])
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    m.fit(x, y, epochs=6, callbacks=[scripted, es], validation_data=(x, y), verbose=0)
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(m.get_weights(), scripted.weights[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(scripted.weights[1][0], scripted.weights[3][0])


def test_early_stopping_without_restore_keeps_last_weights():
    x, y = _data()
    m = _model()
    scripted = Scripted("val_loss", [5, 1, 3, 4, 5, 6])
    m.fit(x, y, epochs=6, callbacks=[scripted, callbacks.EarlyStopping(patience=2)],
          validation_data=(x, y), verbose=0)
    for a, b in zip(m.get_weights(), scripted.weights[3]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_unknown_monitor_is_a_clear_error():
    x, y = _data()
    with pytest.raises(KeyError, match="val_loss"):
        _model().fit(x, y, epochs=2, callbacks=[callbacks.EarlyStopping()], verbose=0)


def test_model_checkpoint_save_best_only(tmp_path):
    x, y = _data()
    m = _model()
    scripted = Scripted("val_loss", [3.0, 2.0, 2.5, 1.0, 1.5])
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.keras"), save_best_only=True)
    m.fit(x, y, epochs=5, callbacks=[scripted, ckpt], validation_data=(x, y), verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01.keras", "m-02.keras",
                                                          "m-04.keras"]
    best = tf.keras.models.load_model(tmp_path / "m-04.keras")
    for a, b in zip(best.get_weights(), scripted.weights[3]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_every_epoch_and_weights_only(tmp_path):
    x, y = _data()
    m = _model()
    path = tmp_path / "best.weights.h5"
    ckpt = callbacks.ModelCheckpoint(str(path), save_weights_only=True, monitor="loss")
    m.fit(x, y, epochs=2, callbacks=[ckpt], verbose=0)
    fresh = _model()
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_scheduler_sets_rate_each_epoch():
    x, y = _data()
    m = _model(lr=0.1)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, round(lr, 6)))
        return lr * 0.5 if epoch > 0 else lr

    h = m.fit(x, y, epochs=3, callbacks=[callbacks.LearningRateScheduler(schedule)], verbose=0)
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert float(m.optimizer.learning_rate.numpy()) == pytest.approx(0.025)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_changes_the_traced_step():
    x, y = _data()
    m = _model(lr=0.1)
    zero = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 if epoch == 0 else 0.0)
    snap = Scripted("unused", [0.0] * 3)
    start = m.get_weights()
    m.fit(x, y, epochs=3, callbacks=[zero, snap], verbose=0)
    assert not np.array_equal(start[0], snap.weights[0][0])  # epoch 0 trained at 0.1
    for a, b in zip(snap.weights[0], snap.weights[2]):  # then the rate is 0: no change
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan(capsys):
    x, y = _data()
    x[5:] = np.nan
    m = _model()
    h = m.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
              callbacks=[callbacks.TerminateOnNaN()])
    assert int(m.optimizer.iterations.numpy()) == 2  # batch 0 fine, batch 1 has the NaN
    assert h.epoch == [0]
    assert "Batch 1: Invalid loss" in capsys.readouterr().out


def test_live_plot_headless_does_not_crash(capsys):
    import matplotlib

    matplotlib.use("Agg")
    x, y = _data()
    m = _model()
    live = callbacks.LivePlot()
    m.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[live], verbose=0)
    assert live.logs["loss"] and len(live.logs["val_mae"]) == 2
    assert live.figure is not None and len(live.figure.axes) == 2
    assert capsys.readouterr().out == ""  # a script gets no figure reprs printed
    empty = callbacks.LivePlot()
    m.fit(x, y, epochs=1, initial_epoch=1, callbacks=[empty], verbose=0)  # no epoch runs
    assert empty.figure is None


def test_custom_callback_can_stop_training():
    class StopAfterTwo(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    x, y = _data()
    h = _model().fit(x, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert h.epoch == [0, 1]
