"""The adversarial half of a VAE-GAN decoder: a PatchGAN critic, hinge losses, adaptive weight.

A decoder trained on pixel error draws the mean of what could be there, so an
edit's change psi(z + t v) - psi(z) is a smear. A critic that scores 16x16
patches as real or drawn makes the decoder commit to edges and texture
(Larsen et al. 2016; latent diffusion's autoencoder). The critic is a training
concern: it lives in an ``Adversary`` that ``LatentAttributeModel.compile``
makes, that training backups keep, and that the editor's ``.keras`` file does
not carry.
"""

import keras
import tensorflow as tf
from keras import layers


def build_discriminator(image_size, filters=(64, 128, 256)):
    """Images (N, S, S, 3) in [0, 1] -> real/drawn logits per patch, (N, S/4, S/4, 1).

    Example:

    >>> build_discriminator(64).output_shape
    (None, 16, 16, 1)
    """
    images = keras.Input((image_size, image_size, 3), name="images")
    x = layers.Rescaling(2.0, offset=-1.0)(images)
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 4, strides=2 if i < 2 else 1, padding="same")(x)
        if i:
            x = layers.GroupNormalization(groups=32)(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, padding="same", name="patch_logits")(x)
    return keras.Model(images, logits, name="discriminator")


def discriminator_hinge_loss(real_logits, fake_logits):
    """The critic's hinge loss: real patches above +1, drawn ones below -1."""
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


def generator_loss(fake_logits):
    """The decoder's adversarial loss: raise the critic's score of what it draws."""
    return -tf.reduce_mean(fake_logits)


def adaptive_weight(reconstruction_gradient, adversarial_gradient, scale):
    """Weight that gives the adversarial gradient ``scale`` times the reconstruction's norm
    at the decoder's last layer (latent diffusion's rule), so neither term drowns the other.
    """
    ratio = tf.norm(reconstruction_gradient) / (tf.norm(adversarial_gradient) + 1e-4)
    return tf.stop_gradient(scale * tf.clip_by_value(ratio, 0.0, 1e4))


class Adversary:
    """The critic and its optimizer, held outside the model's saved state on purpose.

    A plain object (not a Keras layer), so ``model.save`` and the editor file
    skip it; ``dfl_keras.distribute.BackupAndRestore`` saves its weights with
    each backup, so an interrupted run resumes with the critic it had.

    Args:
        image_size: side of the images the critic scores.
        learning_rate: Adam's, with betas (0.5, 0.9) as GAN training uses.
    """

    def __init__(self, image_size, learning_rate=1e-4):
        self.discriminator = build_discriminator(image_size)
        self.optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
        self.optimizer.build(self.discriminator.trainable_variables)
