"""Canvases made from real aligned CelebA photos placed with known similarity transforms."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ALIGNED = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_aligned"
needs_aligned_photos = pytest.mark.skipif(
    not (ALIGNED / "list_attr_celeba.txt").exists(),
    reason="needs ../shared/data/celeba_aligned (not present on a fresh machine)",
)


def aligned_photo(index):
    """The index-th photo (sorted by name) of celeba_aligned, uint8 (218, 178, 3)."""
    files = sorted((ALIGNED / "img_align_celeba").glob("*.jpg"))
    return np.asarray(Image.open(files[index]).convert("RGB"))


def similarity(angle_degrees, scale, shift):
    """3x3 matrix: rotate by angle and scale about the origin, then shift."""
    a = np.deg2rad(angle_degrees)
    c, s = scale * np.cos(a), scale * np.sin(a)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]], [0, 0, 1]])


def background(height, width, seed=0):
    """A smooth, face-free colour gradient with a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = rng.uniform(60, 200, 3)
    tilt = rng.uniform(-60, 60, (2, 3))
    image = base + x[..., None] * tilt[0] + y[..., None] * tilt[1]
    image = image + rng.normal(0, 4, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def place(canvas, photo, matrix):
    """canvas with photo drawn through matrix (photo coordinates -> canvas coordinates)."""
    inverse = np.linalg.inv(matrix)
    size = (canvas.shape[1], canvas.shape[0])
    coefficients = tuple(inverse[:2].ravel())
    drawn = Image.fromarray(photo).transform(size, Image.Transform.AFFINE, coefficients,
                                              Image.Resampling.BILINEAR)
    inside = Image.new("L", photo.shape[1::-1], 255).transform(
        size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR)
    alpha = np.asarray(inside, np.float32)[..., None] / 255
    return np.round(canvas * (1 - alpha) + np.asarray(drawn) * alpha).astype(np.uint8)


def mapped(points, matrix):
    return np.asarray(points) @ matrix[:2, :2].T + matrix[:2, 2]
