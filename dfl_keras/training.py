"""Training runs that survive being killed: atomic saves, and the callbacks of a resumable run.

A run writing ``model.keras`` keeps its losses in ``model.log.csv`` and, while
it runs, a backup in ``model.backup/`` from which the same run resumes.
"""

from pathlib import Path

import keras
import tensorflow as tf

from dfl_keras import distribute


def save_atomically(model, path):
    """Save beside `path`, then rename onto it: a crash mid-save never leaves a broken model.

    Example:

    >>> import tempfile
    >>> from dfl_keras import LatentAttributeModel
    >>> path = Path(tempfile.mkdtemp()) / "model.keras"
    >>> save_atomically(LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16)), path)
    >>> sorted(p.name for p in path.parent.iterdir())
    ['model.keras']
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def run_files(output):
    """(backup folder, CSV log) of the run that writes the model file `output`."""
    output = Path(output)
    return output.with_suffix(".backup"), output.with_suffix(".log.csv")


def check_run(output, resume=False, overwrite=False):
    """Refuse, before any work, a run that would lose or mix up what an earlier run wrote."""
    output = Path(output)
    if output.suffix != ".keras":
        raise ValueError(f"the model file must end in .keras. Received: output={str(output)!r}")
    backup, _ = run_files(output)
    if backup.exists() and not resume:
        raise FileExistsError(f"an interrupted run left {backup}: add --resume to continue it, "
                              "or delete it to start over")
    if resume and not backup.exists():
        raise FileNotFoundError(f"nothing to resume: no {backup} (deleted when a run finishes)")
    if output.exists() and not (resume or overwrite):
        raise FileExistsError(f"{output} exists: choose another -o, or add --overwrite")


def run_callbacks(output, resume=False, tensorboard=None, strategy=None):
    """CSV log, checkpoint each epoch and TensorBoard (on the chief only), then the backup.

    Args:
        output: the model file (.keras), saved after every epoch.
        resume: append to the log of the run being resumed.
        tensorboard: a folder for TensorBoard logs, or None.
        strategy: the tf.distribute strategy (default: the current one).
    """
    output = Path(output)
    backup, log = run_files(output)
    strategy = strategy or tf.distribute.get_strategy()
    callbacks = []
    if strategy.extended.should_checkpoint:  # the chief, or the only worker, writes files
        output.parent.mkdir(parents=True, exist_ok=True)
        callbacks += [keras.callbacks.CSVLogger(str(log), append=resume),
                      keras.callbacks.ModelCheckpoint(str(output))]
        if tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(tensorboard))
    # Last, so a backup exists only once its epoch is logged and checkpointed.
    callbacks.append(distribute.BackupAndRestore(str(backup), double_checkpoint=True))
    return callbacks
