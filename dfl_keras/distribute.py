"""Training and fitting attribute vectors on several devices or hosts (tf.distribute).

Create the model inside ``strategy.scope()``; ``model.fit`` and
``fit_attribute_vectors`` then give the same result as on one device (to
float rounding), except for the covariance penalty, a batch statistic each
replica estimates on its own share. See docs/distributed.md.
"""

import json
import os
import shutil
import socket
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from dfl_keras import atomic

STRATEGIES = ("default", "mirrored", "multiworker")
PEER_TIMEOUT = 120.0


def strategy_from_name(name, peer_timeout=PEER_TIMEOUT):
    """The strategy behind ``dfl train --strategy NAME``.

    Args:
        name: "default" (one device), "mirrored" (all local GPUs, or the CPU)
            or "multiworker" (the cluster described by the TF_CONFIG variable).
        peer_timeout: seconds a worker waits for its peers to join ("multiworker").
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return multi_worker_strategy(peer_timeout)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


def multi_worker_strategy(peer_timeout=PEER_TIMEOUT):
    """MultiWorkerMirroredStrategy for TF_CONFIG that fails, not hangs, when a peer never starts.

    Raises:
        RuntimeError: TF_CONFIG is missing or malformed.
        TimeoutError: not every worker joined within ``peer_timeout`` seconds.
    """
    cluster, task = _tf_config()
    _bound_startup(cluster, peer_timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except tf.errors.DeadlineExceededError as error:
        raise TimeoutError(
            f"Worker {task['type']} {task['index']} gave up after {peer_timeout:g} s: not every task of "
            f"the cluster in TF_CONFIG joined ({json.dumps(cluster)}). Start all of them with the same "
            "cluster, or check their addresses and ports."
        ) from error


def local_cluster(n):
    """TF_CONFIG values for n workers on free loopback ports, to try MultiWorkerMirroredStrategy on one machine.

    Worker i runs with os.environ["TF_CONFIG"] = local_cluster(n)[i].
    """
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    workers = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return [json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}) for i in range(n)]


def shard_by_data(dataset):
    """The dataset set to shard by DATA across workers.

    Every worker runs the whole pipeline and keeps its slice of each global
    batch, so workers see exactly the batches one device would. tf.data's
    default (AUTO) tries to shard by FILE first, which only suits datasets read
    from at least as many files as there are workers.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def batch_share(images):
    """This replica's share of the global batch (1 on one device).

    Keras' optimizer sums gradients over replicas, so weighting each replica's
    mean loss by its share gives exactly the gradient of the mean over the
    global batch, even when the last batch splits unevenly.
    """
    local = tf.cast(tf.shape(images)[0], tf.float32)
    return local / tf.distribute.get_replica_context().all_reduce("SUM", local)


