"""Turning what users pass (numpy arrays, tensors, datasets) into checked batches.

Every check runs before any work and names the problem and the fix, so a bad
call never leaves a model half-updated.
"""

import numpy as np
import tensorflow as tf

from dfl_keras.errors import check_attributes


def as_image_batch(images, image_size):
    """Checked float32 batch (N, S, S, 3) and whether a single image was given."""
    if not isinstance(images, (np.ndarray, tf.Tensor, tf.Variable)):
        images = np.asarray(images)
    dtype = tf.as_dtype(images.dtype)
    if not dtype.is_floating:
        hint = " Convert with images.astype('float32') / 255." if dtype == tf.uint8 else ""
        raise TypeError(f"Images must be floats in [0, 1], got dtype {dtype.name}.{hint}")
    single = len(images.shape) == 3
    batch = tf.cast(images, tf.float32)
    if single:
        batch = batch[None]
    check_image_spec(batch.shape, image_size)
    values = batch.numpy()
    if not np.isfinite(values).all():
        raise ValueError("Images contain NaN or Inf values; every pixel must be a finite number in [0, 1].")
    check_range(values.min(), values.max())
    return batch, single


def check_image_spec(shape, image_size):
    """Rank, size and channel checks on a batch shape (N, H, W, C)."""
    if len(shape) != 4:
        raise ValueError(
            f"Images must have shape (H, W, 3) or (N, H, W, 3), got rank {len(shape) - 1 if len(shape) else 0} "
            f"shape {tuple(shape)}."
        )
    if shape[-1] != 3:
        raise ValueError(
            f"Images must have 3 (RGB) channels, got {shape[-1]}. Convert greyscale or RGBA to RGB first."
        )
    if tuple(shape[1:3]) != (image_size, image_size):
        raise ValueError(
            f"Images must be {image_size}x{image_size}, got {shape[1]}x{shape[2]}. "
            f"Resize them first (e.g. tf.image.resize) or use the dfl_keras.data loaders."
        )


def check_range(low, high):
    if low < 0.0 or high > 1.0:
        hint = " They look like 0..255 values: divide by 255." if high > 1.0 and high <= 255.0 else ""
        raise ValueError(f"Image values must lie in [0, 1], found [{low:g}, {high:g}].{hint}")


def check_finite(name, values):
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite numbers, got {values.tolist()}.")
    return values


def to_user_form(batch, single, like):
    """Return numpy for numpy input, a tensor for tensor input, unbatched for one image."""
    out = batch[0] if single else batch
    return out if isinstance(like, (tf.Tensor, tf.Variable)) else np.asarray(out)


def labelled_batches(data, labels, image_size, batch_size):
    """A dataset of (images (N, S, S, 3) float32, labels (N, K) int32) for the named labels.

    ``data`` is a tf.data.Dataset of ``(image, {name: 0/1})`` or ``(image, 0/1)``
    (batched or not), or a tuple ``(images, labels)`` of numpy arrays where
    labels is an array (one label) or a dict of arrays.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2:
        images, targets = data
        images = np.asarray(images)
        if not np.issubdtype(images.dtype, np.floating):
            as_image_batch(images[:1], image_size)  # raises the dtype error
        data = tf.data.Dataset.from_tensor_slices((images.astype(np.float32), _as_label_input(targets)))
    if not isinstance(data, tf.data.Dataset):
        raise TypeError(
            "Expected a tf.data.Dataset of (image, attributes) or a tuple (images, labels) of arrays, "
            f"got {type(data).__name__}."
        )
    spec = data.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError(
            "The dataset yields images without labels; fitting an attribute vector needs "
            "(image, attributes) pairs, e.g. from dfl_keras.data.celeba_folder(...)."
        )
    image_spec, label_spec = spec
    if image_spec.dtype != tf.float32:
        raise TypeError(
            f"Dataset images must be float32 in [0, 1], got {image_spec.dtype.name}. "
            "Map them with tf.image.convert_image_dtype(image, tf.float32)."
        )
    batched = image_spec.shape.rank == 4
    check_image_spec(image_spec.shape if batched else [None, *image_spec.shape], image_size)
    data = data.map(_label_selector(label_spec, labels), num_parallel_calls=tf.data.AUTOTUNE)
    if not batched:
        data = data.batch(batch_size)
    return data.prefetch(tf.data.AUTOTUNE)


def check_batch(images, labels, names):
    """Value checks on one batch (pixels in range, labels 0/1)."""
    images = images.numpy()
    if not np.isfinite(images).all():
        raise ValueError("A batch contains NaN or Inf pixel values.")
    check_range(images.min(), images.max())
    bad = labels[(labels != 0) & (labels != 1)]
    if bad.size:
        column = int(np.nonzero(((labels != 0) & (labels != 1)).any(axis=0))[0][0])
        raise ValueError(
            f"Label {names[column]!r} has value {int(bad[0])}; labels must be 0/1 "
            "(convert -1/1 labels with (y + 1) // 2)."
        )


def _as_label_input(targets):
    if isinstance(targets, dict):
        return {k: np.asarray(v).astype(np.int32) for k, v in targets.items()}
    return np.asarray(targets).astype(np.int32)


def _label_selector(label_spec, names):
    if isinstance(label_spec, dict):
        check_attributes(names, sorted(label_spec), "the dataset")
        return lambda image, attrs: (image, tf.stack([tf.cast(attrs[n], tf.int32) for n in names], -1))
    if len(names) != 1:
        raise ValueError(
            f"The dataset yields one unnamed label per image but {len(names)} labels were asked for; "
            "give a dataset of (image, {name: 0/1}) dicts to fit several at once."
        )
    return lambda image, label: (image, tf.expand_dims(tf.cast(label, tf.int32), -1))
