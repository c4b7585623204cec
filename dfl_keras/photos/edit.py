"""Editing the faces in photos: find, align, edit in the model's frame, paste the change back."""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from dfl_keras.images_io import as_grey, is_grey, photo_name, read_photo
from dfl_keras.photos.align import align
from dfl_keras.photos.blend import face_mask, mask_region, paste
from dfl_keras.photos.faces import (MAX_TURN, Face, FaceIndexError, NoFaceError, face_turn,
                                    find_faces, require_faces)
from dfl_keras.photos.strength import auto_strengths
from dfl_keras.photos.template import template_of
from dfl_keras.vectors import warn_bounded

DETAILS = ("keep", "replace", "blend")
MAX_CHANGE_SIDE = 1024  # the change is smooth: finer than this adds memory, not detail
BLEND_CHANGE = 0.15  # mean pixel change at which "blend" takes the decoded face entirely


@dataclass
class FaceEdit:
    """What was done to one face: its box and landmarks (photo pixels) and the t per attribute."""

    box: tuple
    landmarks: np.ndarray
    confidence: float
    t: dict


@dataclass
class PhotoEdit:
    """An edited photo (uint8, the input's size) and its faces."""

    photo: np.ndarray
    faces: list = field(default_factory=list)
    name: str = "the photo array"


def edit(model, photo, edits, faces="all", strength=None, detail="keep", judge=None,
         min_confidence=0.95, min_size=36, match_colour=False):
    """Edit the faces in one photo with attribute vectors; the rest of the photo is untouched.

    Args:
        model: a LatentAttributeModel with fitted vectors and a face template.
        photo: uint8 (H, W, 3) pixels or a path (EXIF orientation honoured).
        edits: an attribute name or a list of names.
        faces: "all", "largest", an index into the faces found (largest first),
            or your own faces: a list of Face (Face.from_landmarks(points)).
        strength: None (each vector's calibrated t, else 1.0), a number, {name: t},
            or "auto": per face the smallest t at which the judge sees the
            attribute, before it sees a watched attribute (the AttGAN 13) change,
            capped at twice the calibrated t (dfl_keras.photos.strength).
        detail: "keep" adds psi(z + sum t v) - psi(z) to the photo, so t = 0
            returns it exactly; "replace" pastes the decoded face; "blend" adds
            the change but leans towards the decoded face where it changes strongly.
            Either goes under a face mask that also covers the hair when an
            edit is about hair (photos.mask_region).
        judge: an AttributeJudge, for strength="auto".
        min_confidence, min_size: detection thresholds (see find_faces).
        match_colour: shift the decoded face's colours to the photo's inside the
            mask ("replace" and "blend").

    Returns:
        a PhotoEdit. Raises NoFaceError (a ValueError) when no face is found.

    Example:
        >>> from dfl_keras import LatentAttributeModel
        >>> model = LatentAttributeModel.from_preset("dfl_celeba64")
        >>> result = edit(model, "me.jpg", "Smiling")  # doctest: +SKIP
        >>> result.photo.shape, [face.t for face in result.faces]  # doctest: +SKIP
    """
    if isinstance(photo, (list, tuple)) and photo and isinstance(photo[0], (str, Path)):
        raise ValueError(f"edit takes one photo, got a list of {len(photo)} paths: use "
                         "edit_many(model, photos, ...) for several")
    result = edit_many(model, [photo], edits, faces, strength, detail, judge, min_confidence,
                       min_size, match_colour)[0]
    if isinstance(result, NoFaceError):
        raise result
    return result


def edit_many(model, photos, edits, faces="all", strength=None, detail="keep", judge=None,
              min_confidence=0.95, min_size=36, match_colour=False):
    """edit() for many photos, encoding and decoding all their faces in one batch.

    ``faces`` is as for edit(), for every photo, or a list with one such entry
    per photo (e.g. [[Face, ...], "largest", ...]).

    Returns one entry per photo: a PhotoEdit, or the NoFaceError for a photo
    without faces (so the others are still edited).
    """
    if detail not in DETAILS:
        raise ValueError(f"Unknown detail {detail!r}; choose one of {DETAILS}.")
    if isinstance(photos, (str, Path, np.ndarray)):
        raise ValueError("edit_many takes a list of photos (paths or arrays); for one photo, "
                         "use edit(model, photo, ...)")
    names = [edits] if isinstance(edits, str) else list(edits)
    strengths = _strengths(model, names, strength, judge)
    template = template_of(model)
    region = mask_region(names)
    size = model.image_size
    photos = list(photos)
    per_photo = _per_photo(faces, len(photos))
    jobs, results, grey = [], [], []
    for photo, wanted in zip(photos, per_photo):
        pixels = read_photo(photo)
        grey.append(is_grey(pixels))
        try:
            chosen = _choose(photo, pixels, wanted, min_confidence, min_size)
        except NoFaceError as error:
            results.append(error)
            continue
        results.append(PhotoEdit(pixels, [], photo_name(photo)))
        for face in chosen:
            crop, alignment = align(pixels, face, template, size)
            jobs.append((results[-1], face, crop, alignment))
    if not jobs:
        return results
    crops = np.stack([job[2] for job in jobs])
    codes = np.asarray(model.encode(crops), np.float32)
    if strengths is None:
        per_face = auto_strengths(model, judge, crops, codes, names, template, region)
    else:
        per_face = {name: np.full(len(jobs), t) for name, t in strengths.items()}
    delta, scales = model.bound_edit(codes, model.edit_offsets(per_face, len(jobs)))
    warn_bounded(scales, per_face)
    plain = np.asarray(model.decode(codes), np.float32)  # same shapes: t = 0 gives equal arrays
    edited = np.asarray(model.decode(codes + delta), np.float32)
    for j, ((result, face, crop, alignment), before, after) in enumerate(zip(jobs, plain, edited)):
        how = _detail_for(face, detail, result.name)
        change = _change(result.photo, face, template, crop, alignment, before, after, how,
                         match_colour, region)
        result.photo = paste(result.photo, change, alignment, region=region)
        t = {name: float(values[j] * scales[j]) for name, values in per_face.items()}
        result.faces.append(FaceEdit(face.box, face.landmarks, face.confidence, t))
    for result, was_grey in zip(results, grey):
        if was_grey and isinstance(result, PhotoEdit):  # a black-and-white photo stays so
            result.photo = as_grey(result.photo)
    return results


