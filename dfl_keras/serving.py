"""TF Serving REST requests for an exported editor, and their answers as numpy.

Only numpy, json and base64: a client needs neither TensorFlow nor the rest of
dfl_keras, and can copy this one file. Each ``*_request`` returns the JSON body
(a dict) for ``POST /v1/models/<name>:predict``, in TF Serving's row format
(``"instances"``: one object per image) or columnar format (``"inputs"``).
Mistakes are caught here, with the fix in the message, before a server sees them.

For photos the client holds the geometry and the server the networks: find
the 5 landmarks of a face with any detector, ``align_face`` cuts its aligned
crop, ``edit_aligned_request`` sends it, and ``paste_face`` adds the answer
back under the soft face mask (see docs/serving.md).
"""

import base64
import json
import os
from pathlib import Path

import numpy as np

FORMATS = ("instances", "inputs")

# Signatures taking images as arrays: whether they take coefficients, and the pixel dtype.
IMAGE_SIGNATURES = {
    "serving_default": (True, "float"),
    "insert_uint8": (True, "uint8"),
    "encode": (False, "float"),
    "reconstruct": (False, "float"),
    "reconstruct_uint8": (False, "uint8"),
}
FACE_TEMPLATE_FILE = "face_template.txt"  # in an export's assets: 5 lines "x y" (unit coordinates)
# The soft face mask, here so this file works alone; dfl_keras.photos pastes under the same one.
MASK_FEATHER = 0.3  # outer share of the mask's radius over which it fades to 0
# Per region: the ellipse's half axes along and across the eye line, in eye distances, and
# where its centre sits from the eyes (0) to the mouth (1). "face" leaves the hair out, so
# the hair attributes get "head", which reaches the top of the hair and the ears; "eyes"
# holds the eyes, brows and the skin under the eyes; "mouth" the lips, the skin above them
# (a moustache), the chin and the jaw. Regions joined by "+" ("eyes+mouth") take the union.
MASK_REGIONS = {"face": (0.95, 1.4, 0.5), "head": (1.4, 1.95, 0.05),
                "eyes": (1.1, 0.6, -0.1), "mouth": (1.05, 0.8, 1.15)}


def predict_request(
    images, coefficients=None, attribute_names=None, signature="serving_default", format="instances"
):
    """A request running ``signature`` on images (S, S, 3) or (N, S, S, 3).

    Args:
        images: float32 in [0, 1], or uint8 for the ``*_uint8`` signatures.
        coefficients: for the inserting signatures: one t per attribute in the
            model's order, (K,) for every image or (N, K), or a dict
            {name: t (scalar or (N,))} (needs ``attribute_names``; others get 0).
        attribute_names: the model's names in order (see load_attribute_names);
            when given, coefficients are checked against them.
        signature: one of IMAGE_SIGNATURES.
        format: "instances" (row) or "inputs" (columnar).
    """
    if signature not in IMAGE_SIGNATURES:
        raise ValueError(
            f"signature must be one of {sorted(IMAGE_SIGNATURES)}, got {signature!r}. "
            "Use insert_named_request, decode_request or bytes_request for the others."
        )
    inserts, pixels = IMAGE_SIGNATURES[signature]
    batch = _image_batch(images, pixels)
    inputs = {"images": batch}
    if inserts:
        inputs["coefficients"] = _coefficient_matrix(coefficients, attribute_names, len(batch))
    elif coefficients is not None:
        raise ValueError(
            f"Signature {signature!r} takes no coefficients; use 'serving_default' to edit."
        )
    return _body(signature, inputs, format)


def insert_named_request(images, attribute, t=1.0, attribute_names=None, format="instances"):
    """A request for ``insert_named``: one attribute name for all images, or N names, and t."""
    batch = _image_batch(images, "float")
    n = len(batch)
    names = [attribute] * n if isinstance(attribute, str) else list(attribute)
    if len(names) != n:
        raise ValueError(f"Give one attribute name, or one per image ({n}), got {len(names)}.")
    if attribute_names is not None:
        _check_names(names, attribute_names)
    inputs = {"images": batch, "attribute": np.array(names, dtype=str), "t": _per_image(t, n, "t")}
    return _body("insert_named", inputs, format)


def decode_request(z, format="instances"):
    """A request for ``decode``: codes (d,) or (N, d) to images."""
    codes = np.asarray(z, np.float32)
    codes = codes[None] if codes.ndim == 1 else codes
    if codes.ndim != 2 or not len(codes):
        raise ValueError(f"z must have shape (d,) or (N, d), got {np.shape(z)}.")
    _check_finite("z", codes)
    return _body("decode", {"z": codes}, format)


