"""What each rank runs in tests/test_distribute.py: ``mpiexec -n 2 python mpi_worker.py MODE OUT``.

Every rank writes its results to OUT/MODE.<rank>.npz; the test compares them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import minitf as tf
import minitf.distribute.hvd as hvd

tf.config.set_backend("numpy")  # no kernel compilation: each rank starts fast
OUT = Path()  # the results folder, from the command line


def collectives(rank: int) -> dict:
    s = tf.distribute.MultiWorkerMirroredStrategy()
    x = tf.constant([1.0, 2.0]) * (rank + 1)
    v = tf.Variable([float(rank), 10.0 + rank])
    hvd.broadcast_variables([v], root_rank=0)
    with tf.GradientTape() as t0:
        loss = tf.reduce_sum(v * float(rank + 1))
    (grad,) = hvd.DistributedGradientTape(t0).gradient(loss, [v])

    @tf.function
    def traced_grad(scale):  # the all-reduce as a numpy_function op of the traced graph
        with tf.GradientTape() as t1:
            loss = tf.reduce_sum(v * scale)
        return hvd.DistributedGradientTape(t1, op=hvd.Sum).gradient(loss, [v])[0]

    from minitf.distribute import collective
    from minitf.distribute._mpi import world

    buf = np.array([1.0, 2.0], np.float32) * (rank + 1)
    # one fused call, three dtypes: each packed and reduced apart, shapes and dtypes kept
    mixed = collective.allreduce_fused([tf.constant([[1.0, 2.0]]) * float(rank + 1),
                                        tf.constant([3 + rank, 4]),
                                        tf.constant(np.float64(rank))], average=True)
    return {
        "inplace_is_buf": world().allreduce_sum_inplace(buf) is buf, "inplace": buf,
        "mixed_f32": mixed[0].numpy(), "mixed_i32": mixed[1].numpy(), "mixed_f64": mixed[2].numpy(),
        "replicas": s.num_replicas_in_sync, "task_id": s.cluster_resolver.task_id,
        "avg": hvd.allreduce(x).numpy(), "sum": hvd.allreduce(x, op=hvd.Sum).numpy(),
        "bcast": hvd.broadcast(x, root_rank=1).numpy(), "var": v.numpy(), "tape_grad": grad.numpy(),
        "traced_grads": np.stack([traced_grad(tf.constant(float(rank + k))).numpy()
                                  for k in (1, 2)]),
        "gather": hvd.allgather(tf.ones([rank + 1, 2]) * rank).numpy(),
        "red_sum": s.reduce(tf.distribute.ReduceOp.SUM, x).numpy(),
        "red_mean_axis": s.reduce("MEAN", tf.constant([1.0, 3.0][: rank + 1]), axis=0).numpy(),
    }


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)  # the same data on every rank
    x = rng.normal(size=(64, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)


def _model() -> tf.keras.Model:
    m = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                             tf.keras.layers.Dense(3)])
    m.build((None, 4))
    return m


def _compile(m: tf.keras.Model) -> None:
    m.compile(optimizer=tf.keras.optimizers.SGD(0.2),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _one_process_fit(init: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> dict:
    """The reference: one process, global batches of 16, from rank 0's initial weights."""
    ref = _model()
    ref.set_weights(init)
    _compile(ref)
    hist = ref.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {f"ref{i}": w for i, w in enumerate(ref.get_weights())} | {
        "ref_loss": np.array(hist.history["loss"])}


def fit(rank: int) -> dict:
    tf.random.set_seed(rank)  # different initial weights: rank 0's must win
    x, y = _data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = _model()
        _compile(model)
    init = model.get_weights()
    ckpt = tf.keras.callbacks.ModelCheckpoint(str(OUT / f"ckpt-{rank}.weights.h5"),
                                              save_weights_only=True)
    hist = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=2, callbacks=[ckpt])
    out = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    out["loss"] = np.array(hist.history["loss"])
    if rank == 0:  # the chief writes the checkpoint
        model.save_weights(str(OUT / "fit.weights.h5"))
    # shuffled epochs: every rank draws the same order (rank 0's generator), whatever its seed
    model.fit(x, y, batch_size=16, epochs=1, shuffle=True, verbose=0)
    out["next_draw"] = tf.random.get_global_generator().integers(2**31, size=3)
    out["shuffled_w0"] = model.get_weights()[0]
    init0 = [hvd.broadcast(w, root_rank=0).numpy() for w in init]
    return out | _one_process_fit(init0, x, y)


