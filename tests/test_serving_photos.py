"""dfl_keras.serving's numpy align_face and paste_face do what dfl_keras.photos's align and paste
do, so a client without TensorFlow can put edit_aligned's answers back into photos."""

import numpy as np
import pytest

from dfl_keras import serving
from dfl_keras.photos import CELEBA_HQ_TEMPLATE, align, paste


def photo_and_landmarks(seed, angle, scale, shape=(240, 300)):
    """A smooth random photo and landmarks: the template turned, scaled and moved."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    photo = np.stack([127 + 100 * np.sin(x / (9 + 4 * c) + y / (13 + 3 * c) + c)
                      for c in range(3)], -1)
    photo = np.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(np.uint8)
    a = np.deg2rad(angle)
    rotation = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    points = (CELEBA_HQ_TEMPLATE - 0.5) @ rotation.T + rng.uniform(0.35, 0.65, 2) * shape[::-1]
    return photo, points


@pytest.mark.parametrize("seed, angle, scale", [(0, 0, 100), (1, 25, 160), (2, -20, 70)])
def test_align_face_cuts_the_crop_photos_align_cuts(seed, angle, scale):
    photo, points = photo_and_landmarks(seed, angle, scale)
    crop, matrix = serving.align_face(photo, points, CELEBA_HQ_TEMPLATE)
    expected, alignment = align(photo, points, CELEBA_HQ_TEMPLATE)
    np.testing.assert_allclose(matrix, alignment.matrix, atol=1e-9)
    assert crop.shape == expected.shape == (alignment.side, alignment.side, 3)
    assert np.abs(crop - expected).max() < 1e-4  # measured 2e-6: float32 rounding


@pytest.mark.parametrize("seed, angle, scale, region", [
    (3, 0, 100, "face"), (4, 25, 160, "face"), (5, -20, 200, "face"), (4, 25, 160, "head"),
    (7, -15, 150, "eyes+mouth"), (8, 10, 120, "mouth")])
def test_paste_face_puts_a_change_back_as_photos_paste_does(seed, angle, scale, region):
    photo, points = photo_and_landmarks(seed, angle, scale)  # seed 5: the frame is cut
    crop, matrix = serving.align_face(photo, points, CELEBA_HQ_TEMPLATE)
    _, alignment = align(photo, points, CELEBA_HQ_TEMPLATE)
    n = crop.shape[0]
    y, x = np.mgrid[0:n, 0:n] / n
    change = np.stack([0.3 * np.sin(5 * x), 0.2 * np.cos(4 * y), -0.25 * x * y], -1)
    edited = np.clip(crop + change, 0, 1)
    ours = serving.paste_face(photo, crop, edited, matrix, CELEBA_HQ_TEMPLATE, region).astype(int)
    theirs = paste(photo, edited - crop, alignment, region=region).astype(int)
    assert ours.dtype == int and (ours != photo).mean() > 0.02  # the change is visible
    difference = np.abs(ours - theirs)
    assert difference.max() <= 1 and difference.mean() < 0.01, (difference.max(),
                                                                difference.mean())
    far = np.ones(photo.shape[:2], bool)
    x0, y0, x1, y1 = alignment.footprint(photo.shape)
    far[y0:y1, x0:x1] = False
    assert (ours[far] == photo[far]).all()  # nothing outside the frame changes


def test_an_unchanged_crop_returns_the_photo_exactly():
    photo, points = photo_and_landmarks(6, 10, 120)
    crop, matrix = serving.align_face(photo, points, CELEBA_HQ_TEMPLATE)
    np.testing.assert_array_equal(serving.paste_face(photo, crop, crop, matrix,
                                                     CELEBA_HQ_TEMPLATE), photo)


def test_bad_photos_and_points_are_refused_in_one_line():
    photo, points = photo_and_landmarks(7, 0, 100)
    with pytest.raises(ValueError, match="photo must be uint8"):
        serving.align_face(photo / 255, points, CELEBA_HQ_TEMPLATE)
    with pytest.raises(ValueError, match=r"must be 5 \(x, y\) points in photo pixels"):
        serving.align_face(photo, points[:4], CELEBA_HQ_TEMPLATE)
    with pytest.raises(ValueError, match="crops must be square"):
        serving.edit_aligned_request(np.zeros((4, 5, 3)), [1.0])


def test_the_served_photo_edit_matches_the_library_s(tmp_path):
    """align_face -> edit_aligned -> paste_face, as docs/serving.md shows it, against
    photos.edit on the same face: equal but for where the crop is resampled to S."""
    import tensorflow as tf

    from dfl_keras import LatentAttributeModel
    from dfl_keras.export import export_serving
    from dfl_keras.photos import Face, edit, mask_region

    model = LatentAttributeModel.from_preset("dfl_celeba64")
    loaded = tf.saved_model.load(str(export_serving(model, tmp_path)))
    names, template = serving.load_attribute_names(tmp_path / "dfl" / "1"), model.face_template
    photo, points = photo_and_landmarks(8, 15, 150)
    crop, matrix = serving.align_face(photo, points, template)
    request = serving.edit_aligned_request(crop, {"Eyeglasses": 1.5}, attribute_names=names)
    (row,) = request["instances"]
    answer = loaded.signatures["edit_aligned"](
        crops=tf.constant([row["crops"]]), coefficients=tf.constant([row["coefficients"]]))
    served = serving.paste_face(photo, crop, answer["images"].numpy()[0], matrix, template,
                                region=mask_region(["Eyeglasses"]))
    library = edit(model, photo, "Eyeglasses", faces=[Face.from_landmarks(points)],
                   strength=1.5).photo
    changed = np.abs(library.astype(int) - photo).max(-1) > 0
    difference = np.abs(served.astype(int) - library)[changed]
    assert changed.mean() > 0.02 and np.abs(library.astype(int) - photo)[changed].mean() > 5
    # Measured 0.50 and 10 under the eyes' mask; 0.34 and 7 over the same pixels under the
    # face mask before the regions (the two resamplings differ most where the change is).
    assert difference.mean() < 1.0 and np.percentile(difference, 99) <= 10, (
        difference.mean(), np.percentile(difference, 99))
    assert (served[~changed] == photo[~changed]).mean() > 0.99
