"""Putting a change back into a photo under a feathered face mask."""

import numpy as np
import tensorflow as tf

from dfl_keras.photos.align import _scaling, _shift, warp

FEATHER = 0.3  # outer share of the mask's radius over which it fades to 0
MASK_SIDE = 256  # the mask is smooth: a finer one costs time and changes nothing
# Per region: the ellipse's half axes along and across the eye line, in eye distances, and
# where its centre sits from the eyes (0) to the mouth (1). "face" leaves the hair out, so
# the hair attributes get "head", which reaches the top of the hair and the ears.
MASK_REGIONS = {"face": (0.95, 1.4, 0.5), "head": (1.4, 1.95, 0.05)}
HAIR_ATTRIBUTES = frozenset({
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair",
    "Receding_Hairline", "Straight_Hair", "Wavy_Hair", "Wearing_Hat"})


def mask_region(names):
    """The mask region an edit of attributes `names` needs: "head" if any is about hair."""
    return "head" if HAIR_ATTRIBUTES.intersection(names) else "face"


def face_mask(template, side, feather=FEATHER, region="face"):
    """A soft elliptical face mask (side, side) in [0, 1] from a unit landmark template.

    The ellipse of `region` (MASK_REGIONS: "face" is centred between the eyes
    and the mouth, 0.95 and 1.4 eye distances across its half axes; "head" also
    covers the hair) is turned with the eye line; it is exactly 0 outside, so
    those pixels never change.

    Example:
        >>> from dfl_keras.photos import CELEBA_HQ_TEMPLATE
        >>> face_mask(CELEBA_HQ_TEMPLATE, 32).shape
        (32, 32)
        >>> bool(face_mask(CELEBA_HQ_TEMPLATE, 32, region="head")[2, 16] > 0)  # the hair
        True
    """
    if region not in MASK_REGIONS:
        raise ValueError(f"Unknown mask region {region!r}; choose one of {sorted(MASK_REGIONS)}.")
    half_along, half_across, position = MASK_REGIONS[region]
    points = np.asarray(template, np.float64).reshape(5, 2)
    eyes, mouth = points[:2].mean(0), points[3:].mean(0)
    eye_line = points[1] - points[0]
    distance = np.linalg.norm(eye_line)
    cos, sin = eye_line / distance
    centre = eyes + position * (mouth - eyes)
    grid = (np.arange(side) + 0.5) / side
    dx, dy = grid[None, :] - centre[0], grid[:, None] - centre[1]
    along, across = dx * cos + dy * sin, -dx * sin + dy * cos
    radius = np.sqrt((along / (half_along * distance)) ** 2
                     + (across / (half_across * distance)) ** 2)
    ramp = np.clip((1 - radius) / feather, 0, 1)
    return (ramp * ramp * (3 - 2 * ramp)).astype(np.float32)


def paste(photo, change, alignment, mask=None, region="face"):
    """The photo with `change` (a crop-space difference, (n, n, 3) in [-1, 1]) added under the mask.

    To paste a face itself, pass change = face - aligned crop. Pixels where
    the mask is 0, and all pixels outside the aligned frame, are returned
    unchanged; a frame cut by the photo's border is edited where it is inside.

    Args:
        photo: uint8 (H, W, 3).
        change: float (n, n, 3), any n (the frame is resolution-free).
        alignment: from align().
        mask: (m, m) in [0, 1] in crop space; default face_mask(alignment.template,
            region=region) at n or MASK_SIDE pixels, whichever is fewer.
        region: the default mask's region, "face" or "head" (see mask_region).

    Example:
        >>> from dfl_keras.photos import CELEBA_HQ_TEMPLATE
        >>> photo = np.zeros((200, 200, 3), np.uint8)
        >>> points = [[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]]
        >>> crop, alignment = align(photo, points, CELEBA_HQ_TEMPLATE, size=64)
        >>> from dfl_keras.photos import align
        >>> paste(photo, np.full((64, 64, 3), 0.5), alignment).max()
        128
    """
    change = tf.convert_to_tensor(change, tf.float32)
    side = change.shape[0]
    if mask is None:
        mask = face_mask(alignment.template, min(side, MASK_SIDE), region=region)
    mask = np.asarray(mask, np.float32)
    rows, columns = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not len(rows):
        return photo.copy()
    support = np.array([columns[0] - 1, rows[0] - 1, columns[-1] + 2, rows[-1] + 2]) / mask.shape[0]
    x0, y0, x1, y1 = alignment.footprint(photo.shape, tuple(support))
    if x1 <= x0 or y1 <= y0:
        return photo.copy()
    region_to_crop = (_shift(-0.5) @ _scaling(mask.shape[0]) @ alignment.matrix
                      @ _shift(np.array([x0, y0], float) + 0.5))
    weight = warp(mask[..., None], region_to_crop, (y1 - y0, x1 - x0))
    crop_scale = _scaling(side / mask.shape[0])
    moved = warp(change, _shift(-0.5) @ crop_scale @ _shift(0.5) @ region_to_crop,
                 (y1 - y0, x1 - x0))
    region = tf.convert_to_tensor(photo[y0:y1, x0:x1], tf.float32)
    edited = tf.clip_by_value(tf.round(region + 255 * weight * moved), 0, 255)
    out = photo.copy()
    inside = weight.numpy() > 0
    out[y0:y1, x0:x1] = np.where(inside, edited.numpy().astype(np.uint8), photo[y0:y1, x0:x1])
    return out
