"""Every image dfl_keras writes says it is synthetic, what made it and how; the marks read back."""

import numpy as np
import pytest
from helpers import random_images
from PIL import Image

from dfl_keras import __version__, images_io
from dfl_keras.provenance import format_edits, model_label, provenance, read_provenance


def test_the_fields_say_synthetic_model_edits_and_source():
    info = provenance("m.keras (sha256 0123)", {"Bald": 1.2, "Smiling": -0.8}, source="me.jpg")
    assert info == {
        "Software": f"dfl_keras {__version__}",
        "Description": info["Description"],
        "Model": "m.keras (sha256 0123)",
        "Edits": "Bald=+1.20, Smiling=-0.80",
        "Source": "me.jpg",
    }
    assert "Synthetic" in info["Description"] and "Not a real photograph" in info["Description"]
    assert set(provenance()) == {"Software", "Description"}
    assert format_edits({"Young": 0}) == "Young=+0.00"


def test_model_label_tells_apart_files_of_the_same_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.keras").write_bytes(b"one")
    (tmp_path / "b" / "m.keras").write_bytes(b"two")
    first, second = model_label(tmp_path / "a" / "m.keras"), model_label(tmp_path / "b" / "m.keras")
    assert first.startswith("m.keras (sha256 ") and first != second
    assert first == "m.keras (sha256 7692c3ad3540)"  # sha256(b"one")


def test_png_keeps_pixels_and_provenance(tmp_path):
    image = random_images(1)[0]
    info = provenance("m.keras", {"Bald": 1.2})
    path = images_io.write_png(tmp_path / "edit.png", image, info)
    assert read_provenance(path) == info
    pixels = np.asarray(Image.open(path))
    assert pixels.dtype == np.uint8 and pixels.shape == image.shape
    np.testing.assert_array_equal(pixels, np.round(image * 255))


def test_the_watermark_is_visible_and_stays_in_its_corner(tmp_path):
    image = np.full((64, 64, 3), 0.5, np.float32)
    path = images_io.write_png(tmp_path / "marked.png", image, provenance(), mark=True)
    changed = np.any(np.asarray(Image.open(path)) != 128, axis=-1)
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 20  # white letters with a dark outline
    assert rows.min() >= 40 and cols.min() >= 30


def test_gif_holds_the_frames_there_and_back_and_the_provenance(tmp_path):
    frames = np.ones((4, 8, 8, 3), np.float32) * np.linspace(0, 1, 4)[:, None, None, None]
    info = provenance("m.keras", "transition in 4 steps")
    path = images_io.write_gif(tmp_path / "walk.gif", frames, info, fps=5, scale=2)
    with Image.open(path) as gif:
        assert gif.n_frames == 6 and gif.size == (16, 16) and gif.info["duration"] == 200
        levels = []
        for k in range(gif.n_frames):
            gif.seek(k)
            levels.append(int(np.asarray(gif.convert("RGB"))[0, 0, 0]))
    assert levels == [0, 85, 170, 255, 170, 85]
    assert read_provenance(path) == info
    once = images_io.write_gif(tmp_path / "once.gif", frames, info, bounce=False)
    assert Image.open(once).n_frames == 4


def test_files_without_provenance_read_as_empty_and_other_formats_are_refused(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert read_provenance(tmp_path / "plain.png") == {}
    Image.new("RGB", (4, 4)).save(tmp_path / "photo.jpg")
    with pytest.raises(ValueError, match="JPEG"):
        read_provenance(tmp_path / "photo.jpg")
