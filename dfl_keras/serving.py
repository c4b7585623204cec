"""TF Serving REST requests for an exported editor, and their answers as numpy.

Only numpy, json and base64: a client needs neither TensorFlow nor the rest of
dfl_keras, and can copy this one file. Each ``*_request`` returns the JSON body
(a dict) for ``POST /v1/models/<name>:predict``, in TF Serving's row format
(``"instances"``: one object per image) or columnar format (``"inputs"``).
Mistakes are caught here, with the fix in the message, before a server sees them.
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


def _check_finite(what, values):
    if not np.isfinite(values).all():
        raise ValueError(f"{what} must be finite numbers (no NaN or Inf).")


def _array(values):
    array = np.asarray(values)
    return array.astype(np.float32) if np.issubdtype(array.dtype, np.floating) else array