def bytes_request(images, coefficients=None, attribute_names=None, format="instances"):
    """A request for ``insert_bytes`` (with coefficients) or ``reconstruct_bytes``.

    ``images`` are encoded JPEG/PNG/GIF/BMP files of any size, as paths or
    bytes (one or a list); they travel as {"b64": ...}, which TF Serving
    decodes, and the server center-crops and resizes them. Needs an export
    made with raw_images=True.
    """
    files = [images] if isinstance(images, (str, bytes, os.PathLike)) else list(images)
    if not files:
        raise ValueError("No images given.")
    data = [f if isinstance(f, bytes) else Path(f).read_bytes() for f in files]
    inputs = {"image_bytes": [{"b64": base64.b64encode(d).decode("ascii")} for d in data]}
    if coefficients is None:
        return _body("reconstruct_bytes", inputs, format)
    inputs["coefficients"] = _coefficient_matrix(coefficients, attribute_names, len(data))
    return _body("insert_bytes", inputs, format)


def edit_aligned_request(crops, coefficients, attribute_names=None, format="instances"):
    """A request for ``edit_aligned``: aligned crops (n, n, 3) or (N, n, n, 3), float32 in
    [0, 1] at any n (e.g. from align_face), and coefficients as for predict_request."""
    batch = np.asarray(crops)
    batch = batch[None] if batch.ndim == 3 else batch
    if batch.ndim != 4 or batch.shape[-1] != 3 or batch.shape[1] != batch.shape[2]:
        raise ValueError(f"crops must be square, (n, n, 3) or (N, n, n, 3), got {np.shape(crops)}.")
    batch = _image_batch(batch, "float")
    inputs = {"crops": batch,
              "coefficients": _coefficient_matrix(coefficients, attribute_names, len(batch))}
    return _body("edit_aligned", inputs, format)


