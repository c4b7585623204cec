"""CelebA through TensorFlow Datasets (`celeb_a`), in the same element format as the folders.

TFDS fetches CelebA from Google Drive, which often refuses (quota) or is
unreachable, and its downloader retries a dead host for minutes. So this
module checks first (the manual files, or that the host answers) and fails
within seconds with what to put where.
"""

import socket
import urllib.parse
from pathlib import Path

import tensorflow as tf

from ..errors import check_attributes
from .errors import DataError
from .images import check_crop, decode
from .labels import CELEBA_ATTRIBUTES
from .pipeline import AUTOTUNE, finish

SHUFFLE_BUFFER = 10_000  # encoded 178x218 JPEGs, about 10 KB each
_MANUAL_ROUTE = (
    "Download the five CelebA files (img_align_celeba.zip, list_attr_celeba.txt, "
    "list_eval_partition.txt, list_landmarks_align_celeba.txt, identity_CelebA.txt) "
    "from the CelebA website, put them unchanged in one folder and pass "
    "manual_dir=<that folder>; or unzip them and read them with celeba_folder()"
)


def celeba_tfds(
    split="train",
    image_size=64,
    *,
    data_dir=None,
    manual_dir=None,
    attributes=None,
    crop="celeba",
    batch_size=None,
    shuffle=False,
    seed=None,
    cache=None,
    take=None,
    deterministic=True,
    drop_remainder=False,
):
    """CelebA from TFDS `celeb_a` as `(image, {name: int32 0/1})`, images float32 in [0, 1].

    The first call prepares the data set in `data_dir` (TFDS's default when None):
    from `manual_dir` when given, which must hold the five official files
    (img_align_celeba.zip, list_attr_celeba.txt, list_eval_partition.txt,
    list_landmarks_align_celeba.txt, identity_CelebA.txt), else by download.

    Args:
        split: "train", "validation", "test", "all", or a TFDS split like "train[:1%]".
        image_size: side of the square images.
        data_dir: where TFDS keeps prepared data sets.
        manual_dir: folder with the five files downloaded by hand.
        attributes: names of the attributes to keep (all 40 when None).
        crop: "celeba" (the face box; TFDS holds the 178x218 aligned photos) or "center".
        batch_size, shuffle, seed, cache, take, deterministic, drop_remainder:
            as in `image_dataset`; `shuffle` here mixes files and a buffer of
            10,000 encoded photos.
    """
    import tensorflow_datasets as tfds  # slow to import, so only when used

    check_crop(crop)
    names = CELEBA_ATTRIBUTES if attributes is None else attributes
    check_attributes(names, CELEBA_ATTRIBUTES, "celeb_a")
    builder = tfds.builder("celeb_a", data_dir=data_dir)
    if not builder.is_prepared():
        _prepare(builder, manual_dir)
    ds = builder.as_dataset(
        split="train+validation+test" if split == "all" else split,
        decoders={"image": tfds.decode.SkipDecoding()},
        shuffle_files=shuffle and cache is None,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    if take is not None:
        ds = ds.take(take)
    if shuffle and cache is None:
        ds = ds.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)

    def load(example):
        image = decode(example["image"], image_size, crop)
        return image, {name: tf.cast(example["attributes"][name], tf.int32) for name in names}

    ds = ds.map(load, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    return finish(
        ds, size=SHUFFLE_BUFFER, batch_size=batch_size, shuffle=shuffle and cache is not None,
        seed=seed, cache=cache, drop_remainder=drop_remainder,
    )


def _prepare(builder, manual_dir):
    """Downloads and prepares `celeb_a`, or fails fast saying what to put where."""
    import tensorflow_datasets as tfds

    urls = builder.url_infos or {}
    if manual_dir is not None:
        wanted = [info.filename for info in urls.values()]
        missing = [name for name in wanted if not (Path(manual_dir) / name).is_file()]
        if missing:
            raise DataError(f"manual_dir {manual_dir} lacks {', '.join(missing)}. {_MANUAL_ROUTE}")
    elif urls and not _reachable(next(iter(urls))):
        raise DataError(
            f"celeb_a is not prepared in {builder.data_dir} and its download site cannot "
            f"be reached. {_MANUAL_ROUTE}"
        )
    config = tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False)
    try:
        builder.download_and_prepare(download_config=config)
    except Exception as error:  # the download's many failure types all need the same advice
        raise DataError(f"could not prepare celeb_a ({error}). {_MANUAL_ROUTE}") from error


def _reachable(url, timeout=5):
    """Whether the url's host accepts a connection within `timeout` seconds."""
    try:
        socket.create_connection((urllib.parse.urlsplit(url).hostname, 443), timeout).close()
        return True
    except OSError:
        return False
