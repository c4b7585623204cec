"""A photo for CI's `dfl insert` when ../shared is absent: a face the shipped model draws.

Usage: python generated_photo.py OUT.png
"""

import sys

import numpy as np
import tensorflow as tf

import dfl_keras as dfl

model = dfl.LatentAttributeModel.from_preset("dfl_celeba64")
face = model.decode(np.zeros(model.latent_dim, np.float32))  # the mean face
face = tf.image.resize(face[None], (256, 256), method="bicubic")[0]
canvas = tf.image.pad_to_bounding_box(tf.clip_by_value(face, 0, 1), 64, 96, 400, 448)
tf.io.write_file(sys.argv[1], tf.io.encode_png(tf.image.convert_image_dtype(canvas, tf.uint8)))
