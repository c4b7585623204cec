"""Export a LatentAttributeModel for TF Serving as ``<base>/<name>/<version>/``.

Written with keras.export.ExportArchive (one endpoint per signature, see
``endpoints``). The SavedModel needs nothing from dfl_keras at serving time:
encoder and decoder weights are variables, the attribute vectors and names are constants
in the graph, and every signature names its inputs and outputs. Edits use the
deterministic code z_mean, so the server answers exactly as ``model.insert``.

Signatures (N dynamic, S = image_size, K attributes in ``model.attribute_names``
order, d = latent_dim; images are float32 in [0, 1]):

    serving_default    images (N,S,S,3), coefficients (N,K)     -> images
    insert_named       images, attribute (N,) string, t (N,)    -> images
    encode             images                                   -> z (N,d)
    decode             z (N,d)                                  -> images
    reconstruct        images                                   -> images
    attribute_names    no input                                 -> attribute_names (K,)
    edit_aligned       crops (N,n,n,3) any n, coefficients (N,K) -> images (N,n,n,3)

and, for a model with a face template (photos), ``face_template`` (no input ->
face_template (5, 2), unit coordinates), also written to assets/face_template.txt.

edit_aligned is the photo path's detail="keep" on aligned crops: crop +
upsampled(psi(z + sum t v) - psi(z)), clipped to [0, 1], so t = 0 returns the
crop. Crops are float32 in [0, 1] at the face's own resolution (dfl_keras.serving.align_face
makes them from a photo and 5 landmarks, and paste_face puts the answer back).
Every inserting signature refuses |t| beyond the library's bound (inputs.check_strength:
10x the vector's calibrated t, or 10) and float pixels outside [0, 1] with
InvalidArgumentError, and shortens edits as model.bound_edit does (vectors.EDIT_LIMIT).

and with ``raw_images=True``:

    insert_bytes       image_bytes (N,) string, coefficients    -> images
    reconstruct_bytes  image_bytes                              -> images
    insert_uint8       images (N,S,S,3) uint8, coefficients     -> images
    reconstruct_uint8  images uint8                             -> images
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dfl_keras import vectors
from dfl_keras.data import images as image_files
from dfl_keras.inputs import STRENGTH_FACTOR, UNCALIBRATED_STRENGTH

ATTRIBUTE_NAMES_FILE = "attribute_names.txt"
FACE_TEMPLATE_FILE = "face_template.txt"  # 5 lines "x y", unit coordinates, LANDMARKS order
MAX_CHANGE_SIDE = 1024  # as photos.edit: the change is smooth, finer adds memory, not detail


def export_serving(model, base, name="dfl", version=None, overwrite=False, raw_images=False):
    """Write ``model`` as ``<base>/<name>/<version>/`` for TF Serving; return that directory.

    The SavedModel is written to a hidden ``.tmp-*`` directory beside the
    versions and renamed into place, so a server watching ``<base>/<name>``
    never loads a half-written version. Renaming onto a version that exists
    fails, so concurrent exports claim distinct versions.

    Args:
        model: a LatentAttributeModel; its attribute vectors are frozen into the export.
        base: the directory holding one subdirectory per served model.
        name: the model's name (TF Serving's MODEL_NAME).
        version: a non-negative integer; by default one more than the highest there.
        overwrite: replace an existing ``version`` instead of raising FileExistsError.
            The old version disappears for a moment between two renames.
        raw_images: also add the ``*_bytes`` (encoded JPEG/PNG/GIF/BMP of any size,
            center-cropped and resized to S as in training) and ``*_uint8`` signatures.

    Example:

    >>> import tempfile
    >>> from dfl_keras import LatentAttributeModel
    >>> model = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
    >>> version = export_serving(model, tempfile.mkdtemp())
    >>> version.name, (version / "saved_model.pb").is_file()
    ('1', True)
    """
    root = Path(base) / name
    if version is not None:
        version = _checked_version(version)
        if not overwrite and (root / str(version)).exists():
            raise _exists(root / str(version))
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        staged = scratch / "saved_model"
        _write_saved_model(model, staged, raw_images)
        return _publish(staged, root, version, overwrite)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_saved_model(model, path, raw_images=False):
    """The SavedModel at ``path``, not atomically: export_serving stages it."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, *specs) in endpoints(model, raw_images).items():
        archive.add_endpoint(name, fn, input_signature=specs)
    try:
        archive.write_out(str(path), verbose=False)
    except tf.errors.OpError as error:  # TensorFlow's SaveV2 internals, not the user's problem
        if "No space left" not in str(error):
            raise
        raise OSError(errno.ENOSPC, f"no space left on the disk to write the export {path}: "
                      "free some disk space or write elsewhere (--base); no version was "
                      "published") from None
    assets = path / "assets"
    assets.mkdir(exist_ok=True)
    (assets / ATTRIBUTE_NAMES_FILE).write_text("".join(f"{n}\n" for n in model.attribute_names))
    if model.face_template is not None:
        points = np.asarray(model.face_template, np.float64).reshape(5, 2).tolist()
        (assets / FACE_TEMPLATE_FILE).write_text("".join(f"{x!r} {y!r}\n" for x, y in points))


