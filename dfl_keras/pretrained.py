"""Finding and loading the shipped model, so `dfl demo` needs no path and no data."""

import os
from pathlib import Path

import keras

from dfl_keras.model import LatentAttributeModel

SHIPPED_MODEL = "dfl_celeba64.keras"
ENV_VAR = "DFL_MODEL"


def saved_models_dir():
    """The repository's saved_models/ folder, where the shipped models live."""
    return Path(__file__).resolve().parents[1] / "saved_models"


def shipped_model_path():
    """$DFL_MODEL if set, else saved_models/dfl_celeba64.keras of the repository checkout."""
    if os.environ.get(ENV_VAR):
        path = Path(os.environ[ENV_VAR])
        if not path.is_file():
            raise FileNotFoundError(f"{ENV_VAR} is set to {path}, which is not a file")
        return path
    path = saved_models_dir() / SHIPPED_MODEL
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped model {path} is missing; it comes with the repository checkout "
            f"(pip install -e .). Pass --model FILE.keras, or set {ENV_VAR}=FILE.keras"
        )
    return path


def load_model(path=None):
    """The LatentAttributeModel in `path`, or the shipped one when path is None."""
    path = shipped_model_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file {path}")
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # a damaged zip, a foreign file: all mean "not a usable model file"
        raise ValueError(f"cannot load a model from {path}: {error}") from error
    if not isinstance(model, LatentAttributeModel):
        raise TypeError(f"{path} holds a {type(model).__name__}, not a LatentAttributeModel")
    return model
