"""Encoder and decoder builders.

Two architectures, both functional `keras.Model`s:

- ``"strided"`` (the default): stride-2 4x4 convolutions down to a 4x4 map,
  a dense latent layer, and the mirror image with transposed convolutions.
  On a 2-core CPU the FLOPs budget decides how good a face gets in a given
  time, and stride-2 convolutions spend every multiply-add on a useful
  resolution: at 64 px it needs half the multiply-adds of the original
  network and, in the same 12-minute budget, reconstructs held-out faces
  3 dB better (see ``benchmarks/bench_architectures.py``).
- ``"original"``: the DeepFakeLab notebook's network scaled to the image size:
  Conv2D 4x4 + MaxPool + BatchNorm blocks, global average pooling, and a
  mirrored Conv2DTranspose + UpSampling decoder. Kept for comparison.
"""

import math

import keras
from keras import layers

ARCHITECTURES = ("strided", "original")


def default_filters(image_size, architecture="strided"):
    """Filters per resolution block: 32, 64, ... doubling, capped at 256."""
    check_image_size(image_size)
    blocks = int(math.log2(image_size // 4))
    if architecture == "original":
        blocks = 4
    return tuple(min(32 * 2**i, 256) for i in range(blocks))


def build_encoder(image_size, latent_dim, filters, variational=True, architecture="strided"):
    """Images (N, S, S, 3) in [0, 1] -> ``[z_mean, z_log_var]`` (or ``z`` if not variational)."""
    images = keras.Input((image_size, image_size, 3), name="images")
    x = images
    if architecture == "strided":
        for f in filters:
            x = layers.Conv2D(f, 4, strides=2, padding="same", activation="relu")(x)
        x = layers.Flatten()(x)
    elif architecture == "original":
        for f in filters:
            x = layers.Conv2D(f, 4, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D()(x)
            x = layers.BatchNormalization()(x)
        x = layers.GlobalAveragePooling2D()(x)
    else:
        raise ValueError(f"Unknown architecture {architecture!r}; choose one of {ARCHITECTURES}.")
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    if not variational:
        return keras.Model(images, z_mean, name="encoder")
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(image_size, latent_dim, filters, architecture="strided"):
    """Codes (N, latent_dim) -> images (N, S, S, 3) in [0, 1]."""
    z = keras.Input((latent_dim,), name="z")
    start = image_size // 2 ** len(filters)
    x = layers.Dense(start * start * filters[-1], activation="relu")(z)
    x = layers.Reshape((start, start, filters[-1]))(x)
    # Mirror of the encoder: each upsampling step halves the channels.
    for f in list(reversed(filters))[1:] + [filters[0]]:
        if architecture == "strided":
            x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation="relu")(x)
        else:
            x = layers.Conv2DTranspose(f, 4, padding="same", activation="relu")(x)
            x = layers.UpSampling2D()(x)
            x = layers.BatchNormalization()(x)
    images = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="images")(x)
    return keras.Model(z, images, name="decoder")


def check_image_size(image_size):
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(
            f"image_size must be a power of two >= 16 (e.g. 64 or 128), got {image_size}."
        )