def endpoints(model, raw_images=False):
    """{signature name: (function, TensorSpec per named input)}; functions return named outputs.

    To add a signature, add its entry here: the archive, the staging and the
    versioning need nothing else.
    """
    size, names = model.image_size, model.attribute_names
    vectors = np.reshape([model.attribute_vector(n) for n in names], (len(names), model.latent_dim))
    vectors = vectors.astype(np.float32)
    valid = ", ".join(names) or "none yet"
    limits = np.float32([_strength_limit(model, n) for n in names])
    bound = _code_bound(model)

    def attribute_names():
        return {"attribute_names": tf.constant(names, tf.string, shape=[len(names)])}

    def encode(images):
        return {"z": model.latent_code(_in_range("images", images))}

    def decode(z):
        return {"images": model.decoder(z, training=False)}

    def reconstruct(images):
        return decode(model.latent_code(_in_range("images", images)))

    def offsets(coefficients):
        """sum_i t_i v_i, refusing the t the library refuses (inputs.check_strength)."""
        within = tf.reduce_all(tf.abs(coefficients) <= limits)  # NaN is not within
        tf.debugging.Assert(within, [
            f"coefficients beyond the bound |t| <= {', '.join(f'{x:g}' for x in limits)} (10x "
            f"the calibrated t, or 10) for {valid}: codes that far out decode to posterised "
            "colour blocks. Received: coefficients=", coefficients], summarize=64)
        return tf.matmul(coefficients, vectors)

    def insert(images, coefficients):
        _same_batch(images=images, coefficients=coefficients)
        z = model.latent_code(_in_range("images", images))
        return decode(z + bound(z, offsets(coefficients)))

    def edit_aligned(crops, coefficients):
        """The keep path: the crop plus the decoder's change, upsampled to the crop's size."""
        _same_batch(crops=crops, coefficients=coefficients)
        small = tf.image.resize(_in_range("crops", crops), (size, size), antialias=True)
        z = model.latent_code(small)
        change = model.decoder(z + bound(z, offsets(coefficients)), training=False) - model.decoder(
            z, training=False)
        side = tf.shape(crops)[1:3]
        change = tf.image.resize(change, tf.minimum(side, MAX_CHANGE_SIDE), method="bicubic",
                                 antialias=True)
        change = tf.image.resize(change, side)  # a no-op below MAX_CHANGE_SIDE
        return {"images": tf.clip_by_value(crops + change, 0.0, 1.0)}

    def face_template():
        return {"face_template": tf.constant(np.float32(model.face_template).reshape(5, 2))}

    def insert_named(images, attribute, t):
        _same_batch(images=images, attribute=attribute, t=t)
        chosen = tf.equal(attribute[:, None], attribute_names()["attribute_names"])
        unknown = tf.logical_not(tf.reduce_any(chosen, axis=1))
        # The message of dfl_keras.errors.check_attributes, as far as a graph can write it.
        message = f"unknown attribute; the model has: {valid}. Received: attribute="
        tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(unknown)), [message, tf.boolean_mask(attribute, unknown)]
        )
        return insert(images, tf.cast(chosen, tf.float32) * t[:, None])

    def from_bytes(image_bytes):
        """Decoded, center-cropped and resized exactly as the training pipeline does."""
        decoded = tf.map_fn(
            lambda data: image_files.decode(data, size),
            image_bytes,
            fn_output_signature=tf.TensorSpec((size, size, 3), tf.uint8),
        )
        return tf.image.convert_image_dtype(decoded, tf.float32)

    def insert_bytes(image_bytes, coefficients):
        return insert(from_bytes(image_bytes), coefficients)

    def reconstruct_bytes(image_bytes):
        return reconstruct(from_bytes(image_bytes))

    def insert_uint8(images, coefficients):
        return insert(tf.image.convert_image_dtype(images, tf.float32), coefficients)

    def reconstruct_uint8(images):
        return reconstruct(tf.image.convert_image_dtype(images, tf.float32))

    def spec(shape, name, dtype=tf.float32):
        return tf.TensorSpec(shape, dtype, name=name)

    images = spec((None, size, size, 3), "images")
    pixels = spec((None, size, size, 3), "images", tf.uint8)
    encoded = spec((None,), "image_bytes", tf.string)
    coefficients = spec((None, len(names)), "coefficients")
    table = {
        "serving_default": (insert, images, coefficients),
        "insert_named": (
            insert_named,
            images,
            spec((None,), "attribute", tf.string),
            spec((None,), "t"),
        ),
        "encode": (encode, images),
        "decode": (decode, spec((None, model.latent_dim), "z")),
        "reconstruct": (reconstruct, images),
        "attribute_names": (attribute_names,),
        "edit_aligned": (edit_aligned, spec((None, None, None, 3), "crops"), coefficients),
    }
    if model.face_template is not None:
        table["face_template"] = (face_template,)
    if raw_images:
        table |= {
            "insert_bytes": (insert_bytes, encoded, coefficients),
            "reconstruct_bytes": (reconstruct_bytes, encoded),
            "insert_uint8": (insert_uint8, pixels, coefficients),
            "reconstruct_uint8": (reconstruct_uint8, pixels),
        }
    return table


