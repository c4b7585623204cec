"""dfl_keras: the DeepFakeLab method in Keras 3 -- edit faces with attribute vectors.

Importing the package registers its Keras classes (LatentAttributeModel,
AttributeJudge), so ``keras.saving.load_model`` can read their files; it
changes no environment variable and no logging.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dfl_keras")
except PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = "unknown"  # first: provenance reads it

from dfl_keras import data, photos
from dfl_keras.errors import UnknownAttributeError
from dfl_keras.judge import AttributeJudge
from dfl_keras.model import LatentAttributeModel
from dfl_keras.presets import PRESETS

__all__ = ["PRESETS", "AttributeJudge", "LatentAttributeModel", "UnknownAttributeError", "data",
           "photos"]