def load_face_template(path):
    """The model's face template (5, 2) in unit coordinates, from an export's assets.

    ``path`` is a version directory or its assets/face_template.txt (there when
    the model had a template). The ``face_template`` signature returns the same.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "assets" / FACE_TEMPLATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no face template at {path}: export a model that has one "
                                "(dfl_keras.photos.fit_template)")
    return np.loadtxt(path, dtype=np.float64).reshape(5, 2)


def align_face(photo, landmarks, template):
    """A face's aligned crop at its own resolution, and the matrix that places it in the photo.

    The least-squares similarity from the 5 landmarks (x, y photo pixels: left
    eye, right eye, nose, mouth left, mouth right) to the template frames the
    face as the model's training images were; the crop is sampled bilinearly.

    Args:
        photo: uint8 (H, W, 3).
        landmarks: (5, 2), from any detector.
        template: (5, 2) unit coordinates (load_face_template).

    Returns:
        (crop float32 (n, n, 3) in [0, 1], matrix 3x3 photo -> unit crop coordinates).

    Example:
        >>> photo = np.zeros((200, 200, 3), np.uint8)
        >>> points = [[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]]
        >>> template = [[.38, .47], [.62, .48], [.5, .63], [.39, .73], [.61, .72]]
        >>> crop, matrix = align_face(photo, points, template)
        >>> crop.shape
        (157, 157, 3)
    """
    pixels = _photo_pixels(photo)
    matrix = _similarity_fit(check_landmarks(landmarks, pixels.shape), template)
    side = max(1, int(round(1 / np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))))
    unit = (np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1) + 0.5) / side
    where = _apply(np.linalg.inv(matrix), unit) - 0.5  # photo pixel indices
    crop = _sample(pixels.astype(np.float32) / 255, where, clamp=True)
    return np.clip(crop, 0, 1).astype(np.float32), matrix


def paste_face(photo, crop, edited, matrix, template, region="face"):
    """The photo with the change ``edited - crop`` added under the soft face mask, uint8.

    Pixels outside the mask are returned unchanged, so t = 0 returns the photo.

    Args:
        photo: uint8 (H, W, 3), the photo the crop came from.
        crop, edited: the aligned crop sent and the crop edit_aligned returned (n, n, 3).
        matrix, template: from align_face.
        region: the mask's region, as the library's photos.mask_region names it for
            the edited attributes: "face", "head" (hair), "eyes", "mouth", or
            several joined by "+" (MASK_REGIONS).

    Example:
        >>> photo = np.zeros((200, 200, 3), np.uint8)
        >>> points = [[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]]
        >>> template = [[.38, .47], [.62, .48], [.5, .63], [.39, .73], [.61, .72]]
        >>> crop, matrix = align_face(photo, points, template)
        >>> int(paste_face(photo, crop, crop + 0.5, matrix, template).max())
        128
    """
    pixels = _photo_pixels(photo)
    crop, edited = _crop_pixels("crop", crop), _crop_pixels("edited", edited)
    if crop.shape != edited.shape:
        raise ValueError(f"crop and edited must have one shape (the crop sent and the answer to "
                         f"it), got {crop.shape} and {edited.shape}.")
    matrix = np.asarray(matrix, np.float64)
    if matrix.shape != (3, 3) or not np.isfinite(matrix).all() or not np.linalg.det(matrix):
        raise ValueError("matrix must be the 3x3 matrix align_face returned with the crop.")
    change = edited - crop
    side = change.shape[0]
    corners = _apply(np.linalg.inv(matrix), [[0, 0], [1, 0], [0, 1], [1, 1]])
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 2, pixels.shape[1::-1])
    out = pixels.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    grid = np.stack(np.meshgrid(np.arange(x0, x1), np.arange(y0, y1)), -1) + 0.5
    unit = _apply(matrix, grid)
    weight = face_mask_at(template, unit, region)[..., None]
    moved = _sample(change, unit * side - 0.5, clamp=False)
    region = pixels[y0:y1, x0:x1].astype(np.float32)
    edited_region = np.clip(np.round(region + 255 * weight * moved), 0, 255).astype(np.uint8)
    out[y0:y1, x0:x1] = np.where(weight > 0, edited_region, pixels[y0:y1, x0:x1])
    return out


def parse_response(response):
    """The outputs of a predict response (dict or JSON text) as numpy.

    One array for a single-output signature (all of ours), else a dict
    {output name: array}. An ``{"error": ...}`` answer raises RuntimeError.
    """
    if isinstance(response, (str, bytes)):
        response = json.loads(response)
    if "error" in response:
        raise RuntimeError(f"TF Serving rejected the request: {response['error']}")
    if "predictions" in response:
        rows = response["predictions"]
        if rows and isinstance(rows[0], dict):
            return {key: _array([row[key] for row in rows]) for key in rows[0]}
        return _array(rows)
    if "outputs" in response:
        outputs = response["outputs"]
        if isinstance(outputs, dict):
            return {key: _array(value) for key, value in outputs.items()}
        return _array(outputs)
    raise ValueError(
        f"Not a predict response: expected 'predictions' or 'outputs', got keys {sorted(response)}."
    )


def load_attribute_names(path):
    """The model's attribute names, in coefficient order, from an export's assets.

    ``path`` is a version directory or its assets/attribute_names.txt.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "assets" / "attribute_names.txt"
    return path.read_text().splitlines()


def _body(signature, inputs, format):
    if format == "inputs":
        return {"signature_name": signature, "inputs": {k: _jsonable(v) for k, v in inputs.items()}}
    if format == "instances":
        n = len(next(iter(inputs.values())))
        rows = [{k: _jsonable(v[i]) for k, v in inputs.items()} for i in range(n)]
        return {"signature_name": signature, "instances": rows}
    raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")


def _jsonable(value):
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def _image_batch(images, pixels):
    batch = np.asarray(images)
    batch = batch[None] if batch.ndim == 3 else batch
    if (
        batch.ndim != 4
        or batch.shape[-1] != 3
        or batch.shape[1] != batch.shape[2]
        or not len(batch)
    ):
        raise ValueError(
            f"images must have shape (S, S, 3) or (N, S, S, 3) with N >= 1, got {np.shape(images)}."
        )
    if pixels == "uint8":
        if batch.dtype != np.uint8:
            raise TypeError(f"The *_uint8 signatures take uint8 pixels, got {batch.dtype}.")
        return batch
    if not np.issubdtype(batch.dtype, np.floating):
        raise TypeError(
            f"images must be floats in [0, 1], got {batch.dtype} "
            "(divide uint8 pixels by 255, or use an *_uint8 signature)."
        )
    _check_finite("images", batch)
    if batch.min() < 0 or batch.max() > 1:
        hint = " They look like 0..255 values: divide by 255." if 1 < batch.max() <= 255 else ""
        raise ValueError(
            f"images must lie in [0, 1], found [{batch.min():g}, {batch.max():g}].{hint}"
        )
    return batch.astype(np.float32)


