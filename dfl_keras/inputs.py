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
    if len(images.shape) not in (3, 4):
        hint = (" One greyscale image? Give it 3 channels: np.stack([image] * 3, -1)."
                if len(images.shape) == 2 else "")
        raise ValueError(f"Images must have shape (H, W, 3) or (N, H, W, 3), got shape "
                         f"{tuple(images.shape)}.{hint}")
    single = len(images.shape) == 3
    batch = tf.cast(images, tf.float32)
    if single:
        batch = batch[None]
    check_image_spec(batch.shape, image_size)
    if batch.shape[0] == 0:
        raise ValueError(
            f"No images given; Received: an empty batch of shape {tuple(batch.shape)}.")
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


def check_batch_size(batch_size):
    """batch_size for chunked calls: a whole number of at least 1."""
    check_count("batch_size", batch_size)


def check_count(name, value, minimum=1):
    """A count such as batch_size or the number of faces: a whole number of at least `minimum`."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not whole or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}; Received: "
                         f"{name}={value!r}.")


def check_range(low, high):
    if low < 0.0 or high > 1.0:
        hint = " They look like 0..255 values: divide by 255." if high > 1.0 and high <= 255.0 else ""
        raise ValueError(f"Image values must lie in [0, 1], found [{low:g}, {high:g}].{hint}")


def check_finite(name, values):
    """`values` as float64, refused unless they are finite numbers (strings are not numbers)."""
    given = np.asarray(values)
    if given.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numbers; Received: {values!r} of dtype {given.dtype}.")
    values = given.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite numbers, got {values.tolist()}.")
    return values


STRENGTH_FACTOR = 10
"""t may reach this many times the strength calibrated for a vector (info "t")."""
UNCALIBRATED_STRENGTH = 10.0
"""|t| bound for a vector without a calibrated strength: t = 1 moves a code by the whole
distance between the centroids without and with the attribute."""


def check_strength(name, t, calibrated=None):
    """Refuse t so far beyond what a vector was fitted for that the decoder only saturates.

    Codes pushed 10x past the calibrated strength lie far outside anything the
    decoder was trained on: the faces come out posterised (flat blocks of pure
    colour), not more strongly edited. Refused, not warned about, because a
    library warning is easy to miss and the output is garbage either way.

    Example:
        >>> check_strength("Smiling", np.array(2.0), calibrated=1.5)
        array(2.)
    """
    limit = STRENGTH_FACTOR * abs(calibrated) if calibrated else UNCALIBRATED_STRENGTH
    largest = float(np.max(np.abs(t))) if np.size(t) else 0.0
    if largest > limit:
        basis = (f"{STRENGTH_FACTOR}x its calibrated strength t = {calibrated:g}" if calibrated
                 else "the bound for vectors without a calibrated strength")
        raise ValueError(
            f"t for {name!r} is {largest:g}, beyond {limit:g} ({basis}): codes that far out decode "
            "to posterised colour blocks, not a stronger edit. Use a |t| up to that bound."
        )
    return t


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
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError("data must be a pair (images, labels); Received: a "
                             f"{type(data).__name__} of {len(data)} items.")
        images, targets = data
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"images must be a batch (N, {image_size}, {image_size}, 3); "
                             f"Received: shape {images.shape}.")
        if not np.issubdtype(images.dtype, np.floating):
            as_image_batch(images[:1], image_size)  # raises the dtype error
        targets = _as_label_input(targets, len(images))
        data = tf.data.Dataset.from_tensor_slices((images.astype(np.float32), targets))
    if not isinstance(data, tf.data.Dataset):
        raise TypeError(
            "Expected a tf.data.Dataset of (image, attributes) or a tuple (images, labels) of arrays, "
            f"got {type(data).__name__}."
        )
    image_spec, label_spec = _pair_spec(data.element_spec)
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


def _pair_spec(spec):
    """The (image, labels) specs of a dataset's elements, or an error saying what it yields."""
    fix = "e.g. from dfl_keras.data.celeba_folder(..., attributes=[...])"
    if isinstance(spec, tf.TensorSpec):
        raise ValueError(
            "The dataset yields images without labels; fitting an attribute vector needs "
            f"(image, attributes) pairs, {fix}. Received: elements {spec}."
        )
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError(
            f"The dataset must yield (image, attributes) pairs, {fix}. Received: elements "
            f"{_describe(spec)}."
        )
    first, second = spec
    if not isinstance(first, tf.TensorSpec) or (
            isinstance(second, tf.TensorSpec) and first.shape.rank < second.shape.rank):
        raise ValueError(
            "The dataset's elements look like (attributes, image): the image must come first. "
            f"Swap them with ds.map(lambda labels, image: (image, labels)). Received: elements "
            f"{_describe(spec)}."
        )
    for name, label in (second.items() if isinstance(second, dict) else [("label", second)]):
        numeric = isinstance(label, tf.TensorSpec) and (
            label.dtype.is_integer or label.dtype.is_bool or label.dtype.is_floating)
        if not numeric:
            raise TypeError(
                f"Dataset label {name!r} must be 0/1 numbers; Received: {_describe(label)}. "
                "Map strings to numbers first, e.g. tf.cast(label == 'yes', tf.int32)."
            )
    return first, second


