"""Encoder and decoder builders.

Three architectures, all functional `keras.Model`s:

- ``"strided"`` (the default): stride-2 4x4 convolutions down to a 4x4 map,
  a dense latent layer, and the mirror image with transposed convolutions.
  On a 2-core CPU the FLOPs budget decides how good a face gets in a given
  time, and stride-2 convolutions spend every multiply-add on a useful
  resolution: at 64 px it needs half the multiply-adds of the original
  network and, in the same 12-minute budget, reconstructs held-out faces
  3 dB better (see ``benchmarks/bench_architectures.py``).
- ``"grown"``: the strided network of half the size plus one up-block, so it
  can start from a trained smaller model (``LatentAttributeModel.grown_from``).
  The encoder sees the image average-pooled to S/2 (a 128-d code needs no
  more); the decoder draws at S/2 and a transposed convolution adds the detail
  at S as a residual, in logits, on the bilinear upsample. Its residual starts
  at zero, so training starts from the small model's faces instead of noise:
  grown from the shipped 64 px editor, a 128 px model starts at 21.7 dB
  held-out PSNR, which a strided 128 px model from scratch had not reached
  after 5 epochs (21.25 dB, about 1.5 hours on the 2 cores).
- ``"original"``: the DeepFakeLab notebook's network scaled to the image size:
  Conv2D 4x4 + MaxPool + BatchNorm blocks, global average pooling, and a
  mirrored Conv2DTranspose + UpSampling decoder. Kept for comparison.
"""

import math

import keras
from keras import layers

ARCHITECTURES = ("strided", "grown", "original")


def default_filters(image_size, architecture="strided"):
    """Filters per resolution block: 32, 64, ... doubling, capped at 256."""
    check_image_size(image_size)
    if architecture == "grown":
        image_size //= 2
    blocks = int(math.log2(image_size // 4))
    if architecture == "original":
        blocks = 4
    return tuple(min(32 * 2**i, 256) for i in range(blocks))


def build_encoder(image_size, latent_dim, filters, variational=True, architecture="strided"):
    """Images (N, S, S, 3) in [0, 1] -> ``[z_mean, z_log_var]`` (or ``z`` if not variational)."""
    check_architecture(architecture)
    images = keras.Input((image_size, image_size, 3), name="images")
    x = images
    if architecture == "grown":
        x = layers.AveragePooling2D(2, name="half_size")(x)
    if architecture in ("strided", "grown"):
        for f in filters:
            x = layers.Conv2D(f, 4, strides=2, padding="same", activation="relu")(x)
        x = layers.Flatten()(x)
    elif architecture == "original":
        for f in filters:
            x = layers.Conv2D(f, 4, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D()(x)
            x = layers.BatchNormalization()(x)
        x = layers.GlobalAveragePooling2D()(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    if not variational:
        return keras.Model(images, z_mean, name="encoder")
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(image_size, latent_dim, filters, architecture="strided"):
    """Codes (N, latent_dim) -> images (N, S, S, 3) in [0, 1]."""
    check_architecture(architecture)
    z = keras.Input((latent_dim,), name="z")
    drawn_size = image_size // 2 if architecture == "grown" else image_size
    start = drawn_size // 2 ** len(filters)
    x = layers.Dense(start * start * filters[-1], activation="relu")(z)
    x = layers.Reshape((start, start, filters[-1]))(x)
    # Mirror of the encoder: each upsampling step halves the channels.
    for f in list(reversed(filters))[1:] + [filters[0]]:
        if architecture in ("strided", "grown"):
            x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation="relu")(x)
        else:
            x = layers.Conv2DTranspose(f, 4, padding="same", activation="relu")(x)
            x = layers.UpSampling2D()(x)
            x = layers.BatchNormalization()(x)
    if architecture != "grown":
        images = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="images")(x)
        return keras.Model(z, images, name="decoder")
    logits = layers.Conv2D(3, 3, padding="same", name="half_size_logits")(x)
    upsampled = layers.UpSampling2D(interpolation="bilinear")(logits)
    x = layers.Conv2DTranspose(max(filters[0] // 2, 1), 4, strides=2, padding="same",
                               activation="relu", name="detail_block")(x)
    detail = layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros", name="detail")(x)
    images = layers.Activation("sigmoid", name="images")(layers.Add()([upsampled, detail]))
    return keras.Model(z, images, name="decoder")


def check_architecture(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {architecture!r}; choose one of {ARCHITECTURES}.")


def check_image_size(image_size):
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(
            f"image_size must be a power of two >= 16 (e.g. 64 or 128), got {image_size}."
        )
