"""The tf.data pipeline every source shares: read, check, decode, cache, shuffle, batch.

File names are shuffled before anything is read, so the shuffle buffer holds
strings rather than images; reading and decoding then run in parallel.
"""

import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from .errors import DataError
from .images import check_crop, read_checked

AUTOTUNE = tf.data.AUTOTUNE

logger = logging.getLogger(__name__)


def image_dataset(
    paths,
    attributes=None,
    *,
    image_size=64,
    crop="center",
    skip_bad=False,
    batch_size=None,
    shuffle=False,
    seed=None,
    cache=None,
    take=None,
    deterministic=True,
    drop_remainder=False,
):
    """A dataset of images, or of `(image, attributes)` pairs, read from image files.

    Args:
        paths: image file paths (JPEG, PNG, GIF, BMP).
        attributes: None for images only, or `{name: array of 0/1}` aligned with `paths`.
        image_size: side S of the square float32 images in [0, 1], shape (S, S, 3).
        crop: "center" (largest centred square) or "celeba" (`CELEBA_FACE_BOX`).
        skip_bad: skip damaged files (empty, not an image, truncated, broken data,
            larger than images.MAX_PIXELS), logging each once with the count of
            distinct bad files so far, instead of raising an error that names the file.
        batch_size: None for single elements, else the batch size.
        shuffle: a new order every epoch.
        seed: makes the shuffled order reproducible (with `deterministic=True`).
        cache: None, "memory" or a file path: keep decoded 8-bit images after the
            first epoch. A file cache is reused as is by later runs: give each
            image size and crop its own path. With `shuffle`, the order is then
            shuffled after the cache, holding one epoch of images in memory.
        take: read only the first `take` files.
        deterministic: keep the order while decoding in parallel (False may be faster).
        drop_remainder: drop the last batch when it is smaller than `batch_size`.

    Example:

    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> path = f"{tempfile.mkdtemp()}/face.png"
    >>> Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    >>> images = image_dataset([path], {"Smiling": np.array([1])}, image_size=16, batch_size=1)
    >>> [tuple(part.shape) for part in next(iter(images))[0:1]]
    [(1, 16, 16, 3)]
    """
    check_crop(crop)
    _check_counts(image_size=image_size, batch_size=batch_size, take=take)
    paths = [str(path) for path in paths]
    columns = {name: np.asarray(v, np.int32) for name, v in (attributes or {}).items()}
    if any(len(v) != len(paths) for v in columns.values()):
        raise ValueError("attributes need one value per path")
    paths = paths[:take]
    if not paths:
        raise DataError("no image files to read")
    ds = tf.data.Dataset.from_tensor_slices(paths)
    if attributes is not None:
        columns = {name: v[:take] for name, v in columns.items()}
        ds = tf.data.Dataset.zip(ds, tf.data.Dataset.from_tensor_slices(columns))
    if shuffle and cache is None:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def load(path, *labels):
        image, problem = tf.py_function(
            lambda path: read_checked(path.numpy(), image_size, crop), [path],
            [tf.uint8, tf.string])
        image.set_shape([image_size, image_size, 3])
        return (path, image, tf.reshape(problem, []), *labels)

    ds = ds.map(load, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    if skip_bad:
        ds = ds.filter(_skipper())
    ds = ds.map(_checked, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    return finish(
        ds, size=len(paths), batch_size=batch_size, shuffle=shuffle and cache is not None,
        seed=seed, cache=cache, drop_remainder=drop_remainder,
    )


def finish(ds, *, size, batch_size, shuffle, seed, cache, drop_remainder):
    """Caches, shuffles (after the cache), batches, scales to [0, 1] and prefetches.

    `ds` yields uint8 images, alone or as the first item of a tuple.
    """
    if cache is not None:
        if cache != "memory":
            Path(cache).parent.mkdir(parents=True, exist_ok=True)
        ds = ds.cache("" if cache == "memory" else str(cache))
    if shuffle:
        ds = ds.shuffle(size, seed=seed, reshuffle_each_iteration=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(_to_float, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def _check_counts(**counts):
    """image_size, batch_size and take must be whole numbers above 0 (or None where allowed)."""
    for name, value in counts.items():
        if value is None and name != "image_size":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"{name} must be a whole number of at least 1; Received: {name}={value!r}.")


def _checked(path, image, problem, *labels):
    """The image, or an error naming the file and its problem (the CLI shows the message)."""
    message = tf.strings.join([
        "cannot read image ", path, ": ", problem,
        ". Replace or delete the file, or pass skip_bad=True to skip bad images",
    ])
    with tf.control_dependencies([tf.debugging.Assert(problem == "", [message])]):
        return (tf.identity(image), *labels)


def _skipper():
    """A filter predicate that drops bad files, logging each once with the count of bad files."""
    skipped = set()

    def report(path, problem):
        path = path.numpy().decode()
        if path not in skipped:  # later epochs meet the same files again
            skipped.add(path)
            logger.warning("skip_bad=True, skipped %s: %s (%d bad images skipped so far)",
                           path, problem.numpy().decode(), len(skipped))
        return False

    def keep(path, image, problem, *labels):
        return tf.cond(
            problem == "",
            lambda: tf.constant(True),
            lambda: tf.reshape(tf.py_function(report, [path, problem], tf.bool), []),
        )

    return keep


def _to_float(image, *labels):
    image = tf.image.convert_image_dtype(image, tf.float32)
    return (image, *labels) if labels else image
