"""minitf.distribute under ``mpiexec -n 2`` (tests/mpi_worker.py runs on each rank), and the
1-worker fallback in this process. Never more than 2 ranks; every MPI run has a timeout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minitf as tf

WORKER = Path(__file__).parent / "mpi_worker.py"
MPIEXEC = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                       f"{os.environ.get('PATH', '')}")


def _mpirun(mode: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install '.[distributed]')")
    if MPIEXEC is None:
        pytest.skip("no mpiexec on PATH or next to the Python executable")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent), OMP_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(WORKER), mode, str(tmp_path)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def _results(mode: str, tmp_path: Path) -> list[dict]:
    proc = _mpirun(mode, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [dict(np.load(tmp_path / f"{mode}.{r}.npz")) for r in (0, 1)], proc


def test_collectives_on_two_ranks(tmp_path):
    ranks, _ = _results("collectives", tmp_path)
    for r, d in enumerate(ranks):
        assert d["replicas"] == 2 and d["task_id"] == r
        np.testing.assert_allclose(d["avg"], [1.5, 3.0])  # hvd.allreduce averages by default
        np.testing.assert_allclose(d["sum"], [3.0, 6.0])
        np.testing.assert_allclose(d["red_sum"], [3.0, 6.0])
        np.testing.assert_allclose(d["bcast"], [2.0, 4.0])  # rank 1's value
        np.testing.assert_allclose(d["var"], [0.0, 10.0])  # rank 0's variable
        np.testing.assert_allclose(d["tape_grad"], [1.5, 1.5])  # mean of 1 and 2
        np.testing.assert_allclose(d["traced_grads"], [[3, 3], [5, 5]])  # 1 + 2, then 2 + 3
        np.testing.assert_allclose(d["gather"], [[0, 0], [1, 1], [1, 1]])  # uneven first dims
        np.testing.assert_allclose(d["red_mean_axis"], 5 / 3, rtol=1e-6)  # (1 + 1 + 3) / 3
        assert d["inplace_is_buf"]  # MPI_IN_PLACE: the caller's buffer holds the sum
        np.testing.assert_array_equal(d["inplace"], [3.0, 6.0])
        assert d["mixed_f32"].dtype == np.float32 and d["mixed_f32"].shape == (1, 2)
        np.testing.assert_array_equal(d["mixed_f32"], [[1.5, 3.0]])
        assert d["mixed_i32"].dtype == np.int32  # the integer mean truncated: 7 / 2 -> 3
        np.testing.assert_array_equal(d["mixed_i32"], [3, 4])
        assert d["mixed_f64"].dtype == np.float64 and d["mixed_f64"] == 0.5


@pytest.mark.parametrize("mode", ["fit", "fit_shm", "custom_loop", "hvd_fit"])
def test_data_parallel_training_equals_one_process(mode, tmp_path):
    """Each rank trains on half of each global batch; the result is one process's training on
    the global batches, and the weights are the same on both ranks."""
    ranks, proc = _results(mode, tmp_path)
    n = len([k for k in ranks[0] if k.startswith("w")])
    for i in range(n):
        np.testing.assert_array_equal(ranks[0][f"w{i}"], ranks[1][f"w{i}"])
        np.testing.assert_allclose(ranks[0][f"w{i}"], ranks[0][f"ref{i}"], rtol=1e-4, atol=1e-5)
    if mode == "fit_shm":  # every all-reduce went through the node's shared memory
        assert all(d["shm_capacity"] > 0 for d in ranks)
    if mode in ("fit", "fit_shm"):  # only rank 0 prints progress; the epoch's loss is global
        assert proc.stdout.count("Epoch 3/3") == 1, proc.stdout
        for d in ranks:
            np.testing.assert_allclose(d["loss"], d["ref_loss"], rtol=1e-4)
        np.testing.assert_array_equal(ranks[0]["next_draw"], ranks[1]["next_draw"])
        np.testing.assert_array_equal(ranks[0]["shuffled_w0"], ranks[1]["shuffled_w0"])
        assert (tmp_path / "ckpt-0.weights.h5").exists()  # ModelCheckpoint: rank 0 only
        assert not (tmp_path / "ckpt-1.weights.h5").exists()
        # rank 0's checkpoint resumes in one process
        m = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                                 tf.keras.layers.Dense(3)])
        m.build((None, 4))
        m.load_weights(str(tmp_path / "fit.weights.h5"))
        for i, w in enumerate(m.get_weights()):
            np.testing.assert_array_equal(w, ranks[0][f"w{i}"])
    if mode == "custom_loop":  # strategy.reduce gives every rank the same losses
        np.testing.assert_array_equal(ranks[0]["losses"], ranks[1]["losses"])


def test_shared_memory_sum_equals_mpi_allreduce(tmp_path):
    """Ranks on one node sum large arrays through a shared-memory window: bit for bit MPI's
    all-reduce of the same packed data, whatever the dtype, size (the window grows) or call;
    data over the window's limit, or no window to be had, goes through MPI, with the same
    sums."""
    ranks, _ = _results("shared_sum", tmp_path)
    for d in ranks:
        assert d["shm_used"] and d["big_calls"] > 0 and d["big_calls"] < d["calls"]
        assert d["limit_kept_window"] and d["fell_back"]
        assert d["same"].all(), np.flatnonzero(~d["same"])
        np.testing.assert_array_equal(d["mean0"], (d["both0"][0] + d["both0"][1]) / 2)
        np.testing.assert_array_equal(d["mean1"], (d["both1"][0] + d["both1"][1]) / 2)


def test_evaluate_and_predict_aggregate_across_workers(tmp_path):
    """Each rank evaluates and predicts its share of every batch; the metrics are summed and
    the predictions gathered, so every rank gets one process's results."""
    ranks, _ = _results("evaluate", tmp_path)
    for d in ranks:
        np.testing.assert_allclose(d["eval"], d["ref_eval"], rtol=1e-5)
        np.testing.assert_allclose(d["pred"], d["ref_pred"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d["pred_odd"], d["ref_pred_odd"], rtol=1e-5, atol=1e-6)
        assert d["pred"].shape == (64, 3) and d["pred_odd"].shape == (37, 3)


def test_a_model_with_two_inputs_trains_and_predicts_on_two_ranks(tmp_path):
    """Every input array is cut alike (not the list of inputs): one process's training."""
    ranks, _ = _results("two_inputs", tmp_path)
    for i in range(len([k for k in ranks[0] if k.startswith("w")])):
        np.testing.assert_array_equal(ranks[0][f"w{i}"], ranks[1][f"w{i}"])
        np.testing.assert_allclose(ranks[0][f"w{i}"], ranks[0][f"ref{i}"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ranks[0]["shuffled_w0"], ranks[1]["shuffled_w0"])
    for d in ranks:
        assert d["pred"].shape == (64, 3)
        np.testing.assert_allclose(d["pred"], d["ref_pred"], rtol=1e-5, atol=1e-6)


def test_gpipe_pipeline_equals_one_process(tmp_path):
    """Stages on two ranks, 4 micro-batches: each rank's weights and the losses are one
    process's training on the same batches."""
    ranks, _ = _results("pipeline", tmp_path)
    assert list(ranks[0]["stage"]) == [0, 1] and list(ranks[1]["stage"]) == [2, 3, 4, 5]
    for d in ranks:
        np.testing.assert_allclose(d["losses"], d["ref_losses"], rtol=1e-5)
        for i in d["stage"]:
            np.testing.assert_allclose(d[f"w{i}"], d[f"ref{i}"], rtol=1e-4, atol=1e-6)


def test_a_failing_worker_ends_the_job_naming_its_rank(tmp_path):
    t0 = time.monotonic()
    proc = _mpirun("fail", tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "rank 1 of 2 failed" in proc.stderr and "worker failure on purpose" in proc.stderr
    assert time.monotonic() - t0 < 30  # ended by MPI_Abort, not by the timeout


def test_a_dead_worker_ends_the_job(tmp_path):
    """A rank that exits without an exception (a crash): mpiexec ends the others at once."""
    t0 = time.monotonic()
    proc = _mpirun("die", tmp_path, timeout=60)
    assert proc.returncode != 0 and not (tmp_path / "die.0.npz").exists()
    assert time.monotonic() - t0 < 30


def test_one_worker_without_a_launcher():
    """Not started by mpiexec: a 1-worker strategy, identity collectives, no MPI imported."""
    import minitf.distribute.hvd as hvd

    s = tf.distribute.MultiWorkerMirroredStrategy()
    assert s.num_replicas_in_sync == 1 and s.cluster_resolver.task_id == 0
    assert hvd.size() == 1 and hvd.rank() == 0 and hvd.local_rank() == 0
    np.testing.assert_allclose(hvd.allreduce(tf.constant([1.0, 3.0])).numpy(), [1.0, 3.0])
    np.testing.assert_allclose(s.reduce("SUM", tf.constant([2.0]), axis=None).numpy(), [2.0])
    with s.scope():
        assert tf.distribute.get_strategy() is s
        m = tf.keras.Sequential([tf.keras.layers.Dense(2)])
        m.compile(optimizer="sgd", loss="mse")
    assert tf.distribute.get_strategy() is None
    x = np.ones((8, 3), np.float32)
    m.fit(x, np.zeros((8, 2), np.float32), batch_size=4, epochs=1, verbose=0)
    assert not m._run_eagerly  # one worker: nothing to all-reduce, the step stays traced


def test_allreduce_sum_inplace_on_one_worker():
    from minitf.distribute._mpi import World

    a = np.arange(4, dtype=np.float32)
    assert World().allreduce_sum_inplace(a) is a  # one worker: the sum is the array itself
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="C-contiguous"):
        World().allreduce_sum_inplace(np.zeros((4, 4), np.float32)[:, 1])


def test_allreduce_sum_packed_on_one_worker():
    from minitf.distribute._mpi import World

    parts = [np.arange(3, dtype=np.float32), np.ones((2, 2), np.float32)[:, 0]]
    flat = World().allreduce_sum_packed(parts)  # one worker: the arrays packed, a new array
    np.testing.assert_array_equal(flat, [0, 1, 2, 1, 1])
    assert flat.dtype == np.float32 and not np.shares_memory(flat, parts[0])


def test_dataset_shard():
    ds = tf.data.Dataset.range(10)
    assert [int(v) for v in ds.shard(3, 1)] == [1, 4, 7]
    assert len(ds.shard(3, 0)) == 4 and len(ds.shard(3, 2)) == 3
    with pytest.raises(ValueError, match="index < num_shards"):
        ds.shard(2, 2)


def test_compute_average_loss():
    per_example = tf.constant([1.0, 2.0, 3.0, 4.0])
    assert float(tf.nn.compute_average_loss(per_example).numpy()) == pytest.approx(2.5)
    assert float(tf.nn.compute_average_loss(per_example, global_batch_size=8).numpy()) == 1.25
    w = tf.constant([1.0, 0.0, 1.0, 0.0])
    assert float(tf.nn.compute_average_loss(per_example, sample_weight=w).numpy()) == 1.0


def test_allreduce_refuses_symbolic_tensors_on_several_workers():
    from minitf.distribute import collective

    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [2])
        with pytest.raises(TypeError, match="symbolic"):
            collective.to_numpy(x, "gradient")


def _mirrored_case():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    m = tf.keras.Sequential([tf.keras.layers.Dense(5, activation="tanh"), tf.keras.layers.Dense(2)])
    m.build((None, 4))
    return x, y, m, [v.numpy() for v in m.trainable_variables]


@pytest.mark.filterwarnings("ignore:tf.device:RuntimeWarning")  # no GPU here: soft placement
def test_mirrored_strategy_run_sums_replica_gradients_into_one_update():
    """Two replicas (/CPU:0, /GPU:0) in one process, each on half of every global batch, end
    with the weights of plain SGD on the global batches; one optimizer step per global batch."""
    x, y, m, init = _mirrored_case()
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="none")
    strategy = tf.distribute.MirroredStrategy(devices=["/CPU:0", "/GPU:0"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        opt = tf.keras.optimizers.SGD(0.3)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)

    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(yb, m(xb)), global_batch_size=16)
        opt.apply_gradients(zip(tape.gradient(loss, m.trainable_variables),
                                m.trainable_variables))
        return loss

    losses = []
    for xb, yb in strategy.experimental_distribute_dataset(ds):
        per_replica = strategy.run(step, args=(xb, yb))
        assert [int(v.shape[0]) for v in xb.values] == [8, 8]
        losses.append(float(strategy.reduce("SUM", per_replica).numpy()))
    assert int(opt.iterations.numpy()) == 2
    got = [v.numpy() for v in m.trainable_variables]

    for v, w in zip(m.trainable_variables, init):  # the same on one replica, global batches
        v.assign(w)
    ref_opt = tf.keras.optimizers.SGD(0.3)
    ref_losses = []
    for xb, yb in ds:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(yb, m(xb)))
        ref_opt.apply_gradients(zip(tape.gradient(loss, m.trainable_variables),
                                    m.trainable_variables))
        ref_losses.append(float(loss.numpy()))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    for a, b in zip(got, [v.numpy() for v in m.trainable_variables]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_mirrored_strategy_reduce_and_bad_devices():
    s = tf.distribute.MirroredStrategy()
    assert s.num_replicas_in_sync == 1
    from minitf.distribute import PerReplica

    s2 = tf.distribute.MirroredStrategy(["/cpu:0", "/device:GPU:0"])
    v = PerReplica((tf.constant([1.0, 3.0]), tf.constant([5.0])))
    assert float(s2.reduce(tf.distribute.ReduceOp.MEAN, v, axis=0).numpy()) == pytest.approx(3.0)
    np.testing.assert_allclose(s2.reduce("SUM", tf.constant([2.0])).numpy(), [4.0])
    with pytest.raises(ValueError, match="twice"):
        tf.distribute.MirroredStrategy(["/CPU:0", "/cpu:0"])
    with pytest.raises(ValueError, match="cannot parse device name"):
        tf.distribute.MirroredStrategy(["/TPU:0"])
    with pytest.raises(ValueError, match="empty"):
        tf.distribute.MirroredStrategy([])