def fit_shm(rank: int) -> dict:
    """``fit`` with every all-reduce (gradients, metric states) through the node's shared
    memory, however small."""
    from minitf.distribute import _mpi

    _mpi.SHM_MIN_BYTES = 0
    out = fit(rank)
    out["shm_capacity"] = np.array(_mpi.world()._shm.capacity)
    return out


def shared_sum(rank: int) -> dict:
    """The shared-memory sum against MPI's all-reduce of the same packed data: sizes that grow
    the window (and shrink again), three dtypes, a non-contiguous array, and 2 calls in a row
    per size (the two slots)."""
    from minitf.distribute import _mpi, collective

    w = _mpi.world()
    rng = np.random.default_rng(rank)
    same, calls, big = [], 0, 0
    for n in (5_000, 70_000, 300_000, 70_000, 1_000_000):
        for dtype in (np.float32, np.float64, np.int32):
            for _ in range(2):
                arrays = [(rng.normal(size=n) * 100).astype(dtype), np.arange(3, dtype=dtype),
                          (rng.normal(size=(2 * n // 4, 2)) * 10).astype(dtype)[::2, 1]]
                flat = np.concatenate([a.reshape(-1) for a in arrays])
                got = w.allreduce_sum_packed(arrays)
                big += flat.nbytes >= _mpi.SHM_MIN_BYTES
                calls += 1
                same.append(got.dtype == dtype and
                            np.array_equal(got, w.allreduce_sum_inplace(flat)))
    grads = [rng.normal(size=(300, 100)).astype(np.float32) * (rank + 1),
             rng.normal(size=100).astype(np.float32)]
    mean = collective.allreduce_fused(grads, average=True)
    shm_used = w._shm is not None and w._shm.capacity > 0
    # over the window's limit: MPI's all-reduce, the window left as it was
    _mpi.SHM_WINDOW_BYTES, capacity = 2 * 1024 * 1024, w._shm.capacity
    big_one = [rng.normal(size=1_000_000).astype(np.float32)]
    same.append(np.array_equal(w.allreduce_sum_packed(big_one),
                               w.allreduce_sum_inplace(big_one[0].copy())))
    kept = w._shm.capacity == capacity
    # no window to be had (a full /dev/shm) on every rank: MPI from then on, the same sums
    from mpi4py import MPI

    def no_window(nbytes: int) -> None:
        raise MPI.Exception(MPI.ERR_NO_MEM)

    w._shm = _mpi._SharedSum(w.comm)
    w._shm._allocate = no_window
    small = [rng.normal(size=30_000).astype(np.float32)]
    same.append(np.array_equal(w.allreduce_sum_packed(small),
                               w.allreduce_sum_inplace(small[0].copy())))
    return {"same": np.array(same), "big_calls": np.array(big), "calls": np.array(calls),
            "shm_used": np.array(shm_used), "limit_kept_window": np.array(kept),
            "fell_back": np.array(w._shm is None),
            "mean0": mean[0].numpy(), "mean1": mean[1].numpy(),
            "both0": np.stack(w.allgather(grads[0][None])), "both1": np.stack(
                w.allgather(grads[1][None]))}


def custom_loop(rank: int) -> dict:
    tf.random.set_seed(rank)
    x, y = _data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = _model()
        opt = tf.keras.optimizers.SGD(0.2)
    init0 = [hvd.broadcast(w, root_rank=0).numpy() for w in model.get_weights()]
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(yb, model(xb)))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))
        return loss

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    losses = [strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(step, args=b))
              for b in strategy.experimental_distribute_dataset(ds)]
    out = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    ref = _model()
    ref.set_weights(init0)
    ref_opt = tf.keras.optimizers.SGD(0.2)
    for lo in range(0, 64, 16):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(y[lo:lo + 16], ref(x[lo:lo + 16])))
        ref_opt.apply_gradients(zip(tape.gradient(loss, ref.trainable_variables),
                                    ref.trainable_variables))
    out.update({f"ref{i}": w for i, w in enumerate(ref.get_weights())})
    out["losses"] = np.array([float(v.numpy()) for v in losses])
    return out


