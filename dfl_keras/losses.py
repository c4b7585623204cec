"""Loss terms of the autoencoder, as plain tensor functions.

Reconstruction is the pixel-mean squared error: it is what PSNR measures, so
minimising it is maximising the number we report, and its scale does not
depend on the image size (``beta`` and ``edge_weight`` carry over from 64 to
128 px). Binary cross-entropy ("bce") is offered for users of the keras-io
example, whose VAE uses it.
"""

import tensorflow as tf

RECONSTRUCTION_LOSSES = ("mse", "bce")


def reconstruction_loss(images, reconstructions, kind="mse"):
    """Per-image mean over pixels and channels, shape (N,)."""
    if kind == "mse":
        per_pixel = tf.square(images - reconstructions)
    elif kind == "bce":
        eps = 1e-7
        r = tf.clip_by_value(reconstructions, eps, 1.0 - eps)
        per_pixel = -(images * tf.math.log(r) + (1.0 - images) * tf.math.log(1.0 - r))
    else:
        raise ValueError(f"Unknown reconstruction loss {kind!r}; choose one of {RECONSTRUCTION_LOSSES}.")
    return tf.reduce_mean(per_pixel, axis=[1, 2, 3])


def kl_divergence(z_mean, z_log_var):
    """KL(q(z|x) || N(0, I)) summed over latent dimensions, shape (N,)."""
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=1)


def edge_loss(images, reconstructions):
    """Mean squared difference of Sobel edge maps, shape (N,).

    The original DeepFakeLab trick against blur: MSE forgives a soft edge,
    this term does not.
    """
    diff = tf.image.sobel_edges(images) - tf.image.sobel_edges(reconstructions)
    return tf.reduce_mean(tf.square(diff), axis=[1, 2, 3, 4])


def psnr(images, reconstructions):
    """Peak signal-to-noise ratio in dB for images in [0, 1], shape (N,)."""
    return tf.image.psnr(images, reconstructions, max_val=1.0)
