"""Photo geometry, blending, input handling and the edit pipeline, without the face detector."""

import zlib

import numpy as np
import pytest
from helpers import tiny_model
from PIL import Image

from dfl_keras import LatentAttributeModel, photos

# A face whose frame (the model's image) covers photo pixels 40..136 x 30..126.
FRAME_SIDE, FRAME_AT = 96, np.array([40.0, 30.0])


def framed_face_points():
    return photos.CELEBA_HQ_TEMPLATE * FRAME_SIDE + FRAME_AT


def random_photo(height=180, width=200, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture
def model():
    model = tiny_model()
    model.face_template = photos.CELEBA_HQ_TEMPLATE.astype(np.float32)
    model.set_attribute_vector("A", np.random.default_rng(0).normal(0, 3, model.latent_dim))
    return model


def unit_mask_in_photo(alignment, shape, region="face"):
    """The analytic face-mask radius at every photo pixel centre (>= 1: outside the mask)."""
    half_along, half_across, position = {
        "face": (0.95, 1.4, 0.5), "head": (1.4, 1.95, 0.05), "eyes": (1.1, 0.6, -0.1),
        "mouth": (1.05, 0.8, 1.15)}[region]
    y, x = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    unit = alignment.to_unit(np.stack([x.ravel(), y.ravel()], 1))
    points = alignment.template
    eyes, mouth = points[:2].mean(0), points[3:].mean(0)
    distance = np.linalg.norm(points[1] - points[0])
    offset = unit - (eyes + position * (mouth - eyes))  # the template's eye line is level
    radius = np.hypot(offset[:, 0] / (half_along * distance),
                      offset[:, 1] / (half_across * distance))
    return radius.reshape(shape[:2])


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    angle, scale = np.deg2rad(20), 1.7
    truth = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 5.0],
                      [scale * np.sin(angle), scale * np.cos(angle), -3.0], [0, 0, 1]])
    points = rng.uniform(0, 100, (5, 2))
    moved = points @ truth[:2, :2].T + truth[:2, 2]
    np.testing.assert_allclose(photos.similarity_fit(points, moved), truth, atol=1e-9)


def test_align_crops_the_frame_at_the_face_resolution_and_at_any_size():
    photo = random_photo()
    native, alignment = photos.align(photo, framed_face_points(), photos.CELEBA_HQ_TEMPLATE)
    assert alignment.side == FRAME_SIDE and native.shape == (FRAME_SIDE, FRAME_SIDE, 3)
    # The frame is an axis-aligned copy of the photo there.
    np.testing.assert_allclose(native * 255, photo[30:126, 40:136], atol=0.5)
    small, _ = photos.align(photo, framed_face_points(), photos.CELEBA_HQ_TEMPLATE, size=16)
    # Shrunk 6x with antialiasing: each pixel is about the mean of its 6x6 block.
    blocks = photo[30:126, 40:136].reshape(16, 6, 16, 6, 3).mean((1, 3)) / 255
    assert np.abs(small - blocks).mean() < 0.03


def test_paste_changes_nothing_outside_the_mask_and_something_inside():
    photo = random_photo()
    crop, alignment = photos.align(photo, framed_face_points(), photos.CELEBA_HQ_TEMPLATE)
    out = photos.paste(photo, np.full_like(crop, 0.5), alignment)
    radius = unit_mask_in_photo(alignment, photo.shape)
    assert np.array_equal(out[radius > 1.02], photo[radius > 1.02])
    assert (out[radius < 0.6] != photo[radius < 0.6]).mean() > 0.9


def test_t_zero_returns_the_photo_exactly(model):
    photo = random_photo()
    face = photos.Face.from_landmarks(framed_face_points())
    result = photos.edit(model, photo, "A", faces=[face], strength=0.0)
    assert np.array_equal(result.photo, photo)
    assert result.faces[0].t == {"A": 0.0}
    np.testing.assert_allclose(result.faces[0].landmarks, framed_face_points())


