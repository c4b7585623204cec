"""AttributeJudge: a pixel classifier that says which attributes a face shows.

Edit quality cannot be judged by the autoencoder itself (its own vectors would
grade their own work), so edits are judged by a separate CNN trained on real
photos, as AttGAN and STGAN do. The shipped judge is small enough to run
beside the editor on a laptop CPU; its held-out accuracy is in
saved_models/JUDGE_CARD.md.
"""

import keras
import numpy as np
import tensorflow as tf

from dfl_keras.data.labels import CELEBA_ATTRIBUTES
from dfl_keras import presets


@keras.saving.register_keras_serializable(package="dfl_keras")
class AttributeJudge(keras.Model):
    """A multi-label CNN over binary face attributes: logits (N, K) for K names.

    Stride-2 convolutions halve the image down to 4x4 (two convolutions per
    scale), then one dense layer reads all positions: where a feature sits
    (a moustache under the nose, bangs over the brow) is part of what it means.
    Images of another size are resized to ``image_size`` before judging.

    Args:
        attributes: names of the attributes, in output order.
        image_size: side of the square images it judges.
        filters: filters per scale; one scale per stride-2 halving.
        dropout: dropout rate before the dense layer.
        flip: random horizontal flips while training (every CelebA attribute
            is mirror-symmetric, so this doubles the data for free).
        seed: seeds the flips and the dropout, for reproducible training.
    """

    def __init__(self, attributes=CELEBA_ATTRIBUTES, image_size=64, filters=(32, 64, 128, 192),
                 dropout=0.3, flip=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.attributes = list(attributes)
        self.image_size = int(image_size)
        self.filters = tuple(int(f) for f in filters)
        self.dropout = float(dropout)
        self.flip = bool(flip)
        self.seed = seed
        if self.image_size % 2 ** len(self.filters):
            raise ValueError(f"image_size {image_size} must be divisible by 2**len(filters) = "
                             f"{2 ** len(self.filters)}.")
        layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if self.flip else []
        for f in self.filters:
            for stride in (2, 1):
                layers += [
                    keras.layers.Conv2D(f, 3, strides=stride, padding="same", use_bias=False),
                    keras.layers.BatchNormalization(),
                    keras.layers.ReLU(),
                ]
        layers += [keras.layers.Flatten(), keras.layers.Dropout(self.dropout, seed=seed),
                   keras.layers.Dense(len(self.attributes))]
        self.network = keras.Sequential(layers, name="network")
        self.network.build((None, self.image_size, self.image_size, 3))
        self.built = True

    def call(self, images, training=False):
        return self.network(images, training=training)

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Defaults: binary cross-entropy on logits and per-label accuracy."""
        super().compile(
            optimizer=optimizer,
            loss=loss or keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=metrics or [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
            **kwargs,
        )

    def targets(self, dataset):
        """Map a dataset of (image, {name: 0/1}) to (image, float32 (K,)) pairs for fit."""

        def stack(image, attrs):
            return image, tf.cast(tf.stack([attrs[n] for n in self.attributes], -1), tf.float32)

        return dataset.map(stack, num_parallel_calls=tf.data.AUTOTUNE)

    def probabilities(self, images, batch_size=256):
        """P(attribute) per image, numpy (N, K) in ``attributes`` order."""
        images = tf.convert_to_tensor(images, tf.float32)
        if tuple(images.shape[1:3]) != (self.image_size,) * 2:
            images = tf.image.resize(images, (self.image_size,) * 2, antialias=True)
        parts = [self._probabilities_graph(images[i:i + batch_size]).numpy()
                 for i in range(0, images.shape[0], batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.attributes)))

    def predict_labels(self, images, batch_size=256):
        """The judge's verdict per image and attribute: bool (N, K), P > 0.5."""
        return self.probabilities(images, batch_size) > 0.5

    @tf.function(reduce_retracing=True)
    def features(self, images):
        """Penultimate features (N, F) of images at the judge's size: the input of its last layer."""
        x = images
        for layer in self.network.layers[:-2]:  # all but the dropout and the dense read-out
            x = layer(x, training=False)
        return x

    def feature_maps(self, scales=3):
        """A frozen network: images of any size -> the judge's maps after each of its first scales.

        The features of a perceptual reconstruction loss (``losses.FeatureLoss``).
        Fed at twice the judge's size, its first filters see the finer detail a
        128 px decoder has to draw.
        """
        if not 1 <= scales <= len(self.filters):
            raise ValueError(f"scales must be between 1 and {len(self.filters)}. Received: scales={scales}")
        images = keras.Input((None, None, 3))
        x, maps = images, []
        convolutions = [layer for layer in self.network.layers if not isinstance(
            layer, (keras.layers.RandomFlip, keras.layers.Flatten, keras.layers.Dropout, keras.layers.Dense))]
        for scale in range(scales):
            for layer in convolutions[6 * scale:6 * scale + 6]:  # two (conv, batch norm, ReLU) per scale
                x = layer(x, training=False)
            maps.append(x)
        network = keras.Model(images, maps, name="judge_feature_maps")
        network.trainable = False
        return network

    @tf.function(reduce_retracing=True)
    def _probabilities_graph(self, images):
        return tf.sigmoid(self.network(images, training=False))

    @classmethod
    def from_preset(cls, name_or_path):
        """A shipped judge by name (see dfl_keras.presets.PRESETS) or a .keras file.

        Example:

        >>> judge = AttributeJudge.from_preset("judge_celeba64")
        >>> judge.image_size, len(judge.attributes)
        (64, 40)
        """
        return presets.load_preset(name_or_path, cls)

    def get_config(self):
        return {
            **super().get_config(),
            "attributes": self.attributes,
            "image_size": self.image_size,
            "filters": list(self.filters),
            "dropout": self.dropout,
            "flip": self.flip,
            "seed": self.seed,
        }

