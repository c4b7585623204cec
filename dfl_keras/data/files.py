"""Checking that a folder of images and its label table agree, once, before decoding.

One directory listing answers both questions (listed but missing, present but
unlabelled), so the check costs milliseconds even for 200k images.
"""

import logging
import os
from pathlib import Path

import numpy as np

from .errors import DataError, first_few

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

logger = logging.getLogger(__name__)


def list_images(folder):
    """Sorted names of the image files directly inside `folder` (subfolders are not read)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise DataError(
            f"{folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}); point at the folder "
            "that directly contains them"
        )
    return names


def present_rows(folder, labels, skip_bad=False):
    """Boolean mask of the rows of `labels` whose image is in `folder`.

    Images listed but missing, and images without a row, raise a DataError naming
    them; with `skip_bad` they are left out and counted in a warning instead.
    """
    on_disk = set(list_images(folder))
    present = np.fromiter((name in on_disk for name in labels.files), bool, len(labels))
    missing = labels.files[~present]
    unlabelled = sorted(on_disk.difference(labels.files))
    problems = []
    if len(missing):
        problems.append(
            f"{len(missing)} images listed in {labels.source} are missing from {folder} "
            f"({first_few(missing)})"
        )
    if unlabelled:
        problems.append(
            f"{len(unlabelled)} images in {folder} have no row in {labels.source} "
            f"({first_few(unlabelled)})"
        )
    if problems and not skip_bad:
        raise DataError(
            "; ".join(problems) + ". Restore or remove those files, or pass skip_bad=True "
            "to skip them"
        )
    if problems:
        logger.warning("skip_bad=True, skipping %d images: %s", len(missing) + len(unlabelled),
                       "; ".join(problems))
    return present