@pytest.mark.parametrize("detail", ["keep", "replace", "blend"])
def test_an_edit_changes_the_face_only(model, detail):
    photo = random_photo()
    face = photos.Face.from_landmarks(framed_face_points())
    result = model.edit_photo(photo, ["A"], faces=[face], strength=3.0, detail=detail)
    alignment = photos.align(photo, face, model.face_template, 16)[1]
    radius = unit_mask_in_photo(alignment, photo.shape)
    assert result.photo.shape == photo.shape and result.photo.dtype == np.uint8
    assert np.array_equal(result.photo[radius > 1.02], photo[radius > 1.02])
    assert np.abs(result.photo[radius < 0.6].astype(int) - photo[radius < 0.6]).mean() > 2


def test_a_hair_edit_reaches_the_hair_and_other_edits_do_not(model):
    model.set_attribute_vector("Blond_Hair", model.attribute_vector("A"))
    photo = random_photo()
    face = photos.Face.from_landmarks(framed_face_points())
    alignment = photos.align(photo, face, model.face_template, 16)[1]
    face_radius = unit_mask_in_photo(alignment, photo.shape)
    head_radius = unit_mask_in_photo(alignment, photo.shape, "head")
    hair = (face_radius > 1.02) & (head_radius < 0.8)
    assert hair.sum() > 200, hair.sum()
    for name, changes_hair in (("A", False), ("Blond_Hair", True)):
        edited = photos.edit(model, photo, name, faces=[face], strength=3.0).photo
        assert np.array_equal(edited[head_radius > 1.02], photo[head_radius > 1.02])
        changed = np.any(edited[hair] != photo[hair], -1).mean()
        assert changed > 0.9 if changes_hair else changed == 0, (name, changed)
    assert photos.mask_region(["Male", "Bangs"]) == "face+head"
    assert photos.mask_region(["Male"]) == "face"


def test_an_edit_of_a_part_of_the_face_changes_that_part_only(model):
    """Eyeglasses reaches the eyes, not the mouth; Mustache the mouth, not the eyes; both at
    once reach both (the union of their regions)."""
    model.set_attribute_vector("Eyeglasses", model.attribute_vector("A"))
    model.set_attribute_vector("Mustache", model.attribute_vector("A"))
    photo = random_photo()
    face = photos.Face.from_landmarks(framed_face_points())
    alignment = photos.align(photo, face, model.face_template, 16)[1]
    eyes = unit_mask_in_photo(alignment, photo.shape, "eyes") < 0.6
    mouth = unit_mask_in_photo(alignment, photo.shape, "mouth") < 0.6
    outside = ((unit_mask_in_photo(alignment, photo.shape, "eyes") > 1.02)
               & (unit_mask_in_photo(alignment, photo.shape, "mouth") > 1.02))
    assert eyes.sum() > 100 and mouth.sum() > 100 and not (eyes & mouth).any()
    for names, reached in ((["Eyeglasses"], (True, False)), (["Mustache"], (False, True)),
                           (["Eyeglasses", "Mustache"], (True, True))):
        edited = photos.edit(model, photo, names, faces=[face], strength=3.0).photo
        changed = np.any(edited != photo, -1)
        assert [changed[part].mean() > 0.9 for part in (eyes, mouth)] == list(reached), names
        assert not changed[outside].any()
    assert photos.mask_region(["Eyeglasses", "Mustache", "Smiling"]) == "eyes+mouth"
    assert [photos.attribute_region(n) for n in ("Narrow_Eyes", "Goatee", "Bald", "Young")] == [
        "eyes", "mouth", "head", "face"]
    with pytest.raises(ValueError, match="Unknown mask region 'eyes\\+nose'"):
        photos.face_mask(model.face_template, 16, region="eyes+nose")


def test_a_face_cut_by_the_border_is_edited_where_it_is_inside(model):
    photo = random_photo()
    points = photos.CELEBA_HQ_TEMPLATE * 120 + [-50, -40]  # the frame hangs over the top left
    result = photos.edit(model, photo, "A", faces=[photos.Face.from_landmarks(points)], strength=3)
    changed = np.any(result.photo != photo, -1)
    assert changed[:40, :40].mean() > 0.3 and not changed[100:, 100:].any()


