"""What several command handlers do: load the editor, check edits, open DATA."""

import os
from pathlib import Path

from dfl_keras import data, presets, provenance
from dfl_keras.errors import check_attributes
from dfl_keras.model import LatentAttributeModel

MODEL_ENV_VAR = "DFL_MODEL"  # the editor the commands use without --model
PICTURES = (".png", ".gif")  # the outputs that carry provenance (dfl_keras.provenance)
DEMO_COMBOS = ("Smiling", "Eyeglasses", "Bald", "Smiling+Bald")


def load_model(name_or_path):
    """The editor (--model, else $DFL_MODEL, else the default preset) and its provenance label."""
    path = model_path(name_or_path)
    return LatentAttributeModel.from_preset(path), provenance.model_label(path)


def model_path(name_or_path):
    """The file of the editor: --model, else $DFL_MODEL, else the default preset."""
    if name_or_path is None and os.environ.get(MODEL_ENV_VAR):
        name_or_path = os.environ[MODEL_ENV_VAR]
        if not Path(name_or_path).is_file() and name_or_path not in presets.PRESETS:
            raise FileNotFoundError(f"{MODEL_ENV_VAR} is set to {name_or_path}, which is not a "
                                    f"file or a preset ({', '.join(presets.PRESETS)})")
    return presets.preset_path(name_or_path or presets.DEFAULT_EDITOR)


def default_combos(model):
    """DeepFakeLab's demo edits if the model has their vectors, else its first two vectors."""
    names = model.attribute_names
    combos = [combo.split("+") for combo in DEMO_COMBOS if set(combo.split("+")) <= set(names)]
    if not combos:
        if not names:
            raise ValueError("the model has no attribute vectors yet: run dfl fit-vectors first")
        combos = [[name] for name in names[:2]] + ([names[:2]] if len(names) > 1 else [])
    return combos


def check_combos(model, combos):
    check_attributes([name for combo in combos for name in combo], model.attribute_names,
                     "the model")


def sweep(combos, t_values):
    """Smiling; Smiling+Bald at t = 0.2, 0.5: the edits of a grid, for its provenance."""
    return (f"{'; '.join('+'.join(combo) for combo in combos)} "
            f"at t = {', '.join(f'{t:g}' for t in t_values)}")


def check_output_file(path, suffix, overwrite=True, inputs=()):
    """Refuse, before any work, an output file that could not be written where it is asked for,
    or that would replace one of the `inputs` or a file dfl_keras did not write (check_replaceable).

    Example:
        >>> check_output_file("report.json", ".json")
        PosixPath('report.json')
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: name a file, e.g. {path / ('out' + suffix)}")
    if path.suffix.lower() != suffix:
        raise ValueError(f"{path} must end in {suffix}, the format written; e.g. "
                         f"{path.with_suffix(suffix)}")
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {folder} is a file, not a folder; "
                                 "choose another path")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: no folder {folder}; create it first")
    return check_replaceable(path, overwrite, inputs)


def check_replaceable(path, overwrite=False, inputs=()):
    """An output path that may be written: refused if it is one of the `inputs` (even through a
    link), a folder, or an existing file, unless `overwrite` or it is a picture (PICTURES)
    whose provenance says dfl_keras wrote it. An image is the user's until it says otherwise.

    Example:
        >>> check_replaceable("nowhere/new.png")
        PosixPath('nowhere/new.png')
    """
    path = Path(path)
    for given in inputs:
        if _same_file(path, Path(given)):
            raise ValueError(f"the output {path} is one of the input photos ({given}): it would "
                             "be replaced by the result; write elsewhere with -o")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; move it away or write "
                                "elsewhere with -o")
    if path.exists() and not overwrite:
        if path.suffix.lower() not in PICTURES:
            raise FileExistsError(f"{path} exists: choose another -o, or add --overwrite")
        if not provenance.written_by_dfl_keras(path):
            raise FileExistsError(f"{path} exists and was not written by dfl_keras: write "
                                  "elsewhere with -o, or add --overwrite to replace it")
    return path


def _same_file(a, b):
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)  # a hard link
    except OSError:
        return False


def open_data(args, image_size, split="train", limit=None, **options):
    """DATA as data.load reads it, with the command's own defaults for --split and --limit."""
    return data.load(args.data, args.split or split, image_size=image_size, labels=args.labels,
                     crop=args.crop, take=args.limit or limit, skip_bad=args.skip_bad, **options)


def labelled_names(dataset, source):
    """The attributes a dataset is labelled with; a plain image folder has none."""
    names = list(dataset.element_spec[1]) if isinstance(dataset.element_spec, tuple) else []
    if not names:
        raise ValueError(f"{source} has no attribute labels: pass --labels CSV for a plain "
                         "image folder")
    return names
