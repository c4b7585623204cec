"""The shipped models by name: one table, read by `from_preset` on both model classes.

Adding a preset is one entry in PRESETS plus its file in the repository's
top-level saved_models/ folder, which pip installs as the package data
`dfl_keras/saved_models/` (see pyproject.toml).
"""

import zipfile
from pathlib import Path

import keras

PRESETS = {
    "dfl_celeba64": {
        "file": "dfl_celeba64.keras",
        "class": "LatentAttributeModel",
        "description": "VAE editor for 64 px CelebA-HQ faces with all 40 CelebA attribute "
        "vectors (saved_models/MODEL_CARD.md).",
    },
    "dfl_celeba64_vae": {
        "file": "dfl_celeba64_vae.keras",
        "class": "LatentAttributeModel",
        "description": "The previous dfl_celeba64: the same encoder and vectors with the VAE's "
        "own decoder, trained on pixel error alone (saved_models/MODEL_CARD.md).",
    },
    "judge_celeba64": {
        "file": "judge_celeba64.keras",
        "class": "AttributeJudge",
        "description": "CNN judging the 40 CelebA attributes on 64 px faces "
        "(saved_models/JUDGE_CARD.md).",
    },
    "judge_celeba128": {
        "file": "judge_celeba128.keras",
        "class": "AttributeJudge",
        "description": "CNN judging the 40 CelebA attributes on 128 px faces, where a smudge "
        "and a pair of glasses differ (saved_models/JUDGE_CARD.md).",
    },
}
DEFAULT_EDITOR = "dfl_celeba64"
DEFAULT_JUDGE = "judge_celeba64"


def presets_dir():
    """Where the preset files are: the installed package data, else the repository checkout."""
    installed = Path(__file__).resolve().parent / "saved_models"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "saved_models"


def preset_path(name_or_path):
    """The file of a preset name, or `name_or_path` itself when it is not a preset name."""
    if str(name_or_path) not in PRESETS:
        path = Path(name_or_path)
        if path.is_dir():
            raise IsADirectoryError(f"{name_or_path} is a folder, not a .keras model file; pass "
                                    f"the .keras file itself or a preset ({', '.join(PRESETS)})")
        if not path.is_file():
            raise FileNotFoundError(
                f"no preset or model file {name_or_path}; presets: {', '.join(PRESETS)}")
        return path
    path = presets_dir() / PRESETS[str(name_or_path)]["file"]
    if not path.is_file():
        raise FileNotFoundError(f"the preset {name_or_path}'s file {path} is missing; "
                                "reinstall dfl_keras or pass a .keras file")
    return path


def load_preset(name_or_path, cls):
    """An instance of `cls` from a preset name or a .keras file, refused clearly if it is not one.

    Example:

    >>> from dfl_keras import LatentAttributeModel
    >>> load_preset("dfl_celeba64", LatentAttributeModel).image_size
    64
    """
    path = preset_path(name_or_path)
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a damaged file
        raise ValueError(f"{path} is not a valid .keras file (not a zip archive): pass a model "
                         "saved by dfl train or model.save, or a preset name. "
                         f"Received: name_or_path={str(name_or_path)!r}")
    try:
        model = keras.saving.load_model(path)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:  # a truncated archive
        raise ValueError(f"{path} is not a valid .keras file ({error}): pass a model saved by "
                         "dfl train or model.save, or a preset name. "
                         f"Received: name_or_path={str(name_or_path)!r}") from error
    if not isinstance(model, cls):
        found = type(model).__name__
        raise TypeError(f"{path} holds a model of class {found}, not {cls.__name__}. "
                        f"Received: name_or_path={str(name_or_path)!r}")
    return model
