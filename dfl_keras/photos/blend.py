"""Putting a change back into a photo under a feathered face mask."""

import numpy as np
import tensorflow as tf

from dfl_keras.photos.align import _scaling, _shift, warp
from dfl_keras.serving import MASK_REGIONS, face_mask_at

MASK_SIDE = 256  # the mask is smooth: a finer one costs time and changes nothing
HAIR_ATTRIBUTES = frozenset({
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair",
    "Receding_Hairline", "Straight_Hair", "Wavy_Hair", "Wearing_Hat"})
EYE_ATTRIBUTES = frozenset({
    "Arched_Eyebrows", "Bags_Under_Eyes", "Bushy_Eyebrows", "Eyeglasses", "Narrow_Eyes"})
MOUTH_ATTRIBUTES = frozenset({
    "5_o_Clock_Shadow", "Big_Lips", "Double_Chin", "Goatee", "Mouth_Slightly_Open", "Mustache",
    "No_Beard", "Smiling", "Wearing_Lipstick"})


def attribute_region(name):
    """The mask region (serving.MASK_REGIONS) an edit of one attribute needs.

    A tighter region leaves the rest of the face as it was: an edit of the eyes
    cannot change the mouth or the skin. Attributes of no part ("Male",
    "Young", your own vectors) get the whole face.

    Example:
        >>> attribute_region("Eyeglasses"), attribute_region("Blond_Hair"), attribute_region("Male")
        ('eyes', 'head', 'face')
    """
    if name in HAIR_ATTRIBUTES:
        return "head"
    if name in EYE_ATTRIBUTES:
        return "eyes"
    if name in MOUTH_ATTRIBUTES:
        return "mouth"
    return "face"


def mask_region(names):
    """The mask region an edit of attributes `names` needs: the union of theirs, joined by "+".

    Example:
        >>> mask_region(["Smiling", "Eyeglasses", "Mustache"])
        'eyes+mouth'
    """
    regions = {attribute_region(name) for name in names}
    return "+".join(sorted(regions, key=list(MASK_REGIONS).index))


def face_mask(template, side, region="face"):
    """A soft elliptical face mask (side, side) in [0, 1] from a unit landmark template.

    The ellipse of `region` (serving.MASK_REGIONS: "face" is centred between
    the eyes and the mouth, 0.95 and 1.4 eye distances across its half axes;
    "head" also covers the hair; "eyes" and "mouth" are parts of the face;
    "eyes+mouth" is their union) is turned with the eye line; it is exactly 0
    outside, so those pixels never change. It is serving.face_mask_at on the
    pixel centres, so a client pasting with dfl_keras.serving uses the same mask.

    Example:
        >>> from dfl_keras.photos import CELEBA_HQ_TEMPLATE
        >>> face_mask(CELEBA_HQ_TEMPLATE, 32).shape
        (32, 32)
        >>> bool(face_mask(CELEBA_HQ_TEMPLATE, 32, region="head")[2, 16] > 0)  # the hair
        True
    """
    grid = (np.arange(side) + 0.5) / side
    return face_mask_at(template, np.stack(np.meshgrid(grid, grid), -1), region)


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
            region=region) at MASK_SIDE pixels.
        region: the default mask's region, e.g. "face", "head" or "eyes+mouth" (see
            mask_region).

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
        mask = face_mask(alignment.template, MASK_SIDE, region=region)
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