def spans_workers(strategy):
    """Whether replicas run in several processes (Keras then reduces metric values along axis 0)."""
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)
    )


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras.callbacks.BackupAndRestore that survives a kill at any instant and that workers share.

    Keras' callback overwrites its weights file in place, so a kill while it is
    written leaves a file no run can resume from; and it cannot tell that the
    CSV log already holds the epoch it is about to repeat. Here each epoch is
    committed by one atomic rename of ``training_metadata.json`` (dfl_keras.atomic),
    which names a whole weights file and the length of the log after that
    epoch's row. A resumed run loads those weights and cuts the log back to that
    length, so a kill loses at most the running epoch and the log lists every
    epoch once.

    Every worker restores from ``backup_dir`` but only the chief writes it, and
    the log: with Keras' callback all workers write the same files, and after a
    crash they could restore different epochs and then wait for each other
    forever. ``backup_dir`` must be a local folder or one mounted by every
    worker (atomic renames need a POSIX file system).

    Args:
        backup_dir: folder for the backup, deleted when training ends.
        log: CSV file to log each epoch's metrics to (keras.callbacks.CSVLogger's
            format), kept consistent with the backup; use it instead of a CSVLogger.
        save_freq: "epoch" or a number of batches, as in Keras.

    Example:
        >>> import tempfile, numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> backup = BackupAndRestore(f"{folder}/backup", log=f"{folder}/log.csv")
        >>> _ = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, callbacks=[backup], verbose=0)
        >>> [row.split(",")[0] for row in open(f"{folder}/log.csv").read().split()]
        ['epoch', '0', '1']
    """

    METADATA = "training_metadata.json"

    def __init__(self, backup_dir, log=None, save_freq="epoch", **keras_options):
        super().__init__(str(backup_dir), save_freq=save_freq, **keras_options)
        self.folder = Path(backup_dir)
        self.log = None if log is None else Path(log)
        self._csv = None

    def on_train_begin(self, logs=None):
        self._writes = self.model.distribute_strategy.extended.should_checkpoint
        committed = self._committed()
        if committed:
            weights = self.folder / committed["weights"]
            if self.model.optimizer is not None and not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    self.model.load_weights(str(weights))
            except ValueError as error:  # Keras warns of, then lists, every layer that differs
                raise ValueError(
                    f"the backup in {self.folder} was written by a different model (other layer "
                    "sizes): resume with the options of the interrupted run (dfl train: the "
                    f"same --image-size, --latent-dim, --filters), or delete {self.folder} to "
                    "start over") from error
            for warning in caught:  # a successful load's warnings still show
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
            if committed.get("critic") and getattr(self.model, "adversary", None):
                self.model.adversary.discriminator.load_weights(
                    str(self.folder / committed["critic"]))
            self.model._initial_epoch = committed["epoch"]
        if self._writes and self.log is not None:
            self._cut_log(committed.get("log_bytes", 0))
            self._csv = keras.callbacks.CSVLogger(str(self.log), append=True)
            self._csv.set_model(self.model)
            self._csv.on_train_begin(logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._writes:
            super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._writes and self._csv is not None:
            self._csv.on_epoch_end(epoch, logs)
        if self._writes:
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if self._csv is not None:
            self._csv.on_train_end(logs)
            self._csv = None
        if self._writes and self.delete_checkpoint and self.folder.exists():
            # Renamed first, so a kill while deleting never leaves half a backup behind.
            doomed = self.folder.with_name(f".{self.folder.name}{atomic.TEMPORARY_MARK}deleted")
            shutil.rmtree(doomed, ignore_errors=True)
            os.replace(self.folder, doomed)
            shutil.rmtree(doomed)

    def _save_model(self):
        """Commit one epoch: whole weights file, synced log, then the metadata rename."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{self._current_epoch}-batch-{self._last_batch_seen}.weights.h5"
        with atomic.replacing(self.folder / name, suffix=".weights.h5") as temporary:
            self.model.save_weights(str(temporary))
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name}
        adversary = getattr(self.model, "adversary", None)  # a VAE-GAN's critic: not in the model
        if adversary:
            metadata["critic"] = name.replace(".weights.h5", "-critic.weights.h5")
            with atomic.replacing(self.folder / metadata["critic"], suffix=".weights.h5") as temporary:
                adversary.discriminator.save_weights(str(temporary))
        if self.log is not None and self.log.exists():
            atomic.sync(self.log)
            metadata["log_bytes"] = self.log.stat().st_size
        atomic.write_bytes(self.folder / self.METADATA, json.dumps(metadata).encode())
        for stale in self.folder.iterdir():
            if stale.name not in (name, metadata.get("critic"), self.METADATA):
                stale.unlink()

    def _committed(self):
        """The metadata of the last committed epoch, or {} when there is none yet."""
        path = self.folder / self.METADATA
        if not path.exists():
            return {}
        committed = json.loads(path.read_text())
        if "weights" not in committed or not (self.folder / committed["weights"]).is_file():
            raise RuntimeError(
                f"{self.folder} was not written by dfl_keras.distribute.BackupAndRestore (or was "
                "edited): its metadata names no whole weights file. Delete it to start over."
            )
        return committed

    def _cut_log(self, length):
        """Drop log rows written after the committed epoch (in place: an open appender follows)."""
        if self.log.exists() and self.log.stat().st_size > length:
            os.truncate(self.log, length)


def _tf_config():
    raw = os.environ.get("TF_CONFIG")
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not raw:
        raise RuntimeError(f"The multiworker strategy needs TF_CONFIG describing the cluster, e.g. {example}")
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        tasks = cluster[task["type"]]
        if task["type"] not in ("chief", "worker") or not 0 <= task["index"] < len(tasks):
            raise ValueError
    except (ValueError, KeyError, TypeError) as error:
        raise RuntimeError(
            f"TF_CONFIG must name a chief or worker task of its cluster, e.g. {example}; got {raw}"
        ) from error
    return cluster, task


def _bound_startup(cluster, timeout):
    """Configure TF's coordination service so registering the workers times out.

    MultiWorkerMirroredStrategy configures the service itself, without a
    deadline, unless it already is; these are the same settings plus the
    deadline and a start-up barrier (without it the leader waits forever).
    """
    # Private TF modules, imported only here: the public API cannot bound the wait for peers.
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    jobs = [coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(cluster[job]))
            for job in ("chief", "worker") if job in cluster]
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=f"/job:{jobs[0].name}/replica:0/task:0",
        cluster_register_timeout_in_ms=int(timeout * 1000),
        coordinated_jobs=jobs,
    )
    context.context().coordination_service.cluster_register_with_barrier = True
