"""CelebA from a folder on disk, in the official, Kaggle or CelebA-HQ-64 layout."""

from pathlib import Path

import numpy as np

from .errors import DataError
from .files import present_rows
from .labels import read_attributes, read_partition
from .pipeline import image_dataset

LABEL_FILES = ("list_attr_celeba.txt", "list_attr_celeba.csv")
PARTITION_FILES = ("list_eval_partition.txt", "list_eval_partition.csv")
IMAGE_FOLDERS = ("img_align_celeba/img_align_celeba", "img_align_celeba", "images")
SPLITS = {"train": 0, "validation": 1, "test": 2}


def celeba_folder(
    root, split="train", *, image_size=64, attributes=None, crop="center", skip_bad=False, **options
):
    r"""CelebA images with their 40 binary attributes, read from a folder on disk.

    The layout is detected:

    - official: `img_align_celeba/*.jpg`, `list_attr_celeba.txt` and optionally
      `list_eval_partition.txt`;
    - Kaggle: `list_attr_celeba.csv`, `list_eval_partition.csv` and the images in
      `img_align_celeba/img_align_celeba/` or `img_align_celeba/`;
    - CelebA-HQ 64: `images/<k>.jpg` with `list_attr_celeba.txt`.

    Splits follow the partition file when there is one. Without it, the first
    90% of the rows of the attribute file are "train" and the last 10% "test"
    (for CelebA-HQ: images 1-27000 and 27001-30000), and "validation" raises.

    Args:
        root: the folder holding the label file.
        split: "train", "validation", "test" or "all".
        image_size: side of the square images.
        attributes: names of the attributes to keep (all 40 when None).
        crop: "center", or "celeba" for the face box of the 178x218 aligned photos.
        skip_bad: skip missing, unlabelled or damaged images (logged and counted)
            instead of raising a DataError that names them.
        **options: `batch_size`, `shuffle`, `seed`, `cache`, `take`, `deterministic`,
            `drop_remainder`, as in `image_dataset`.

    Returns:
        A tf.data.Dataset of `(image, {name: int32 0/1})`, images float32 in [0, 1].

    Example:

    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir()
    >>> for k in (1, 2):
    ...     Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(root / "images" / f"{k}.jpg")
    >>> _ = (root / "list_attr_celeba.txt").write_text("2\nSmiling\n1.jpg 1\n2.jpg -1\n")
    >>> image, labels = next(iter(celeba_folder(root, "all", image_size=16)))
    >>> image.shape, int(labels["Smiling"])
    (TensorShape([16, 16, 3]), 1)
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no CelebA folder at {root}")
    label_file = _first_existing(root, LABEL_FILES)
    if label_file is None:
        raise DataError(
            f"{root} has no {' or '.join(LABEL_FILES)}; pass the folder that holds the "
            "CelebA label file"
        )
    image_folder = _first_existing(root, IMAGE_FOLDERS)
    if image_folder is None:
        raise DataError(
            f"{root} has no image folder ({', '.join(IMAGE_FOLDERS)}); "
            "unzip img_align_celeba.zip there"
        )
    labels = read_attributes(label_file).select(attributes)
    rows = _in_split(root, labels, split) & present_rows(image_folder, labels, skip_bad)
    labels = labels.subset(rows)
    paths = [str(image_folder / name) for name in labels.files]
    return image_dataset(
        paths, labels.columns(), image_size=image_size, crop=crop, skip_bad=skip_bad, **options
    )


def _first_existing(root, candidates):
    return next((root / name for name in candidates if (root / name).exists()), None)


def _in_split(root, labels, split):
    """Boolean mask of the rows of `labels` in `split`."""
    if split == "all":
        return np.ones(len(labels), bool)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or all, got {split!r}")
    partition_file = _first_existing(root, PARTITION_FILES)
    if partition_file is not None:
        return read_partition(partition_file, labels.files) == SPLITS[split]
    if split == "validation":
        raise DataError(
            f"{root} has no {' or '.join(PARTITION_FILES)}, so no validation split; use "
            f"'train' (first 90% of {labels.source}), 'test' (last 10%) or 'all'"
        )
    is_train = np.arange(len(labels)) < len(labels) * 9 // 10
    return is_train if split == "train" else ~is_train
