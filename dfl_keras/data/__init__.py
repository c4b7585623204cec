"""Face data sets as tf.data pipelines of `(image, {attribute: 0/1})`.

Images are float32 in [0, 1], shape (S, S, 3); attributes use CelebA's names.
"""

from .celeba import celeba_folder
from .errors import DataError
from .files import IMAGE_EXTENSIONS
from .folder import image_folder
from .images import CELEBA_FACE_BOX
from .labels import CELEBA_ATTRIBUTES, Labels, read_attributes
from .loading import load
from .pipeline import image_dataset
from .tfds_celeba import celeba_tfds

__all__ = [
    "CELEBA_ATTRIBUTES",
    "CELEBA_FACE_BOX",
    "IMAGE_EXTENSIONS",
    "DataError",
    "Labels",
    "celeba_folder",
    "celeba_tfds",
    "image_dataset",
    "image_folder",
    "load",
    "read_attributes",
]