def _detail_for(face, detail, name):
    """`detail`, or "keep" with a warning for a face turned too far for the model's frontal
    framing: a decoded frontal face pasted over it ("replace", "blend") smears."""
    if detail == "keep" or abs(face_turn(face.landmarks)) <= MAX_TURN:
        return detail
    warnings.warn(f"{name}: the face at {tuple(round(v) for v in face.box)} is turned too far "
                  f"(turn {face_turn(face.landmarks):+.2f}, beyond {MAX_TURN}) for detail="
                  f"{detail!r}, which pastes a frontal face: kept its own detail (\"keep\")",
                  stacklevel=4)
    return "keep"


def _per_photo(faces, count):
    """One faces entry per photo: the same one for all, unless a list of entries was given."""
    entries = isinstance(faces, (list, tuple)) and len(faces) > 0 and all(
        isinstance(f, (str, int)) or (isinstance(f, (list, tuple)) and not _is_face(f))
        for f in faces)
    if not entries:
        return [faces] * count
    if len(faces) != count:
        raise ValueError(f"faces has {len(faces)} entries for {count} photos; give one per photo.")
    return faces


def _is_face(entry):
    """A Face, or one face's 5 landmarks (rather than a list of faces for one photo)."""
    try:
        return isinstance(entry, Face) or np.shape(entry) == (5, 2)
    except ValueError:  # a ragged list: not 5 points
        return False


def _choose(photo, pixels, faces, min_confidence, min_size):
    if not isinstance(faces, (str, int)):
        return require_faces(photo, [f if isinstance(f, Face) else Face.from_landmarks(f)
                                     for f in faces], min_size)
    found = require_faces(photo, find_faces(pixels, min_confidence, min_size), min_size)
    if faces == "all":
        return found
    if faces == "largest":
        return found[:1]
    if isinstance(faces, int) and not isinstance(faces, bool):
        if not -len(found) <= faces < len(found):
            raise FaceIndexError(faces, len(found), photo_name(photo))
        return [found[faces]]
    raise ValueError(f"faces must be 'all', 'largest', an index or a list of Face, got {faces!r}")


def _strengths(model, names, strength, judge):
    """{name: t}, or None for strength="auto" (chosen per face once the faces are encoded)."""
    if strength == "auto":
        return None
    if strength is None or isinstance(strength, dict):
        given = strength or {}
        unknown = set(given) - set(names)
        if unknown:
            raise ValueError(f"strength names {sorted(unknown)} are not among the edits {names}.")
        return {n: _number(given.get(n, model.attribute_info(n).get("t", 1.0)), f"t for {n!r}")
                for n in names}
    return {n: _number(strength, "strength") for n in names}


def _number(value, what):
    """A strength as a float, or a ValueError naming what it should be."""
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        raise ValueError(f"{what} must be a number, a dict {{name: t}}, None (the calibrated "
                         f"t) or 'auto' (lower case), got {value!r}")
    return float(value)


def _change(photo, face, template, crop, alignment, before, after, detail, match_colour, region):
    """The crop-space change to paste, at the face's own resolution (capped)."""
    side = min(alignment.side, MAX_CHANGE_SIDE)
    difference = after - before
    if detail == "keep":
        return _resize(difference, side)
    mask = face_mask(template, before.shape[0], region=region)[..., None]
    if match_colour:
        weight = mask.sum()
        after = after + ((crop - before) * mask).sum((0, 1)) / weight
    native, _ = align(photo, face, template, side)
    replaced = _resize(after, side) - native
    if detail == "replace":
        return replaced
    strong = np.clip(np.abs(difference).mean(-1, keepdims=True) / BLEND_CHANGE, 0, 1)
    strong = _resize(strong * strong * (3 - 2 * strong), side)
    kept = _resize(difference, side)
    return kept + strong * (replaced - kept)


def _resize(image, side):
    if image.shape[0] == side:
        return np.asarray(image, np.float32)
    return tf.image.resize(image, (side, side), method="bicubic", antialias=True).numpy()