def _in_range(name, images):
    """Images refused unless in [0, 1]: 0..255 values would be clipped into a white face."""
    low, high = tf.reduce_min(images), tf.reduce_max(images)
    tf.debugging.Assert(tf.logical_and(low >= 0.0, high <= 1.0), [
        f"{name} must be floats in [0, 1] (0..255 values: divide by 255). Received values in",
        low, high])
    return images


def _code_bound(model):
    """The graph form of model.bound_edit: offsets shortened so that edited codes stay within
    vectors.EDIT_LIMIT standard deviations of the training codes along their direction."""
    if model.code_distribution is None:
        return lambda z, delta: delta
    mean, covariance = model.code_distribution
    mean = tf.constant(np.float32(mean))
    whitened = tf.constant(np.float32(vectors.whitening(covariance)))

    def bound(z, delta):
        moved = tf.matmul(delta, whitened)
        length = tf.norm(moved, axis=1)
        direction = moved / tf.maximum(length, 1e-12)[:, None]
        start = tf.reduce_sum(tf.matmul(z - mean, whitened) * direction, axis=1)
        room = tf.maximum(vectors.EDIT_LIMIT - start, 0.0)
        scale = tf.where(length > room, room / tf.maximum(length, 1e-12), 1.0)
        return delta * scale[:, None]

    return bound


def _strength_limit(model, name):
    """The largest |t| inputs.check_strength allows for a vector."""
    calibrated = model.attribute_info(name).get("t")
    return STRENGTH_FACTOR * abs(calibrated) if calibrated else UNCALIBRATED_STRENGTH


def _same_batch(**inputs):
    """Inputs of one request must agree on N, or broadcasting would hide the mistake."""
    (first, x), *rest = inputs.items()
    for name, y in rest:
        tf.debugging.assert_equal(
            tf.shape(y)[0],
            tf.shape(x)[0],
            message=f"{name} must have one entry per image in {first}",
        )


def _publish(staged, root, version, overwrite):
    """Rename the finished SavedModel to its version directory and return that."""
    while True:
        target = root / str(_next_version(root) if version is None else version)
        if overwrite and version is not None and target.exists():
            return _replace(staged, target)
        try:
            os.rename(staged, target)  # fails if another export got there first
            return target
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            if version is not None and not overwrite:
                raise _exists(target) from None


def _replace(staged, target):
    """Swap a version for a new one; the old one goes to the scratch directory."""
    old = staged.with_name("replaced")
    os.rename(target, old)
    try:
        os.rename(staged, target)
    except OSError:
        os.rename(old, target)
        raise
    return target


def _next_version(root):
    versions = [int(p.name) for p in root.iterdir() if p.name.isascii() and p.name.isdigit()]
    return max(versions, default=0) + 1


def _checked_version(version):
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version < 0:
        raise ValueError(
            f"version must be a non-negative integer (a TF Serving version), got {version!r}."
        )
    return int(version)


def _exists(path):
    return FileExistsError(f"Version {path} already exists; pass overwrite=True (dfl export "
                           "--overwrite) to replace it, or choose another version.")
