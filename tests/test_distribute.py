"""tf.distribute: several replicas train and fit vectors exactly like one device.

Strategies run in subprocesses, because logical devices and TF_CONFIG must be
set before TensorFlow starts; this file is also their script
(``python test_distribute.py MODE ARGS_JSON``).
"""

import csv
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from helpers import labelled_dataset, tiny_model  # noqa: E402

from dfl_keras import distribute  # noqa: E402

N, BATCH, EPOCHS = 21, 8, 2  # the last batch (5) splits 3/2 over two replicas
WORKER_EPOCHS = 4
LABELS = ["A", "B"]


def train_and_fit(strategy, initial, epochs=EPOCHS, callbacks=()):
    """Weights, per-epoch loss, evaluation and vectors after training from ``initial`` weights."""
    images, _, data = labelled_dataset(N)
    with strategy.scope():
        # Off: the covariance penalty is a batch statistic, estimated per replica.
        model = tiny_model(variational=False, covariance_weight=0.0)
    model.load_weights(initial)
    batches = distribute.shard_by_data(tf.data.Dataset.from_tensor_slices(images).batch(BATCH))
    history = model.fit(batches, epochs=epochs, callbacks=list(callbacks), verbose=0, shuffle=False)
    evaluation = model.evaluate(batches, verbose=0, return_dict=True)
    # 17 examples: the last batch (1) leaves a replica without examples.
    vectors = model.fit_attribute_vectors(data.take(17), LABELS, batch_size=BATCH, verbose=0)
    loss = history.history["loss"]
    return {"weights": model.get_weights(), "loss": loss, "evaluation": evaluation, **vectors}


def save(path, result):
    Path(path).write_bytes(pickle.dumps(result))


def load(path):
    return pickle.loads(Path(path).read_bytes())


# ---------------------------------------------------------------- subprocess side


def run_mirrored(args):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    save(args["out"], train_and_fit(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), args["initial"]))


def run_worker(args):
    os.environ["TF_CONFIG"] = args["tf_config"]
    try:
        strategy = distribute.strategy_from_name("multiworker", peer_timeout=args["peer_timeout"])
    except TimeoutError as error:
        print(error, file=sys.stderr)
        sys.exit(3)
    callbacks = [
        distribute.BackupAndRestore(args["backup"], log=args["csv"]),  # the chief logs
        # Slow epochs give the test time to kill a worker in the middle of training.
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: time.sleep(0.5)),
    ]
    save(args["out"], train_and_fit(strategy, args["initial"], WORKER_EPOCHS, callbacks))


# ---------------------------------------------------------------- pytest side

SCRIPT = Path(__file__).resolve()


def spawn(mode, **args):
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), mode, json.dumps(args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=SCRIPT.parent,
    )


def finish(process, timeout):
    """Wait for a subprocess (killing it after ``timeout`` s); its return code and stderr."""
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"subprocess still running after {timeout} s:\n{err[-3000:]}")
    return process.returncode, err


@pytest.fixture
def initial(tmp_path):
    path = str(tmp_path / "initial.weights.h5")
    tiny_model(variational=False, covariance_weight=0.0).save_weights(path)
    return path


def assert_same_result(actual, expected):
    """Same weights, evaluation and vectors (to float rounding)."""
    for a, b in zip(actual["weights"], expected["weights"], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert actual["evaluation"] == pytest.approx(expected["evaluation"], rel=1e-6)
    for name in LABELS:
        np.testing.assert_allclose(actual[name], expected[name], atol=1e-6)


def test_strategy_names(monkeypatch):
    assert distribute.strategy_from_name("default") is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match="choose one of"):
        distribute.strategy_from_name("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(RuntimeError, match="needs TF_CONFIG"):
        distribute.strategy_from_name("multiworker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 0}}))
    with pytest.raises(RuntimeError, match="must name a chief or worker task"):
        distribute.strategy_from_name("multiworker")


def test_shard_by_data_sets_the_data_policy():
    options = distribute.shard_by_data(tf.data.Dataset.range(4)).options()
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA


def test_mirrored_on_two_devices_matches_one_device(tmp_path, initial):
    out = tmp_path / "mirrored.pkl"
    mirrored = spawn("mirrored", initial=initial, out=str(out))
    expected = train_and_fit(tf.distribute.get_strategy(), initial)
    code, err = finish(mirrored, 120)
    assert code == 0, err[-3000:]
    actual = load(out)
    assert_same_result(actual, expected)
    np.testing.assert_allclose(actual["loss"], expected["loss"], rtol=1e-6)


def start_worker(tmp_path, index, tf_configs, initial, peer_timeout=60):
    return spawn("worker", tf_config=tf_configs[index], peer_timeout=peer_timeout, initial=initial,
                 backup=str(tmp_path / "backup"), csv=str(tmp_path / f"epochs{index}.csv"),
                 out=str(tmp_path / f"worker{index}.pkl"))


def test_two_workers_survive_a_killed_worker_and_match_one_device(tmp_path, initial):
    cluster, backup, log = distribute.local_cluster(2), tmp_path / "backup", tmp_path / "epochs0.csv"
    workers = [start_worker(tmp_path, i, cluster, initial) for i in range(2)]
    expected = train_and_fit(tf.distribute.get_strategy(), initial, WORKER_EPOCHS)
    deadline = time.monotonic() + 90
    while not (backup / "training_metadata.json").exists():
        assert time.monotonic() < deadline and workers[1].poll() is None, "no backup was saved"
        time.sleep(0.05)
    workers[1].send_signal(signal.SIGKILL)
    code, _ = finish(workers[0], 60)  # the chief notices its lost peer instead of waiting forever
    assert code != 0
    workers[1].communicate()
    assert 1 <= len(log.read_text().splitlines()) - 1 < WORKER_EPOCHS  # stopped mid-training

    for worker in [start_worker(tmp_path, i, cluster, initial) for i in range(2)]:
        code, err = finish(worker, 120)
        assert code == 0, err[-3000:]
    with log.open() as f:
        epochs = list(csv.DictReader(f))
    assert [int(e["epoch"]) for e in epochs] == list(range(WORKER_EPOCHS))  # each epoch once
    np.testing.assert_allclose([float(e["loss"]) for e in epochs], expected["loss"], rtol=1e-6)
    assert not backup.exists()  # the chief deletes it once training is complete
    results = [load(tmp_path / f"worker{i}.pkl") for i in range(2)]
    for a, b in zip(results[0]["weights"], results[1]["weights"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert_same_result(results[0], expected)


def test_worker_without_peer_fails_in_bounded_time(tmp_path, initial):
    start = time.monotonic()
    code, err = finish(start_worker(tmp_path, 0, distribute.local_cluster(2), initial, peer_timeout=3), 60)
    assert code == 3
    assert "gave up after 3 s: not every task" in err
    assert time.monotonic() - start < 45


if __name__ == "__main__":
    {"mirrored": run_mirrored, "worker": run_worker}[sys.argv[1]](json.loads(sys.argv[2]))
