"""The detector on canvases of real aligned CelebA faces placed with known similarity transforms."""

from pathlib import Path

import numpy as np
import pytest
from photo_canvases import (aligned_photo, background, mapped, needs_aligned_photos, place,
                            similarity)

from dfl_keras import LatentAttributeModel, photos

pytestmark = needs_aligned_photos


def eye_truth(index, matrix):
    """The detector's eyes on the unwarped photo, carried through the known transform."""
    return mapped(photos.find_faces(aligned_photo(index))[0].landmarks[:2], matrix)


@pytest.mark.parametrize("angle, scale", [(-25, 1.0), (25, 1.0), (10, 0.5), (-15, 3.0), (0, 2.0)])
def test_faces_are_found_where_they_were_placed(angle, scale):
    rng = np.random.default_rng(int(scale * 100) + angle)
    height, width = (480, 640) if scale <= 2 else (900, 1000)
    corners = mapped([[0, 0], [178, 0], [0, 218], [178, 218]], similarity(angle, scale, (0, 0)))
    shift = rng.uniform(-corners.min(0), [width, height] - corners.max(0))
    matrix = similarity(angle, scale, shift)
    canvas = place(background(height, width), aligned_photo(3), matrix)
    faces = photos.find_faces(canvas)
    assert len(faces) == 1
    error = np.linalg.norm(faces[0].landmarks[:2] - eye_truth(3, matrix), axis=1).max()
    assert error < 3 * max(1.0, scale), f"eyes {error:.1f} px from the truth"


def three_face_canvas():
    canvas = background(480, 900, seed=1)
    matrices = [similarity(-20, 1.2, (40, 140)), similarity(0, 0.8, (330, 150)),
                similarity(25, 1.0, (700, 60))]
    for index, matrix in enumerate(matrices):
        canvas = place(canvas, aligned_photo(index), matrix)
    return canvas, matrices


def test_three_faces_on_one_canvas_are_found_largest_first():
    canvas, matrices = three_face_canvas()
    faces = photos.find_faces(canvas)
    assert len(faces) == 3
    assert [f.size for f in faces] == sorted((f.size for f in faces), reverse=True)
    for index, matrix in enumerate(matrices):
        truth = eye_truth(index, matrix)
        error = min(np.linalg.norm(f.landmarks[:2] - truth, axis=1).max() for f in faces)
        assert error < 3, f"face {index}: eyes {error:.1f} px from the truth"


def test_a_canvas_without_a_face_raises_a_no_face_error_naming_the_photo(tmp_path):
    path = tmp_path / "empty.png"
    from PIL import Image

    Image.fromarray(background(480, 640, seed=5)).save(path)
    assert photos.find_faces(path) == []
    with pytest.raises(photos.NoFaceError, match="empty.png: no face found"):
        photos.edit(LatentAttributeModel.from_preset("dfl_celeba64"), path, "Smiling")


def test_edit_chooses_faces_and_reports_them():
    canvas, _ = three_face_canvas()
    model = LatentAttributeModel.from_preset("dfl_celeba64")
    every = photos.edit(model, canvas, "Smiling", strength=1.5)
    largest = photos.edit(model, canvas, "Smiling", faces="largest", strength=1.5)
    second = photos.edit(model, canvas, "Smiling", faces=1, strength=1.5)
    assert len(every.faces) == 3 and len(largest.faces) == len(second.faces) == 1
    assert largest.faces[0].box == every.faces[0].box and second.faces[0].box == every.faces[1].box
    assert every.faces[0].t == {"Smiling": 1.5}
    changed = np.any(every.photo != canvas, -1)
    for face in every.faces:  # each face changed, inside its box
        x0, y0, x1, y1 = (int(v) for v in face.box)
        assert changed[y0:y1, x0:x1].mean() > 0.1
    assert not changed[:, :20].any()


def test_fit_template_measures_where_the_landmarks_sit(tmp_path):
    """On aligned CelebA photos the detector's eyes sit near (69.4, 111.3) and (107.6, 111.2)."""
    model = LatentAttributeModel.from_preset("dfl_celeba64")
    template, found = photos.fit_template(model, [aligned_photo(i) for i in range(8)], verbose=0)
    assert found == 8 and np.array_equal(model.face_template, template)
    eyes = template[:2] * [178, 218]
    np.testing.assert_allclose(eyes, [[69.4, 111.3], [107.6, 111.2]], atol=4)


def test_fit_photo_defaults_rewrites_the_model_file_keeping_the_rest(tmp_path):
    import sys

    from helpers import tiny_model
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import fit_photo_defaults

    model = tiny_model()
    model.set_attribute_vector("A", np.arange(model.latent_dim, dtype=np.float32), t=0.5)
    model.save(tmp_path / "m.keras")
    for i in range(3):
        Image.fromarray(aligned_photo(i)).save(tmp_path / f"{i + 1}.jpg")
    fit_photo_defaults.main(["--model", str(tmp_path / "m.keras"), "--data", str(tmp_path)])
    loaded = LatentAttributeModel.from_preset(tmp_path / "m.keras")
    assert loaded.face_template.shape == (5, 2)
    assert fit_photo_defaults.same_behaviour(model, loaded)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.jpg", "2.jpg", "3.jpg", "m.keras"]