def hvd_fit(rank: int) -> dict:
    """Horovod's recipe: shard by hand, DistributedOptimizer, broadcast callback."""
    tf.random.set_seed(rank)
    x, y = _data()
    model = _model()
    model.compile(optimizer=hvd.DistributedOptimizer(tf.keras.optimizers.SGD(0.2)),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    init0 = [hvd.broadcast(w, root_rank=0).numpy() for w in model.get_weights()]
    # rank r's k-th batch of 8 and the other rank's make up global batch k of 16
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shard(hvd.size(), hvd.rank()).batch(8)
    model.fit(ds, epochs=3, verbose=0, callbacks=[hvd.BroadcastGlobalVariablesCallback(0)])
    out = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    return out | _one_process_fit(init0, x, y)


def pipeline(rank: int) -> dict:
    """Two stages (Dense on rank 0, Dense-Dense on rank 1), 4 micro-batches of 4."""
    from minitf.distribute.pipeline import PipelineModel

    tf.random.set_seed(rank)
    x, y = _data()
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                                 tf.keras.layers.Dense(8, activation="tanh"),
                                 tf.keras.layers.Dense(3)])
    model.build((None, 4))
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    pipe = PipelineModel(model, loss_fn, tf.keras.optimizers.SGD(0.2), micro_batches=4)
    init0 = model.get_weights()  # rank 0's, broadcast by PipelineModel
    losses = [pipe.train_step(x[lo:lo + 16], y[lo:lo + 16]) for lo in range(0, 64, 16)]
    ref = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                               tf.keras.layers.Dense(8, activation="tanh"),
                               tf.keras.layers.Dense(3)])
    ref.build((None, 4))
    ref.set_weights(init0)
    opt, ref_losses = tf.keras.optimizers.SGD(0.2), []
    for lo in range(0, 64, 16):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[lo:lo + 16], ref(x[lo:lo + 16]))
        opt.apply_gradients(zip(tape.gradient(loss, ref.trainable_variables),
                                ref.trainable_variables))
        ref_losses.append(float(loss.numpy()))
    own = [id(v) for v in pipe.variables]
    mine = [i for i, v in enumerate(model.weights) if id(v) in own]
    return {"stage": np.array(mine), "losses": np.array(losses), "ref_losses": np.array(ref_losses),
            **{f"w{i}": model.get_weights()[i] for i in mine},
            **{f"ref{i}": ref.get_weights()[i] for i in mine}}


def _two_input_model() -> tf.keras.Model:
    a, b = tf.keras.Input((2,)), tf.keras.Input((2,))
    h = tf.keras.layers.Dense(8, activation="tanh")(tf.keras.layers.Concatenate()([a, b]))
    return tf.keras.Model([a, b], tf.keras.layers.Dense(3)(h))


def two_inputs(rank: int) -> dict:
    """fit and predict of a model with two inputs: each input array cut alike."""
    tf.random.set_seed(rank)
    x, y = _data()
    xs = [x[:, :2], x[:, 2:]]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = _two_input_model()
        _compile(model)
    ref = _two_input_model()
    ref.set_weights(model.get_weights())  # rank 0's, broadcast at creation
    _compile(ref)
    model.fit(xs, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    ref.fit(xs, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    out = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    out |= {f"ref{i}": w for i, w in enumerate(ref.get_weights())}
    out |= {"pred": model.predict(xs, batch_size=16), "ref_pred": ref.predict(xs, batch_size=16)}
    model.fit(xs, y, batch_size=16, epochs=1, shuffle=True, verbose=0)  # shares of gathers
    return out | {"shuffled_w0": model.get_weights()[0]}


def fail(rank: int) -> dict:
    hvd.init()
    if rank == 1:
        raise RuntimeError("worker failure on purpose")
    hvd.allreduce(tf.constant([1.0]))  # rank 0 would wait here forever without the abort
    return {}


def die(rank: int) -> dict:
    hvd.init()
    if rank == 1:
        os._exit(3)  # a crash: no exception, no excepthook
    hvd.allreduce(tf.constant([1.0]))
    return {}


def evaluate(rank: int) -> dict:
    """evaluate/predict under the strategy (each rank its share) vs one process's."""
    x, y = _data()
    tf.random.set_seed(rank)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = _model()  # rank 0's weights, broadcast at creation
        model.compile(optimizer="sgd", metrics=["accuracy"],
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ref = _model()
    ref.set_weights(model.get_weights())
    ref.compile(optimizer="sgd", metrics=["accuracy"],
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return {"eval": np.array(model.evaluate(x, y, batch_size=16, verbose=0)),
            "ref_eval": np.array(ref.evaluate(x, y, batch_size=16, verbose=0)),
            "pred": model.predict(x, batch_size=16), "ref_pred": ref.predict(x, batch_size=16),
            "pred_odd": model.predict(x[:37], batch_size=16),  # last batch of 5: 2 + 3 rows
            "ref_pred_odd": ref.predict(x[:37], batch_size=16)}


if __name__ == "__main__":
    mode, OUT = sys.argv[1], Path(sys.argv[2])
    r = hvd.rank()
    result = globals()[mode](r)
    np.savez(OUT / f"{mode}.{r}.npz", **result)
