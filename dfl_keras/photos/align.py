"""Aligning a face to a model's framing: a similarity fit from 5 landmarks, and the warps.

Coordinates: photo points are continuous pixel coordinates (the detector's);
crop points are "unit" coordinates, (0, 0) to (1, 1) across the model's
frame, so one alignment serves a crop of any side. A template is the (5, 2)
unit position of the landmarks in the model's training images.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dfl_keras.photos.faces import Face
from dfl_keras.serving import check_landmarks


def similarity_fit(source, target):
    """The 3x3 similarity (rotation, uniform scale, shift) taking source points nearest to target.

    Least squares over x' = a x - b y + c, y' = b x + a y + d.

    Example:
        >>> similarity_fit([[0, 0], [1, 0]], [[1, 1], [1, 3]]).round(6)[:2]
        array([[ 0., -2.,  1.],
               [ 2.,  0.,  1.]])
    """
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    x, y = source[:, 0], source[:, 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    rows = np.concatenate([np.stack([x, -y, one, zero], 1), np.stack([y, x, zero, one], 1)])
    targets = np.concatenate([target[:, 0], target[:, 1]])
    (a, b, c, d), *_ = np.linalg.lstsq(rows, targets, rcond=None)
    return np.array([[a, -b, c], [b, a, d], [0, 0, 1]])


@dataclass(frozen=True)
class Alignment:
    """Where a model's frame sits in a photo.

    Attributes:
        matrix: 3x3, photo coordinates to unit crop coordinates.
        side: the frame's side in photo pixels (the crop size that keeps the face's own resolution).
        template: the (5, 2) unit landmark template the face was fitted to.
    """

    matrix: np.ndarray
    side: int
    template: np.ndarray

    def to_photo(self, unit_points):
        """Unit crop points (N, 2) as photo points."""
        return _apply(np.linalg.inv(self.matrix), unit_points)

    def to_unit(self, photo_points):
        """Photo points (N, 2) as unit crop points."""
        return _apply(self.matrix, photo_points)

    def footprint(self, shape, unit_box=(0, 0, 1, 1), pad=2):
        """The bounding box (x0, y0, x1, y1) in the photo of a unit box of the frame (by default
        all of it), clipped to the photo; pixel indices."""
        u0, v0, u1, v1 = unit_box
        corners = self.to_photo([[u0, v0], [u1, v0], [u0, v1], [u1, v1]])
        low = np.maximum(np.floor(corners.min(0)).astype(int) - pad, 0)
        high = np.minimum(np.ceil(corners.max(0)).astype(int) + pad, [shape[1], shape[0]])
        return int(low[0]), int(low[1]), int(high[0]), int(high[1])


def alignment_for(face, template):
    """The Alignment fitting a Face (or (5, 2) landmarks) to a template."""
    landmarks = face.landmarks if isinstance(face, Face) else np.asarray(face, np.float64)
    template = np.asarray(template, np.float64).reshape(5, 2)
    matrix = similarity_fit(landmarks, template)
    scale = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    return Alignment(matrix, max(1, int(round(1 / scale))), template)


def align(photo, face, template, size=None):
    """The face's aligned crop, float32 (size, size, 3) in [0, 1], and its Alignment.

    Args:
        photo: uint8 (H, W, 3).
        face: a Face, or (5, 2) landmarks.
        template: (5, 2) unit landmark positions, e.g. model.face_template.
        size: crop side; default the face's own resolution (Alignment.side).
            Where the crop shrinks the face more than 2x, the photo is first
            downscaled with antialiasing.

    Example:
        >>> from dfl_keras.photos import CELEBA_HQ_TEMPLATE
        >>> photo = np.zeros((200, 200, 3), np.uint8)
        >>> points = [[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]]
        >>> crop, alignment = align(photo, points, CELEBA_HQ_TEMPLATE, size=64)
        >>> crop.shape
        (64, 64, 3)
    """
    landmarks = face.landmarks if isinstance(face, Face) else face
    alignment = alignment_for(check_landmarks(landmarks, np.shape(photo)), template)
    size = alignment.side if size is None else int(size)
    x0, y0, x1, y1 = alignment.footprint(photo.shape)
    region = tf.convert_to_tensor(photo[y0:y1, x0:x1], tf.float32) / 255
    shrink = size / alignment.side
    factor = min(1.0, 2 * shrink)
    if factor < 1:
        new = (max(1, round((y1 - y0) * factor)), max(1, round((x1 - x0) * factor)))
        region = tf.image.resize(region, new, antialias=True)
        factor = np.array([new[1] / (x1 - x0), new[0] / (y1 - y0)])
    region_from_photo = _scaling(factor) @ _shift(-np.array([x0, y0], float))
    crop_to_region = (_shift(-0.5) @ region_from_photo @ np.linalg.inv(alignment.matrix)
                      @ _scaling(1 / size) @ _shift(0.5))
    crop = warp(region, crop_to_region, (size, size), fill_mode="NEAREST")
    return np.clip(crop.numpy(), 0, 1), alignment


def warp(image, output_to_input, shape, fill_mode="CONSTANT"):
    """image (H, W, C) sampled bilinearly at output_to_input(pixel) for an output of `shape`."""
    transform = (output_to_input / output_to_input[2, 2]).ravel()[:8].astype(np.float32)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.convert_to_tensor(image, tf.float32)[None], transforms=transform[None],
        output_shape=tf.constant(shape, tf.int32), fill_value=0.0, interpolation="BILINEAR",
        fill_mode=fill_mode)[0]


def _apply(matrix, points):
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _shift(offset):
    matrix = np.eye(3)
    matrix[:2, 2] = offset
    return matrix


def _scaling(factor):
    return np.diag([*np.broadcast_to(np.asarray(factor, float), (2,)), 1.0])
