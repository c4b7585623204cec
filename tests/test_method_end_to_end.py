"""The method works: a learned vector for a visible feature adds and removes that feature."""

import numpy as np
import pytest
from helpers import SIZE, tiny_model

from dfl_keras import photos

PATCH = (slice(0, 6), slice(0, 6))


def patch_faces(n, seed):
    """Smooth random colour images; odd-numbered ones carry a white patch in the top-left corner."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.1, 0.6, (n, 1, 1, 3)) + rng.normal(0, 0.02, (n, SIZE, SIZE, 3))
    has_patch = (np.arange(n) % 2).astype(np.int32)
    images[has_patch == 1, PATCH[0], PATCH[1], :] = 1.0
    return np.clip(images, 0, 1).astype(np.float32), has_patch


def corner(images):
    return images[:, PATCH[0], PATCH[1], :].mean()


# A template whose soft mask covers the top-left corner, where the patch is.
CORNER_TEMPLATE = np.array([[0.0, 0.1], [0.4, 0.1], [0.2, 0.2], [0.05, 0.3], [0.35, 0.3]])
FRAME = 3 * SIZE  # each test image is pasted into a photo 3x enlarged, at (20, 10)


def in_photo(image):
    """A noisy photo holding the image enlarged 3x at (20, 10), and its face's landmarks."""
    photo = np.random.default_rng(2).integers(0, 256, (90, 100, 3), dtype=np.uint8)
    photo[10:10 + FRAME, 20:20 + FRAME] = np.round(np.kron(image, np.ones((3, 3, 1))) * 255)
    return photo, photos.Face.from_landmarks(CORNER_TEMPLATE * FRAME + [20, 10])


def photo_corner(photo):
    return photo[10:10 + 3 * PATCH[0].stop, 20:20 + 3 * PATCH[1].stop].mean() / 255


@pytest.mark.slow
def test_a_fitted_vector_inserts_and_removes_the_patch():
    images, has_patch = patch_faces(512, seed=0)
    model = tiny_model(latent_dim=16)
    model.fit(images, epochs=25, batch_size=32, verbose=0)
    model.fit_attribute_vector((images, has_patch), "Patch", verbose=0)

    held_out, held_labels = patch_faces(64, seed=1)
    without, with_ = held_out[held_labels == 0], held_out[held_labels == 1]
    low, high = corner(model.reconstruct(without)), corner(model.reconstruct(with_))
    assert high - low > 0.3, "the autoencoder must reconstruct the patch for the test to mean anything"

    inserted = corner(model.insert(without, "Patch", t=1.0))
    removed = corner(model.insert(with_, "Patch", t=-1.0))
    # The edit moves the corner most of the way towards the other class.
    assert inserted > low + 0.6 * (high - low)
    assert removed < high - 0.6 * (high - low)
    # Elsewhere the image barely changes.
    rest = np.ones((SIZE, SIZE), bool)
    rest[PATCH] = False
    change = np.abs(model.insert(without, "Patch", t=1.0) - model.reconstruct(without))[:, rest].mean()
    assert change < 0.1

    # The same edit through the photo path: find nothing, align by the given landmarks, paste back.
    model.face_template = CORNER_TEMPLATE
    for image in without[:4]:
        photo, face = in_photo(image)
        edited = photos.edit(model, photo, "Patch", faces=[face], strength=1.0).photo
        assert photo_corner(edited) > photo_corner(photo) + 0.5 * (high - low)
        assert np.array_equal(edited[:, :18], photo[:, :18])  # left of the frame: untouched

    # strength="auto" finds the patch with a judge that looks for it, at a t no larger than needed.
    judge = CornerJudge(threshold=low + 0.5 * (high - low))
    photo, face = in_photo(without[0])
    result = photos.edit(model, photo, "Patch", faces=[face], strength="auto", judge=judge)
    assert 0 < result.faces[0].t["Patch"] <= 1.0
    assert photo_corner(result.photo) > low + 0.4 * (high - low)


class CornerJudge:
    """Sees "Patch" when the aligned crop's top-left corner is bright."""

    attributes = ["Patch"]

    def __init__(self, threshold):
        self.threshold = threshold

    def predict_labels(self, images):
        return corner_means(np.asarray(images))[:, None] > self.threshold


def corner_means(images):
    return images[:, PATCH[0], PATCH[1], :].mean((1, 2, 3))
