"""dfl_keras: the DeepFakeLab method in Keras 3 -- edit faces with attribute vectors."""

from dfl_keras.model import LatentAttributeModel

__version__ = "0.1.0"
__all__ = ["LatentAttributeModel"]