def _describe(spec):
    """A short text of an element spec for messages (TensorSpec reprs are long)."""
    if isinstance(spec, tf.TensorSpec):
        return f"{spec.dtype.name}{tuple(spec.shape.as_list())}"
    if isinstance(spec, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in spec.items()) + "}"
    if isinstance(spec, tuple):
        return "(" + ", ".join(_describe(v) for v in spec) + ")"
    return type(spec).__name__


def _as_label_input(targets, n):
    """Labels as int32 arrays of n values each, checked so casting loses nothing."""
    if isinstance(targets, dict):
        return {name: _label_column(f"labels[{name!r}]", v, n) for name, v in targets.items()}
    return _label_column("labels", targets, n)


def _label_column(name, values, n):
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        example = str(values.ravel()[0]) if values.size else None
        raise TypeError(
            f"{name} must be 0/1 numbers; Received: dtype {values.dtype} (e.g. {example!r}). "
            "Convert them first, e.g. (np.asarray(v) == 'yes').astype(int)."
        )
    if values.shape != (n,):
        raise ValueError(
            f"{name} must hold one value per image ({n}); Received: shape {values.shape}.")
    if values.dtype.kind == "f" and not np.all(np.isfinite(values) & (values == np.round(values))):
        bad = values[~(np.isfinite(values) & (values == np.round(values)))][0]
        raise ValueError(f"{name} must be 0/1; Received: the value {bad!r}. Threshold scores "
                         "first, e.g. (scores > 0.5).astype(int).")
    return values.astype(np.int32)


def _as_int_label(name, value):
    """A dataset label as int32, failing (naming it) on a fractional float, not truncating it."""
    if not value.dtype.is_floating:
        return tf.cast(value, tf.int32)
    check = tf.debugging.assert_equal(
        value, tf.round(value),
        message=f"Dataset label {name} must be 0/1, found a fractional value; threshold it first")
    with tf.control_dependencies([check]):
        return tf.cast(value, tf.int32)


def _label_selector(label_spec, names):
    if isinstance(label_spec, dict):
        check_attributes(names, sorted(label_spec), "the dataset")
        return lambda image, attrs: (
            image, tf.stack([_as_int_label(n, attrs[n]) for n in names], -1))
    if len(names) != 1:
        raise ValueError(
            f"The dataset yields one unnamed label per image but {len(names)} labels were asked for; "
            "give a dataset of (image, {name: 0/1}) dicts to fit several at once."
        )
    return lambda image, label: (image, tf.expand_dims(_as_int_label(names[0], label), -1))
