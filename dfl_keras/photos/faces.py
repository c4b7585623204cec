"""Finding faces in photos: boxes and 5 landmarks from the MTCNN detector.

Thresholds measured on 40 canvases of real aligned CelebA faces (rotated by up
to 25 degrees, scaled 0.5-3x) and 30 face-free canvases: every real face was
found with confidence >= 0.98 and a box of >= 41 px (at 0.5x); the one false
box scored 0.91 at 16 px (shared/DESIGN.md saw false boxes of 11-35 px). So
0.95 and 36 px keep every real face and drop every false one seen.
"""

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from dfl_keras.images_io import photo_name, read_photo
from dfl_keras.serving import check_landmarks

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


MAX_TURN = 0.35
"""The most a face may be turned (face_turn) for a decoded frontal face to be pasted over it
("replace", "blend"). Measured on MTCNN's landmarks of 288 real aligned CelebA photos: |turn|
median 0.10, 90th percentile 0.31, 95th 0.38, largest 0.72; the faces beyond about 0.35 are
three-quarter profiles (looked at)."""


class NoFaceError(ValueError):
    """A photo in which no face was found (or only faces below the minimum size)."""


class FaceIndexError(IndexError):
    """A face asked for by its index (largest first) that the photo does not have."""

    def __init__(self, index, found, name):
        super().__init__(f"{name}: the face at index {index} (0 is the largest) was asked for, "
                         f"but {found} face{'s' * (found != 1)} found")
        self.index, self.found, self.name = index, found, name


def face_turn(landmarks):
    """How far a face is turned left or right: the nose's offset from the line between the
    middles of the eyes and of the mouth, in eye distances (0 frontal; about 0.4 a
    three-quarter profile; the sign says which way).

    Example:
        >>> face_turn([[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]])
        0.0
        >>> round(face_turn([[80, 90], [120, 90], [116, 110], [85, 130], [115, 130]]), 2)
        0.4
    """
    points = check_landmarks(landmarks)
    eyes = points[1] - points[0]
    distance = max(float(np.hypot(*eyes)), 1e-9)
    cos, sin = eyes / distance
    middle = (points[:2].mean(0) + points[3:].mean(0)) / 2
    along = (points[2] - middle) @ np.array([cos, sin])
    return float(along / distance)


@dataclass(frozen=True)
class Face:
    """One face: box (x0, y0, x1, y1) and landmarks float (5, 2), (x, y) in LANDMARKS order.

    All in photo pixels; confidence is the detector's (1.0 for faces you give).
    """

    box: tuple
    landmarks: np.ndarray
    confidence: float = 1.0

    @property
    def size(self):
        """The shorter side of the box, in photo pixels."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])

    @classmethod
    def from_landmarks(cls, landmarks):
        """A Face from your own detector's 5 points (x, y) in LANDMARKS order."""
        points = check_landmarks(landmarks)
        low, high = points.min(0), points.max(0)
        margin = (high - low).max() * 0.6
        return cls(tuple(float(v) for v in (*(low - margin), *(high + margin))), points, 1.0)


@functools.lru_cache(maxsize=1)
def detector():
    """The MTCNN detector, made once on first use (its weights ship in the mtcnn wheel)."""
    from mtcnn import MTCNN

    return MTCNN(device="CPU:0")


def find_faces(photo, min_confidence=0.95, min_size=36, max_side=800):
    """The faces in a photo, largest first; [] when there are none.

    Detection runs on a copy downscaled to a long side of `max_side` and the
    results are mapped back, so a 12 MP photo costs about as much as a small
    one; faces smaller than about 20 px in that copy are not found.

    Args:
        photo: uint8 (H, W, 3) pixels or a path.
        min_confidence: weakest detection kept.
        min_size: smallest face kept (the box's shorter side, in photo pixels).
        max_side: long side of the copy the detector sees.

    Example:
        >>> find_faces(np.zeros((100, 100, 3), np.uint8))
        []
    """
    pixels = read_photo(photo)
    scale = min(1.0, max_side / max(pixels.shape[:2]))
    small = pixels
    if scale < 1:
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        small = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))
        scale = np.array([size[0] / pixels.shape[1], size[1] / pixels.shape[0]])
    rows = detector().detect_faces(small, output_type="numpy", box_format="xyxy")
    faces = []
    for row in np.asarray(rows, np.float64).reshape(-1, 16):
        box = tuple(float(v) for v in (row[1:5].reshape(2, 2) / scale).ravel())
        points = np.stack([row[6:11], row[11:16]], 1) / scale
        face = Face(box, points, float(row[5]))
        if face.confidence >= min_confidence and face.size >= min_size:
            faces.append(face)
    return sorted(faces, key=lambda f: -f.size)


def require_faces(photo, faces, min_size):
    """faces, or a NoFaceError naming the photo when there are none."""
    if not faces:
        raise NoFaceError(f"{photo_name(photo)}: no face found (none of at least {min_size} px); "
                          "pass faces=[Face.from_landmarks(...)] if your own detector finds one")
    return faces


def draw_faces(photo, faces):
    """A copy of the photo (uint8 (H, W, 3)) with each face's number, box and 5 landmarks drawn;
    the numbers count from 1, largest first, as the commands' --faces takes them.

    Example:
        >>> face = Face.from_landmarks([[30, 40], [60, 40], [45, 55], [33, 70], [57, 70]])
        >>> drawn = draw_faces(np.zeros((100, 90, 3), np.uint8), [face])
        >>> drawn.shape, bool(drawn.any())
        ((100, 90, 3), True)
    """
    image = Image.fromarray(np.asarray(photo, np.uint8))
    draw = ImageDraw.Draw(image)
    width = max(1, round(max(image.size) / 300))
    for number, face in enumerate(faces, 1):
        x0, y0, x1, y1 = face.box
        draw.rectangle((x0, y0, x1, y1), outline=(0, 255, 0), width=width)
        radius = max(2, width * 2)
        for x, y in face.landmarks:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 0, 0))
        draw.text((x0 + 2 * width, y0 + 2 * width), str(number), fill=(0, 255, 0),
                  font_size=max(10, round((y1 - y0) / 6)))
    return np.asarray(image)