def test_several_photos_in_one_batch_match_one_by_one(model):
    pair = [random_photo(seed=1), random_photo(seed=2)]
    faces = [photos.Face.from_landmarks(framed_face_points())]
    together = photos.edit_many(model, pair, "A", faces=faces, strength=2.0)
    alone = [photos.edit(model, photo, "A", faces=faces, strength=2.0) for photo in pair]
    for both, one in zip(together, alone):
        assert np.abs(both.photo.astype(int) - one.photo).max() <= 1


def test_strengths_default_to_the_calibrated_t(model):
    model.set_attribute_vector("B", np.ones(model.latent_dim), t=0.7)
    face = photos.Face.from_landmarks(framed_face_points())
    result = photos.edit(model, random_photo(), ["A", "B"], faces=[face], strength={"A": 2})
    assert result.faces[0].t == {"A": 2.0, "B": 0.7}
    with pytest.raises(ValueError, match="not among the edits"):
        photos.edit(model, random_photo(), "A", faces=[face], strength={"C": 1})
    with pytest.raises(ValueError, match="detail"):
        photos.edit(model, random_photo(), "A", faces=[face], detail="sharp")


def test_the_template_travels_in_the_keras_file_and_its_absence_is_explained(model, tmp_path):
    model.save(tmp_path / "with.keras")
    loaded = LatentAttributeModel.from_preset(tmp_path / "with.keras")
    np.testing.assert_array_equal(loaded.face_template, model.face_template)
    bare = tiny_model()
    bare.set_attribute_vector("A", np.ones(bare.latent_dim))
    bare.save(tmp_path / "bare.keras")
    bare = LatentAttributeModel.from_preset(tmp_path / "bare.keras")
    assert bare.face_template is None
    face = photos.Face.from_landmarks(framed_face_points())
    with pytest.raises(ValueError, match="fit_template"):
        photos.edit(bare, random_photo(), "A", faces=[face])


def test_the_shipped_model_carries_its_template():
    template = LatentAttributeModel.from_preset("dfl_celeba64").face_template
    assert template.shape == (5, 2)
    # Eyes level and about a quarter of the frame apart, as the detector sees CelebA-HQ.
    assert abs(template[0, 1] - template[1, 1]) < 0.01
    assert 0.2 < template[1, 0] - template[0, 0] < 0.3


@pytest.mark.parametrize("mode, shape", [("L", (20, 30)), ("RGBA", (20, 30, 4)), ("P", (20, 30))])
def test_photo_files_of_any_mode_become_rgb(tmp_path, mode, shape):
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(tmp_path / "p.png")
    assert photos.read_photo(tmp_path / "p.png").shape == (20, 30, 3)


def test_sixteen_bit_photos_keep_their_tones(tmp_path):
    pixels = np.linspace(0, 65535, 600).astype(np.uint16).reshape(20, 30)
    Image.fromarray(pixels).save(tmp_path / "deep.png")
    read = photos.read_photo(tmp_path / "deep.png")
    np.testing.assert_array_equal(read[..., 0], np.round(pixels / 257).astype(np.uint8))


