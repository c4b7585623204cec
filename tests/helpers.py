"""Tiny models and data made in the tests."""

import threading
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import dfl_keras as dfl
from dfl_keras.model import LOSS_WEIGHTS

SIZE = 16


def tiny_model(**kwargs):
    """A compiled 16 px model; loss weights (beta, ...) go to compile(), the rest to the class."""
    loss = {name: kwargs.pop(name) for name in LOSS_WEIGHTS if name in kwargs}
    kwargs.setdefault("image_size", SIZE)
    kwargs.setdefault("latent_dim", 8)
    kwargs.setdefault("filters", (8, 16))
    model = dfl.LatentAttributeModel(**kwargs)
    model.compile(optimizer="adam", **loss)
    return model


def assert_serialization_round_trip(instance, path):
    """get_config holds exactly the constructor's arguments, and a saved file loads as an equal."""
    config = instance.get_config()
    rebuilt = type(instance).from_config(config)
    assert rebuilt.get_config() == config
    instance.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(instance) and loaded.get_config() == config
    for saved, restored in zip(instance.weights, loaded.weights):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    return loaded


def random_images(n, size=SIZE, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


def two_labels(n):
    """Labels "A" and "B" with both classes present and independent of each other."""
    return {"A": (np.arange(n) % 2).astype(np.int32), "B": ((np.arange(n) // 2) % 2).astype(np.int32)}


def labelled_dataset(n=64, seed=0):
    images, labels = random_images(n, seed=seed), two_labels(n)
    return images, labels, tf.data.Dataset.from_tensor_slices((images, labels))


def saved_tiny_editor(folder):
    """A saved tiny model with vectors "A" and "B", a code distribution and the CelebA-HQ face
    template: what the CLI tests edit with."""
    from dfl_keras.photos import CELEBA_HQ_TEMPLATE

    keras.utils.set_random_seed(0)
    model = tiny_model()
    model.face_template = CELEBA_HQ_TEMPLATE
    model.fit(random_images(32), epochs=1, batch_size=8, verbose=0)
    model.fit_attribute_vectors(labelled_dataset(32)[2], ["A", "B"], verbose=0)
    path = Path(folder) / "tiny.keras"
    model.save(path)
    return path


def run_in_threads(work, threads):
    """Run work() in that many threads at once; the exceptions they raised, for the test to assert."""
    errors = []

    def guarded():
        try:
            work()
        except Exception as error:  # noqa: BLE001  (returned for the caller's assert)
            errors.append(error)

    started = [threading.Thread(target=guarded) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors
