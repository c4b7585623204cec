"""Editing the faces in photos: find, align, edit in the model's frame, paste the change back."""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from dfl_keras.images_io import as_grey, is_grey, photo_name, read_photo
from dfl_keras.photos.align import align, alignment_for
from dfl_keras.photos.blend import face_mask, mask_region, paste
from dfl_keras.photos.faces import (MAX_TURN, Face, FaceIndexError, NoFaceError, face_turn,
                                    find_faces, require_faces)
from dfl_keras.photos.guided import guided_upsample
from dfl_keras.photos.strength import (STEPS, auto_strengths, calibrated_strength,
                                       distance_strengths)
from dfl_keras.photos.template import template_of
from dfl_keras.vectors import warn_bounded

DETAILS = ("keep", "replace", "blend")
MAX_CHANGE_SIDE = 1024  # the change is smooth: finer than this adds memory, not detail
BLEND_CHANGE = 0.15  # mean pixel change at which "blend" takes the decoded face entirely
GUIDE_SIDE = 256  # the guided change's size: finer than the halo it is meant to stop


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
         min_confidence=0.95, min_size=36, match_colour=False, step="add", guide=False):
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
            Either goes under a soft mask of the part each attribute is about:
            the eyes, the mouth and jaw, the head with its hair, or else the
            whole face; several edits take the union (photos.mask_region).
        judge: an AttributeJudge, for strength="auto".
        step: what a strength means. "add" (the DeepFakeLab method): t, added as
            t v to every face's code. "distance" (InterFaceGAN's per-face step):
            a signed distance along v from the mean code, in units of t, to which
            every face is moved, so a face far from the attribute gets a larger
            t than one near it (photos.strength.distance_strengths); the default
            is each vector's calibrated distance.
        guide: upsample the decoded change along the photo's own edges
            (photos.guided.guided_upsample) rather than smoothly. Off by
            default: on the halo cases (hair colours on plain backgrounds,
            benchmarks/bench_halo.py) it stopped no measurable share of the
            change that spills onto the background with the shipped decoder.
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
                       min_size, match_colour, step, guide)[0]
    if isinstance(result, NoFaceError):
        raise result
    return result


def edit_many(model, photos, edits, faces="all", strength=None, detail="keep", judge=None,
              min_confidence=0.95, min_size=36, match_colour=False, step="add", guide=False):
    """edit() for many photos, encoding and decoding all their faces in one batch.

    ``faces`` is as for edit(), for every photo, or a list with one such entry
    per photo (e.g. [[Face, ...], "largest", ...]).

    Returns one entry per photo: a PhotoEdit, or the NoFaceError for a photo
    without faces (so the others are still edited).
    """
    if isinstance(photos, (str, Path, np.ndarray)):
        raise ValueError("edit_many takes a list of photos (paths or arrays); for one photo, "
                         "use edit(model, photo, ...)")
    _check_detail(detail)
    if step not in STEPS:
        raise ValueError(f"Unknown step {step!r}; choose one of {STEPS}.")
    if strength == "auto" and step != "add":
        raise ValueError("strength='auto' chooses t per face itself: use it with step='add'.")
    names = [edits] if isinstance(edits, str) else list(edits)
    strengths = _strengths(model, names, strength, step)
    encoded = encode_photos(model, photos, faces, min_confidence, min_size)
    ready = [entry for entry in encoded if isinstance(entry, EncodedPhoto)]
    if not ready:
        return encoded
    crops = np.concatenate([entry.crops for entry in ready])
    codes = np.concatenate([entry.codes for entry in ready])
    region = mask_region(names)
    if strengths is None:
        per_face = auto_strengths(model, judge, crops, codes, names, template_of(model), region)
    elif step == "distance":
        per_face = distance_strengths(model, codes, strengths)
    else:
        per_face = {name: np.full(len(codes), t) for name, t in strengths.items()}
    edited, scales = _decode_edited(model, codes, per_face)
    results, first = {}, 0
    for entry in ready:
        rows = slice(first, first + len(entry.faces))
        t = {name: values[rows] * scales[rows] for name, values in per_face.items()}
        results[id(entry)] = entry.paste_edits(edited[rows], t, detail, match_colour, region,
                                               guide)
        first = rows.stop
    return [results.get(id(entry), entry) for entry in encoded]


@dataclass
class EncodedPhoto:
    """A photo whose faces are found, aligned and encoded once: each edit then only decodes and
    pastes, which is what an interactive editor needs when a slider moves.

    Attributes:
        photo: uint8 (H, W, 3).
        faces: the Face of each face, in the order of the rows below.
        alignments: each face's Alignment in the photo.
        crops: float32 (n, S, S, 3), the aligned crops the model encoded.
        codes: float32 (n, d), their codes z.
        plain: float32 (n, S, S, 3), psi(z): the decodes that edits are measured against.
        name: how messages name the photo.

    Example:
        >>> from dfl_keras import LatentAttributeModel
        >>> model = LatentAttributeModel.from_preset("dfl_celeba64")
        >>> encoded = encode_photo(model, "me.jpg")  # doctest: +SKIP
        >>> smiling = encoded.edit(model, {"Smiling": 1.5})  # doctest: +SKIP
        >>> same = encoded.edit(model, {"Smiling": 0.0}).photo  # doctest: +SKIP
        >>> bool((same == encoded.photo).all())  # doctest: +SKIP
        True
    """

    photo: np.ndarray
    faces: list
    alignments: list
    crops: np.ndarray
    codes: np.ndarray
    plain: np.ndarray
    name: str = "the photo array"
    _native: dict = field(default_factory=dict, repr=False)  # face index -> crop at its own side

    def edit(self, model, strengths, detail="keep", match_colour=False, region=None, guide=False):
        """The photo with every face edited by {name: t} (t a number, or one per face).

        region: the mask's region, by default mask_region of the names; detail,
        match_colour and guide as in edit().
        Returns a PhotoEdit.
        """
        _check_detail(detail)
        n = len(self.faces)
        per_face = {name: np.broadcast_to(np.asarray(t, np.float64), (n,))
                    for name, t in strengths.items()}
        region = region or mask_region(list(strengths))
        edited, scales = _decode_edited(model, self.codes, per_face)
        applied = {name: t * scales for name, t in per_face.items()}
        return self.paste_edits(edited, applied, detail, match_colour, region, guide)

    def paste_edits(self, edited, per_face, detail, match_colour, region, guide=False):
        """A PhotoEdit from the faces' edited decodes (n, S, S, 3) and their t {name: (n,)}.
        A black-and-white photo stays black and white."""
        result = PhotoEdit(self.photo, [], self.name)
        for j, face in enumerate(self.faces):
            how = _detail_for(face, detail, self.name)
            change = self._change(j, edited[j], how, match_colour, region, guide)
            result.photo = paste(result.photo, change, self.alignments[j], region=region)
            t = {name: float(values[j]) for name, values in per_face.items()}
            result.faces.append(FaceEdit(face.box, face.landmarks, face.confidence, t))
        if is_grey(self.photo):
            result.photo = as_grey(result.photo)
        return result

    def select(self, indices):
        """The same photo with only the faces at `indices` (into self.faces) to edit."""
        rows = list(indices)
        return EncodedPhoto(self.photo, [self.faces[i] for i in rows],
                            [self.alignments[i] for i in rows], self.crops[rows],
                            self.codes[rows], self.plain[rows], self.name)

    def scaled(self, factor):
        """The same faces in a copy of the photo resized by `factor` (antialiased), e.g. a
        preview: the codes are reused, only the geometry is scaled."""
        height, width = self.photo.shape[:2]
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        photo = tf.image.resize(self.photo, size, antialias=True)
        photo = np.asarray(tf.cast(tf.clip_by_value(tf.round(photo), 0, 255), tf.uint8))
        scale = np.array([size[1] / width, size[0] / height])
        faces = [Face(tuple(float(v) for v in np.asarray(face.box) * np.tile(scale, 2)),
                      face.landmarks * scale, face.confidence) for face in self.faces]
        alignments = [alignment_for(face, alignment.template)
                      for face, alignment in zip(faces, self.alignments)]
        return EncodedPhoto(photo, faces, alignments, self.crops, self.codes, self.plain,
                            self.name)

    def _change(self, j, after, detail, match_colour, region, guide):
        """The crop-space change to paste for face j, at the face's own resolution (capped)."""
        alignment = self.alignments[j]
        side = min(alignment.side, MAX_CHANGE_SIDE)
        before = self.plain[j]
        difference = after - before
        if guide:  # the change at up to GUIDE_SIDE, following the photo's edges there
            fine = align(self.photo, self.faces[j], alignment.template, min(side, GUIDE_SIDE))[0]
            difference = guided_upsample(difference, self.crops[j], fine)
        if detail == "keep":
            return _resize(difference, side)
        mask = face_mask(alignment.template, before.shape[0], region=region)[..., None]
        if match_colour:
            weight = mask.sum()
            after = after + ((self.crops[j] - before) * mask).sum((0, 1)) / weight
        if j not in self._native:
            self._native[j] = align(self.photo, self.faces[j], alignment.template, side)[0]
        replaced = _resize(after, side) - self._native[j]
        if detail == "replace":
            return replaced
        strong = np.clip(np.abs(difference).mean(-1, keepdims=True) / BLEND_CHANGE, 0, 1)
        strong = _resize(strong * strong * (3 - 2 * strong), side)
        kept = _resize(difference, side)
        return kept + strong * (replaced - kept)


