"""SIGKILL training at random instants, inside the backup write too, and resume each time.

The child trains as `dfl train` does (ModelCheckpoint, then BackupAndRestore
owning the CSV log) and kills itself at a random moment: after a random delay,
or just before or after one of the atomic renames that commit a file.
"""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import dfl_keras  # noqa: F401  (registers LatentAttributeModel for load_model)

EPOCHS = 6
CHILD = r"""
import os, random, signal, sys, threading
from pathlib import Path
import keras, numpy as np
from dfl_keras import LatentAttributeModel, atomic, distribute

folder, mode, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
chance = random.Random(seed)
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if mode in ("before-rename", "after-rename"):
    replace, calls, fatal = os.replace, [0], chance.randrange(1, 7)
    def replace_then_maybe_die(source, target):
        calls[0] += 1
        if mode == "before-rename" and calls[0] == fatal:
            die()
        replace(source, target)
        if mode == "after-rename" and calls[0] == fatal:
            die()
    atomic.os.replace = replace_then_maybe_die
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).random((8, 16, 16, 3)).astype("float32")
model = LatentAttributeModel(image_size=16, latent_dim=4, filters=(4, 8))
model.compile(optimizer="adam")
callbacks = [keras.callbacks.ModelCheckpoint(str(folder / "m.keras")),
             distribute.BackupAndRestore(folder / "m.backup", log=folder / "m.log.csv")]
if mode == "delay":
    threading.Timer(chance.uniform(0.0, 1.5), die).start()
model.fit(images, epochs={epochs}, batch_size=4, callbacks=callbacks, verbose=0)
""".replace("{epochs}", str(EPOCHS))


@pytest.mark.slow
def test_killed_anywhere_training_resumes_and_logs_every_epoch_once(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    modes = ["before-rename", "after-rename", "delay"] * 2
    random.Random(13).shuffle(modes)
    kills = []
    for seed, mode in enumerate(modes + ["none"]):
        run = subprocess.run([sys.executable, str(script), str(tmp_path), mode, str(seed)],
                             env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode in (0, -signal.SIGKILL), run.stderr[-2000:]
        if run.returncode == 0:
            break
        kills.append(mode)
    assert len(kills) >= 5 and {"before-rename", "after-rename"} <= set(kills)
    rows = (tmp_path / "m.log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,")
    assert [int(row.split(",")[0]) for row in rows[1:]] == list(range(EPOCHS))
    assert not (tmp_path / "m.backup").exists()
    assert not [p.name for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert keras.saving.load_model(tmp_path / "m.keras").latent_dim == 4