def _coefficient_matrix(coefficients, attribute_names, n):
    """(n, K) coefficients in the model's attribute order."""
    if coefficients is None:
        raise ValueError("Inserting needs coefficients: one t per attribute, or a dict {name: t}.")
    if isinstance(coefficients, dict):
        if attribute_names is None:
            raise ValueError(
                "Coefficients by name need attribute_names (the model's order, "
                "e.g. load_attribute_names(version_dir))."
            )
        _check_names(list(coefficients), attribute_names)
        columns = [
            _per_image(coefficients.get(name, 0.0), n, f"t for {name!r}")
            for name in attribute_names
        ]
        matrix = np.stack(columns, axis=1) if columns else np.zeros((n, 0), np.float32)
    else:
        matrix = np.asarray(coefficients, np.float32)
        matrix = np.broadcast_to(matrix, (n, len(matrix))) if matrix.ndim == 1 else matrix
        if matrix.ndim != 2 or len(matrix) != n:
            raise ValueError(
                f"coefficients must have shape (K,) or ({n}, K) for {n} images, "
                f"got {np.shape(coefficients)}."
            )
        if attribute_names is not None and matrix.shape[1] != len(attribute_names):
            amount = "Too many" if matrix.shape[1] > len(attribute_names) else "Too few"
            raise ValueError(
                f"{amount} coefficients: got {matrix.shape[1]} per image, the model has "
                f"{len(attribute_names)} attributes: {', '.join(attribute_names)}."
            )
    _check_finite("coefficients", matrix)
    return matrix


def _per_image(t, n, what):
    values = np.asarray(t, np.float32)
    if values.ndim > 1 or (values.ndim == 1 and len(values) != n):
        raise ValueError(
            f"{what} must be a number or one per image ({n}), got shape {values.shape}."
        )
    _check_finite(what, values)
    return np.broadcast_to(values, (n,))


def _check_names(names, attribute_names):
    """The check and message of dfl_keras.errors.check_attributes, without its did-you-mean hint.

    Repeated here, raising a plain ValueError (UnknownAttributeError's base),
    because this file must work copied alone, without dfl_keras.
    """
    for name in names:
        if name not in attribute_names:
            known = ", ".join(attribute_names) or "none yet"
            raise ValueError(f"unknown attribute {name!r}; the model has: {known}. "
                             f"Received: attributes={list(names)!r}")


def _photo_pixels(photo):
    pixels = np.asarray(photo)
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"photo must be uint8 (H, W, 3) RGB pixels, got {pixels.dtype} "
                         f"{pixels.shape}.")
    return pixels


MIN_LANDMARK_SPAN = 4.0  # pixels: the smallest face a detector finds spans about 15


def check_landmarks(landmarks, shape=None):
    """Five face landmarks (x, y) in pixels of a photo of `shape` (H, W, ...), as float64 (5, 2);
    refused when they cannot be one face there: wrong shape, not finite, bunched into a few
    pixels (0..1 units, or one point five times) or centred off the photo (wrong units).
    Without `shape`, only the first two are checked.

    Example:
        >>> check_landmarks([[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]],
        ...                 (200, 200, 3)).shape
        (5, 2)
    """
    points = np.asarray(landmarks)
    if points.dtype.kind not in "biuf" or points.shape != (5, 2):
        raise ValueError(f"landmarks must be 5 (x, y) points in photo pixels, shape (5, 2), "
                         f"got {points.dtype} {points.shape}.")
    points = points.astype(np.float64)
    if not np.isfinite(points).all():
        raise ValueError("landmarks must be finite numbers (no NaN or Inf): a detector that "
                         "found no face gives none.")
    if shape is None:
        return points
    height, width = shape[:2]
    span = float(np.ptp(points, axis=0).max())
    if span < MIN_LANDMARK_SPAN:
        raise ValueError(f"the 5 landmarks span {span:.3g} px, too few for a face: give them in "
                         "photo pixels (not 0..1 units: multiply by the width and height), one "
                         "point per eye, nose and mouth corner.")
    centre = points.mean(0)
    if not (0 <= centre[0] <= width and 0 <= centre[1] <= height) or span > 2 * max(shape[:2]):
        raise ValueError(f"the landmarks (centre {centre[0]:.4g}, {centre[1]:.4g}; span "
                         f"{span:.4g} px) do not fit in the {width}x{height} photo: give them in "
                         "its pixels, as (x, y).")
    return points


