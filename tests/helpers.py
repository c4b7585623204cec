"""Tiny models and data made in the tests."""

import numpy as np
import tensorflow as tf

import dfl_keras as dfl

SIZE = 16


def tiny_model(**kwargs):
    kwargs.setdefault("image_size", SIZE)
    kwargs.setdefault("latent_dim", 8)
    kwargs.setdefault("filters", (8, 16))
    model = dfl.LatentAttributeModel(**kwargs)
    model.compile(optimizer="adam")
    return model


def random_images(n, size=SIZE, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


def two_labels(n):
    """Labels "A" and "B" with both classes present and independent of each other."""
    return {"A": (np.arange(n) % 2).astype(np.int32), "B": ((np.arange(n) // 2) % 2).astype(np.int32)}


def labelled_dataset(n=64, seed=0):
    images, labels = random_images(n, seed=seed), two_labels(n)
    return images, labels, tf.data.Dataset.from_tensor_slices((images, labels))
