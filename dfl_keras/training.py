"""Training runs that survive being killed: the files and callbacks of a resumable run.

A run writing ``model.keras`` keeps its losses in ``model.log.csv`` and, while
it runs, a backup in ``model.backup/`` from which the same run resumes.
"""

from pathlib import Path

import keras
import tensorflow as tf

from dfl_keras import distribute


def run_files(output):
    """(backup folder, CSV log) of the run that writes the model file `output`."""
    output = Path(output)
    return output.with_suffix(".backup"), output.with_suffix(".log.csv")


def check_run(output, resume=False, overwrite=False):
    """Refuse, before any work, a run that would lose or mix up what an earlier run wrote."""
    output = Path(output)
    if output.suffix != ".keras":
        raise ValueError(f"the model file must end in .keras. Received: output={str(output)!r}")
    if output.is_dir():
        raise IsADirectoryError(f"{output} is a folder: name the model file, e.g. "
                                f"{output / 'model.keras'}")
    backup, _ = run_files(output)
    if backup.exists() and not resume:
        raise FileExistsError(f"an interrupted run left {backup}: add --resume to continue it, "
                              "or delete it to start over")
    if resume and not backup.exists():
        raise FileNotFoundError(f"nothing to resume: no {backup} (deleted when a run finishes)")
    if output.exists() and not (resume or overwrite):
        raise FileExistsError(f"{output} exists: choose another -o, or add --overwrite")


def run_callbacks(output, tensorboard=None, strategy=None):
    """Checkpoint each epoch and TensorBoard (on the chief only), then the backup and its log.

    Args:
        output: the model file (.keras), saved after every epoch.
        tensorboard: a folder for TensorBoard logs, or None.
        strategy: the tf.distribute strategy (default: the current one).
    """
    output = Path(output)
    backup, log = run_files(output)
    strategy = strategy or tf.distribute.get_strategy()
    callbacks = []
    if strategy.extended.should_checkpoint:  # the chief, or the only worker, writes files
        output.parent.mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.ModelCheckpoint(str(output)))  # atomic: model.save
        if tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(tensorboard))
    # Last, so a backup exists only once its epoch is checkpointed; it writes the log itself,
    # so a resumed run logs every epoch once.
    callbacks.append(distribute.BackupAndRestore(backup, log=log))
    return callbacks