def _crop_pixels(name, values):
    """An aligned crop (n, n, 3) of floats in [0, 1], as float32; refused with the fix if not."""
    crop = np.asarray(values)
    if crop.ndim != 3 or crop.shape[-1] != 3 or crop.shape[0] != crop.shape[1]:
        raise ValueError(f"{name} must be a square crop (n, n, 3), got shape {crop.shape}.")
    if crop.dtype.kind not in "f":
        raise TypeError(f"{name} must be floats in [0, 1], got {crop.dtype} (divide uint8 "
                        "pixels by 255).")
    _check_finite(name, crop)
    if crop.min() < 0 or crop.max() > 1:
        hint = " They look like 0..255 values: divide by 255." if crop.max() > 1.5 else ""
        raise ValueError(f"{name} must lie in [0, 1], found [{crop.min():g}, {crop.max():g}]."
                         f"{hint}")
    return crop.astype(np.float32)


def _similarity_fit(source, target):
    """Least-squares 3x3 similarity taking source points (5, 2) to target points."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    if source.shape != (5, 2) or target.shape != (5, 2):
        raise ValueError(f"landmarks and template must be (5, 2) points, got {source.shape} "
                         f"and {target.shape}.")
    x, y = source[:, 0], source[:, 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    rows = np.concatenate([np.stack([x, -y, one, zero], 1), np.stack([y, x, zero, one], 1)])
    (a, b, c, d), *_ = np.linalg.lstsq(rows, np.concatenate([target[:, 0], target[:, 1]]),
                                       rcond=None)
    return np.array([[a, -b, c], [b, a, d], [0, 0, 1]])


def _apply(matrix, points):
    points = np.asarray(points, np.float64)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _sample(image, where, clamp):
    """image (h, w, c) sampled bilinearly at pixel indices where (..., 2) = (x, y); outside it,
    the nearest edge pixel (clamp) or 0."""
    h, w = image.shape[:2]
    x, y = where[..., 0], where[..., 1]
    if clamp:
        x, y = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    left, top = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - left)[..., None], (y - top)[..., None]
    total = 0
    for dx, dy, share in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                          (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        column, row = left + dx, top + dy
        inside = ((column >= 0) & (column < w) & (row >= 0) & (row < h))[..., None]
        value = image[np.clip(row, 0, h - 1), np.clip(column, 0, w - 1)]
        total = total + share * np.where(inside, value, 0)
    return total.astype(np.float32)


def face_mask_at(template, unit, region="face"):
    """The soft face mask of a unit landmark template at unit points (..., 2), in [0, 1].

    An ellipse of `region` (MASK_REGIONS) turned with the eye line: 1 inside,
    fading to exactly 0 at its edge, so pixels outside never change. Regions
    joined by "+" (e.g. "eyes+mouth", for several edits at once) take the
    largest of their masks at each point.

    Example:
        >>> template = [[.38, .47], [.62, .48], [.5, .63], [.39, .73], [.61, .72]]
        >>> face_mask_at(template, np.array([[0.5, 0.6], [0.02, 0.02]])).tolist()
        [1.0, 0.0]
        >>> face_mask_at(template, np.array([[0.5, 0.47], [0.5, 0.8]]), "eyes+mouth").tolist()
        [1.0, 1.0]
    """
    names = region.split("+") if isinstance(region, str) else [region]
    unknown = [name for name in names if name not in MASK_REGIONS]
    if unknown:
        raise ValueError(f"Unknown mask region {region!r}; choose one of {sorted(MASK_REGIONS)}, "
                         "or several joined by '+'.")
    points = np.asarray(template, np.float64).reshape(5, 2)
    eyes, mouth = points[:2].mean(0), points[3:].mean(0)
    eye_line = points[1] - points[0]
    distance = np.linalg.norm(eye_line)
    cos, sin = eye_line / distance
    mask = 0
    for name in names:
        half_along, half_across, position = MASK_REGIONS[name]
        centre = eyes + position * (mouth - eyes)
        dx, dy = unit[..., 0] - centre[0], unit[..., 1] - centre[1]
        along, across = dx * cos + dy * sin, -dx * sin + dy * cos
        radius = np.hypot(along / (half_along * distance), across / (half_across * distance))
        ramp = np.clip((1 - radius) / MASK_FEATHER, 0, 1)
        mask = np.maximum(mask, ramp * ramp * (3 - 2 * ramp))
    return mask.astype(np.float32)


def _check_finite(what, values):
    if not np.isfinite(values).all():
        raise ValueError(f"{what} must be finite numbers (no NaN or Inf).")


def _array(values):
    array = np.asarray(values)
    return array.astype(np.float32) if np.issubdtype(array.dtype, np.floating) else array