def encode_photo(model, photo, faces="all", min_confidence=0.95, min_size=36):
    """One photo's faces found (or given, as in edit()), aligned and encoded: an EncodedPhoto.

    Raises NoFaceError (a ValueError) when no face is found.
    """
    (encoded,) = encode_photos(model, [photo], faces, min_confidence, min_size)
    if isinstance(encoded, NoFaceError):
        raise encoded
    return encoded


def encode_photos(model, photos, faces="all", min_confidence=0.95, min_size=36):
    """encode_photo() for many photos, encoding all their faces in one batch; a photo without
    faces gives its NoFaceError in its place."""
    template = template_of(model)
    size = model.image_size
    photos = list(photos)
    found = []
    for photo, wanted in zip(photos, _per_photo(faces, len(photos))):
        pixels = read_photo(photo)
        try:
            chosen = _choose(photo, pixels, wanted, min_confidence, min_size)
        except NoFaceError as error:
            found.append(error)
            continue
        aligned = [align(pixels, face, template, size) for face in chosen]
        found.append((pixels, chosen, aligned, photo_name(photo)))
    jobs = [entry for entry in found if not isinstance(entry, NoFaceError)]
    if not jobs:
        return found
    crops = np.stack([crop for _, _, aligned, _ in jobs for crop, _ in aligned])
    codes = np.asarray(model.encode(crops), np.float32)
    plain = np.asarray(model.decode(codes), np.float32)
    encoded, first = {}, 0
    for job in jobs:
        pixels, chosen, aligned, name = job
        rows = slice(first, first + len(chosen))
        encoded[id(job)] = EncodedPhoto(pixels, chosen, [a for _, a in aligned], crops[rows],
                                        codes[rows], plain[rows], name)
        first = rows.stop
    return [encoded.get(id(entry), entry) for entry in found]


def _decode_edited(model, codes, per_face):
    """(psi(z + sum t v) for each face's code, the share of each edit kept): an edit that would
    take a code where codes stop decoding to faces is shortened, with a warning
    (model.bound_edit). The same shapes as the plain decodes, so t = 0 gives arrays equal to
    them."""
    delta, scales = model.bound_edit(codes, model.edit_offsets(per_face, len(codes)))
    warn_bounded(scales, per_face)
    return np.asarray(model.decode(codes + delta), np.float32), scales


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


def _check_detail(detail):
    if detail not in DETAILS:
        raise ValueError(f"Unknown detail {detail!r}; choose one of {DETAILS}.")


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


def _strengths(model, names, strength, step):
    """{name: t or distance}, or None for strength="auto" (chosen per face once the faces are
    encoded)."""
    if strength == "auto":
        return None
    if strength is None or isinstance(strength, dict):
        given = strength or {}
        unknown = set(given) - set(names)
        if unknown:
            raise ValueError(f"strength names {sorted(unknown)} are not among the edits {names}.")
        return {n: _number(given[n], f"t for {n!r}") if n in given
                else calibrated_strength(model, n, step) for n in names}
    return {n: _number(strength, "strength") for n in names}


def _number(value, what):
    """A strength as a float, or a ValueError naming what it should be."""
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        raise ValueError(f"{what} must be a number, a dict {{name: t}}, None (the calibrated "
                         f"t) or 'auto' (lower case), got {value!r}")
    return float(value)


def _resize(image, side):
    if image.shape[0] == side:
        return np.asarray(image, np.float32)
    return tf.image.resize(image, (side, side), method="bicubic", antialias=True).numpy()
