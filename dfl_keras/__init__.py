"""dfl_keras: the DeepFakeLab method in Keras 3 -- edit faces with attribute vectors."""

from dfl_keras.quiet import import_tensorflow

import_tensorflow()  # first, or TensorFlow's start-up logging floods stderr

from dfl_keras import data, photos  # noqa: E402
from dfl_keras.model import LatentAttributeModel  # noqa: E402

__version__ = "0.1.0"
__all__ = ["LatentAttributeModel", "data", "photos"]
