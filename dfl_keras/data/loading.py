"""`load(source, split)`: one entry point for every data source, in the spirit of tfds.load."""

from pathlib import Path

from .celeba import LABEL_FILES, celeba_folder
from .folder import image_folder
from .tfds_celeba import celeba_tfds

TFDS_PREFIX = "tfds:"


def load(source, split="train", *, image_size=64, attributes=None, labels=None, crop=None,
         take=None, skip_bad=False, **options):
    """A dataset of `(image, {attribute: 0/1})` (or of images) from any supported source.

    The source is told apart by its form: ``"tfds:celeb_a"`` is TensorFlow
    Datasets' CelebA; a folder holding a CelebA label file is read as CelebA
    (official, Kaggle or CelebA-HQ layout, see celeba_folder); any other
    folder is a plain image folder, labelled by the CSV `labels` if given
    (all its columns: `attributes` selects among CelebA's only).

    Args:
        source: ``"tfds:celeb_a"`` or a folder path.
        split: "train", "validation", "test" or "all" (CelebA sources only).
        image_size: side of the square images.
        attributes: the attributes to keep (default: all the source has).
        labels: a CSV of attribute labels, for a plain image folder.
        crop: "center" or "celeba" (default: the source's own).
        take: read only the first `take` images.
        skip_bad: skip damaged or unlabelled images of a folder, logging each.
        **options: batch_size, shuffle, seed, ... as image_dataset takes them.

    Example:

    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(f"{folder}/face.png")
    >>> images = load(folder, image_size=16)
    >>> images.element_spec.shape
    TensorShape([16, 16, 3])
    """
    options.update(image_size=image_size, take=take)
    if crop:
        options["crop"] = crop
    source = str(source)
    if source.startswith(TFDS_PREFIX):
        if source != "tfds:celeb_a":
            raise ValueError(f"only tfds:celeb_a is supported. Received: source={source!r}")
        return celeba_tfds(split, attributes=attributes, **options)
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(f"no data folder {root}")
    options["skip_bad"] = skip_bad
    if any((root / name).is_file() for name in LABEL_FILES):
        return celeba_folder(root, split, attributes=attributes, **options)
    return image_folder(root, labels, **options)