def test_exif_orientation_is_honoured(tmp_path):
    image = Image.fromarray(np.zeros((20, 30, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to view
    image.save(tmp_path / "phone.jpg", exif=exif)
    assert photos.read_photo(tmp_path / "phone.jpg").shape == (30, 20, 3)


def png_chunk(kind, data):
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


@pytest.mark.parametrize("width, height", [(12000, 9000), (30000, 20000)])
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, width, height):
    """A few bytes claiming 108 MP (over our limit) or 600 MP (over Pillow's too)."""
    size = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    pixels = png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    image = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", size) + pixels
    (tmp_path / "bomb.png").write_bytes(image + png_chunk(b"IEND", b""))
    with pytest.raises(ValueError, match="bomb.png: .*pixels is more than the 100 megapixels"):
        photos.read_photo(tmp_path / "bomb.png")


def test_missing_and_damaged_photo_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.jpg"):
        photos.read_photo(tmp_path / "nothere.jpg")
    (tmp_path / "junk.jpg").write_bytes(b"not a photo")
    with pytest.raises(ValueError, match="junk.jpg"):
        photos.read_photo(tmp_path / "junk.jpg")


def test_edit_many_takes_faces_per_photo(model):
    pair = [random_photo(seed=1), random_photo(seed=2)]
    own = [photos.Face.from_landmarks(framed_face_points())]
    moved = [photos.Face.from_landmarks(framed_face_points() + 30)]
    results = photos.edit_many(model, pair, "A", faces=[own, moved], strength=2.0)
    np.testing.assert_allclose(results[1].faces[0].landmarks, moved[0].landmarks)
    with pytest.raises(ValueError, match="one per photo"):
        photos.edit_many(model, pair, "A", faces=[own], strength=2.0)


def test_colour_matching_brings_a_replaced_face_to_the_photo_colours(model):
    photo = np.zeros((180, 200, 3), np.uint8)
    photo[..., 0] = 200  # a red photo; the untrained decoder's faces are grey
    face = photos.Face.from_landmarks(framed_face_points())
    plain = photos.edit(model, photo, "A", faces=[face], strength=0.0, detail="replace")
    matched = photos.edit(model, photo, "A", faces=[face], strength=0.0, detail="replace",
                          match_colour=True)
    inside = unit_mask_in_photo(photos.align(photo, face, model.face_template, 16)[1],
                                photo.shape) < 0.6
    error = [np.abs(r.photo[inside].astype(int) - photo[inside]).mean() for r in (plain, matched)]
    assert error[1] < 0.5 * error[0]


@pytest.mark.parametrize("detail", ["keep", "replace", "blend"])
def test_an_encoded_photo_edits_as_edit_does_many_times_over(model, detail):
    photo = random_photo()
    faces = [photos.Face.from_landmarks(framed_face_points()),
             photos.Face.from_landmarks(framed_face_points() * 0.5 + 100)]
    encoded = photos.encode_photo(model, photo, faces=faces)
    assert encoded.codes.shape == (2, model.latent_dim) and len(encoded.alignments) == 2
    for t in (0.0, 1.5, 3.0):
        cached = encoded.edit(model, {"A": t}, detail=detail)
        direct = photos.edit(model, photo, "A", faces=faces, strength=t, detail=detail)
        np.testing.assert_array_equal(cached.photo, direct.photo)
        assert [f.t for f in cached.faces] == [f.t for f in direct.faces]
    np.testing.assert_array_equal(encoded.edit(model, {"A": 0.0}).photo, photo)
    only_second = encoded.select([1]).edit(model, {"A": 3.0}, detail=detail)
    alone = photos.edit(model, photo, "A", faces=faces[1:], strength=3.0, detail=detail)
    np.testing.assert_array_equal(only_second.photo, alone.photo)
    per_face = encoded.edit(model, {"A": np.array([0.0, 3.0])}, detail="keep")
    np.testing.assert_array_equal(per_face.photo, encoded.select([1]).edit(model, {"A": 3.0}).photo)


def test_a_scaled_encoded_photo_is_the_edit_of_the_smaller_photo(model):
    photo = np.asarray(Image.fromarray(random_photo()).resize((400, 360), Image.Resampling.BICUBIC))
    face = photos.Face.from_landmarks(framed_face_points() * 2)
    half = photos.encode_photo(model, photo, faces=[face]).scaled(0.5)
    assert half.photo.shape == (180, 200, 3)
    assert half.alignments[0].side == photos.align(photo, face, model.face_template)[1].side // 2
    edited = half.edit(model, {"A": 3.0}).photo
    changed = np.any(edited != half.photo, -1)
    radius = unit_mask_in_photo(half.alignments[0], half.photo.shape)
    assert changed[radius < 0.6].mean() > 0.9 and not changed[radius > 1.02].any()
