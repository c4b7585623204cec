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


def covariance_penalty(codes):
    """Squared distance between the codes' covariance and the identity, a scalar.

    The KL term pulls each latent dimension towards N(0, 1) but lets the
    dimensions correlate across faces, and then a few directions carry most of
    the spread. Pulling the covariance towards the identity (as DIP-VAE-I
    does) keeps the codes as isotropic as the prior says they are, so the
    centroid difference v scores its attribute through dot(z, v) about as well
    as the best linear discriminant does. The estimate is unbiased: the
    covariances of two random halves of the batch are independent, so the
    mean of tr((C1 - I)(C2 - I)) is ||C - I||^2. The halves are drawn afresh
    each step, so the network cannot learn a batch order that makes the
    estimate negative. It is 0 below four codes.
    """
    half = tf.shape(codes)[0] // 2
    codes = tf.gather(codes, tf.random.shuffle(tf.range(tf.shape(codes)[0])))
    eye = tf.eye(tf.shape(codes)[1])

    def centred_covariance(x):
        x = x - tf.reduce_mean(x, axis=0, keepdims=True)
        degrees = tf.cast(tf.maximum(tf.shape(x)[0] - 1, 1), x.dtype)
        return tf.matmul(x, x, transpose_a=True) / degrees

    first, second = centred_covariance(codes[:half]), centred_covariance(codes[half:2 * half])
    return tf.where(half >= 2, tf.reduce_sum((first - eye) * (second - eye)), 0.0)


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


class FeatureLoss:
    """Mean squared difference of a feature network's maps, summed over its maps, shape (N,).

    The feature-consistent VAE idea (DFC-VAE): pixels forgive blur, features
    that detect edges, teeth and frames do not. ``feature_maps`` maps images to
    a list of (N, h, w, c) maps, e.g. ``AttributeJudge.feature_maps()``, a
    network trained here on CelebA in place of ImageNet's VGG. A plain object,
    not a layer, so a model holding it neither trains nor saves the network.
    """

    def __init__(self, feature_maps):
        self.feature_maps = feature_maps

    def __call__(self, images, reconstructions):
        targets = [tf.stop_gradient(m) for m in self.feature_maps(images)]
        terms = [tf.reduce_mean(tf.square(target - m), axis=[1, 2, 3])
                 for target, m in zip(targets, self.feature_maps(reconstructions))]
        return tf.add_n(terms)
