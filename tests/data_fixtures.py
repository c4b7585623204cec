"""Tiny data sets on disk, in each label format the data sources read.

Every image is one solid colour that encodes its index, so a test can tell
which file (and so which label row) an element came from.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

NAMES = ("Male", "Smiling", "Young")
SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_hq_64"
shared_data = pytest.mark.skipif(
    not (SHARED_CELEBA / "list_attr_celeba.txt").is_file(),
    reason="needs ../shared/data/celeba_hq_64 (not present on a fresh machine)",
)


def colour(index):
    """The RGB colour of image `index`, far enough apart to survive JPEG."""
    return (20 * index + 10, 200 - 15 * index, 128)


def signs(index):
    """The -1/1 labels of image `index` for NAMES: a different pattern per index."""
    return [1 if (index >> bit) & 1 else -1 for bit in range(len(NAMES))]


def write_image(path, index=0, size=(12, 12), mode="RGB"):
    """A solid image of colour(index); `size` is (width, height) as PIL has it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour(index)).convert(mode)
    image.save(path, quality=95) if path.suffix == ".jpg" else image.save(path)
    return path


def write_images(folder, count, suffix=".jpg"):
    """Images 0..count-1 named 000000.jpg, ...; returns their names."""
    names = [f"{i:06d}{suffix}" for i in range(count)]
    for i, name in enumerate(names):
        write_image(Path(folder) / name, i)
    return names


def official_attributes(path, names, sep=" "):
    """CelebA's list_attr_celeba.txt: count, attribute names, `<file> v1 ... vk`."""
    rows = [sep.join([name, *(f"{v:2d}" for v in signs(i))]) for i, name in enumerate(names)]
    Path(path).write_text(f"{len(names)}\n{' '.join(NAMES)}\n" + "\n".join(rows) + "\n")


def csv_attributes(path, names, zero_one=False, order=None):
    """A CSV: header `image_id,<names>`, rows `<file>,v1,...` with -1/1 or 0/1.

    `order` lists the image indices in row order (0, 1, ... by default).
    """
    lines = ["image_id," + ",".join(NAMES)]
    for i in range(len(names)) if order is None else order:
        values = [max(v, 0) if zero_one else v for v in signs(i)]
        lines.append(",".join([names[i], *map(str, values)]))
    Path(path).write_text("\n".join(lines) + "\n")


def partition_ids(count):
    """Split ids 0/1/2 cycling, so every split has images."""
    return [i % 3 for i in range(count)]


def official_celeba(root, count=6, partition=True):
    """The official layout: img_align_celeba/*.jpg, list_attr_celeba.txt, partition txt."""
    names = write_images(Path(root) / "img_align_celeba", count)
    official_attributes(Path(root) / "list_attr_celeba.txt", names, sep="  ")
    if partition:
        rows = [f"{n} {p}" for n, p in zip(names, partition_ids(count))]
        (Path(root) / "list_eval_partition.txt").write_text("\n".join(rows) + "\n")
    return names


def kaggle_celeba(root, count=6, nested=True):
    """Kaggle's layout: CSV labels and partition, images one or two folders deep."""
    folder = Path(root) / "img_align_celeba"
    names = write_images(folder / "img_align_celeba" if nested else folder, count)
    csv_attributes(Path(root) / "list_attr_celeba.csv", names)
    rows = ["image_id,partition"] + [f"{n},{p}" for n, p in zip(names, partition_ids(count))]
    (Path(root) / "list_eval_partition.csv").write_text("\n".join(rows) + "\n")
    return names


def hq_celeba(root, count=10):
    """Our CelebA-HQ 64 layout: images/<k>.jpg (k from 1), official txt, no partition."""
    names = [f"{k}.jpg" for k in range(1, count + 1)]
    for i, name in enumerate(names):
        write_image(Path(root) / "images" / name, i)
    official_attributes(Path(root) / "list_attr_celeba.txt", names)
    return names


def elements(ds):
    """All elements of a dataset as numpy, attributes as plain ints."""
    out = []
    for element in ds.as_numpy_iterator():
        if isinstance(element, tuple):
            image, attributes = element
            out.append((image, {k: int(v) for k, v in attributes.items()}))
        else:
            out.append(element)
    return out


def index_of(image):
    """Which colour(index) a decoded float image shows (tolerates JPEG error)."""
    red = float(np.mean(image[..., 0])) * 255
    return int(round((red - 10) / 20))


def expected_attributes(index, names=NAMES):
    return {name: int(v > 0) for name, v in zip(NAMES, signs(index)) if name in names}
