"""dfl insert, grid and transition on faces found in photos (the default; --no-align is in
test_cli)."""

import numpy as np
import pytest
from helpers import saved_tiny_editor, tiny_model
from photo_canvases import aligned_photo, background, needs_aligned_photos, place, similarity
from PIL import Image

from dfl_keras.cli import main
from dfl_keras.photos import find_faces
from dfl_keras.provenance import read_provenance


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return str(saved_tiny_editor(tmp_path_factory.mktemp("model")))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A real aligned photo, a canvas with two faces, and a canvas with none."""
    folder = tmp_path_factory.mktemp("pictures")
    Image.fromarray(aligned_photo(0)).save(folder / "photo.png")
    canvas = place(background(300, 420), aligned_photo(3), similarity(-15, 1.0, (20, 40)))
    canvas = place(canvas, aligned_photo(7), similarity(20, 0.8, (260, 60)))
    Image.fromarray(canvas).save(folder / "two.png")
    Image.fromarray(background(200, 260, seed=1)).save(folder / "empty.png")
    return folder


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


@needs_aligned_photos
def test_insert_edits_every_face_in_place_at_the_photos_size(model_file, pictures, tmp_path,
                                                             capsys):
    photo = pictures / "two.png"
    argv = ["insert", str(photo), "--attr", "A=1.5", "--show-faces", "-o", str(tmp_path),
            "--detail", "replace", "--model", model_file]  # the tiny model's change is faint
    assert main(argv) == 0
    before, after = pixels(photo), pixels(tmp_path / "two.dfl.png")
    assert after.shape == before.shape
    info = read_provenance(tmp_path / "two.dfl.png")
    assert info["Edits"] == "A=+1.50" and info["Source"] == "two.png"
    faces = find_faces(before.astype(np.uint8))
    boxes = [part.split(" ")[2] for part in info["Faces"].split("; ")]
    assert len(boxes) == len(faces) == 2
    for box, face in zip(boxes, faces):
        assert [int(v) for v in box.split(",")] == [round(v) for v in face.box]
    changed = np.abs(after - before).max(-1) > 0
    assert changed.any()
    ys, xs = np.nonzero(changed)  # only inside the faces' frames, which are about 2 boxes wide
    inside = np.zeros(len(ys), bool)
    for face in faces:
        x0, y0, x1, y1 = face.box
        pad = max(x1 - x0, y1 - y0)
        inside |= (xs > x0 - pad) & (xs < x1 + pad) & (ys > y0 - pad) & (ys < y1 + pad)
    assert inside.all()
    shown = pixels(tmp_path / "two.faces.png")
    assert shown.shape == before.shape and (shown != before).any()
    assert "2 faces edited, A=+1.50" in capsys.readouterr().out

    assert main(["insert", str(photo), "--attr", "A=0", "--faces", "largest", "-o",
                 str(tmp_path / "zero"), "--model", model_file]) == 0
    np.testing.assert_array_equal(pixels(tmp_path / "zero" / "two.dfl.png"), before)
    assert read_provenance(tmp_path / "zero" / "two.dfl.png")["Faces"].count("box") == 1


@needs_aligned_photos
def test_a_photo_without_a_face_is_named_and_the_others_are_written(
        model_file, pictures, tmp_path, capsys):
    argv = ["insert", str(pictures / "empty.png"), str(pictures / "photo.png"), "--attr", "A",
            "-o", str(tmp_path), "--model", model_file]
    assert main(argv) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == (f"dfl insert: error: {pictures / 'empty.png'}: no face found (none of "
                         "at least 36 px); if the photo is a cropped face already, use --no-align")
    assert errors[1:] == ["dfl insert: 1 of 2 photos were not edited (named above); the others "
                          "were written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.dfl.png"]
    assert pixels(tmp_path / "photo.dfl.png").shape == (218, 178, 3)

    assert main(["insert", str(pictures / "photo.png"), "--attr", "A", "--faces", "2", "-o",
                 str(tmp_path / "none"), "--model", model_file]) == 1
    assert "--faces 2 asked for, but the photo has 1 face" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("names, output", [
    (["a/face.jpg", "b/face.jpg"], "out"),  # one stem, one -o folder
    (["face.jpg", "face.png"], None),  # one stem, one folder
    (["face.jpg", "face.jpg"], None),  # one photo twice
])
def test_outputs_that_would_collide_are_refused_before_anything_is_written(
        names, output, tmp_path, capsys):
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.new("RGB", (40, 40)).save(tmp_path / name)
    before = sorted(tmp_path.rglob("*"))
    argv = ["insert", *(str(tmp_path / n) for n in names), "--attr", "A", "--model", "nowhere"]
    assert main(argv + (["-o", str(tmp_path / output)] if output else [])) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "would both be written to" in error
    assert "face.dfl.png; rename one" in error
    assert sorted(tmp_path.rglob("*")) == before  # refused before the model was even loaded


def test_an_input_photo_is_never_overwritten(tmp_path, capsys):
    Image.new("RGB", (40, 40)).save(tmp_path / "me.png")
    Image.new("RGB", (40, 40)).save(tmp_path / "me.dfl.png")  # an input named like an output
    before = (tmp_path / "me.dfl.png").read_bytes()
    argv = ["insert", str(tmp_path / "me.png"), str(tmp_path / "me.dfl.png"), "--attr", "A",
            "--model", "nowhere"]
    assert main(argv) == 1
    assert "is one of the input photos" in capsys.readouterr().err
    assert (tmp_path / "me.dfl.png").read_bytes() == before


@needs_aligned_photos
def test_grid_and_transition_work_on_faces_found_in_photos(model_file, pictures, tmp_path,
                                                           capsys):
    photo, two = str(pictures / "photo.png"), str(pictures / "two.png")
    assert main(["grid", photo, two, "--attrs", "A", "--t", "0", "1", "--model", model_file,
                 "-o", str(tmp_path / "g.png")]) == 0
    assert read_provenance(tmp_path / "g.png")["Source"] == f"{photo}, {two}"
    assert main(["transition", photo, two, "--steps", "3", "--model", model_file,
                 "-o", str(tmp_path / "t.gif")]) == 0
    assert Image.open(tmp_path / "t.gif").n_frames == 4
    capsys.readouterr()
    empty = str(pictures / "empty.png")
    assert main(["grid", empty, "--model", model_file, "-o", str(tmp_path / "e.png")]) == 1
    assert "empty.png: no face found" in capsys.readouterr().err
    assert not (tmp_path / "e.png").exists()


def test_options_that_contradict_each_other_are_refused(model_file, tmp_path, capsys):
    Image.new("RGB", (40, 40)).save(tmp_path / "face.png")
    photo = str(tmp_path / "face.png")
    for extra, message in ((["--attr", "A=1", "--strength", "auto"], "drop =T from --attr A"),
                           (["--attr", "A", "--no-align", "--show-faces"], "does not go with"),
                           (["--attr", "A", "--strength", "auto", "--step", "distance"],
                            "drop --step distance")):
        assert main(["insert", photo, *extra, "--model", model_file]) == 1
        assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png"]


def test_a_calibrated_strength_that_missed_its_target_is_announced(capsys):
    from dfl_keras.cli.insert import print_weak_strengths

    model = tiny_model()
    model.set_attribute_vector("A", np.ones(8), t=2.0, t_reached=False, t_success=0.1, t_target=0.85)
    model.set_attribute_vector("B", np.ones(8), t=1.0, t_reached=True, t_success=0.9, t_target=0.85)
    print_weak_strengths(model, ["A", "B"])
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["note: A's calibrated t = 2 made the judge see it in only 10% of calibration "
                     "photos (target 85%): expect a faint or unconvincing edit"]
    model.set_attribute_vector("B", np.ones(8), t=1.0, distance=1.5, distance_reached=False,
                               distance_success=0.2, distance_target=0.85)
    print_weak_strengths(model, ["B"], step="distance")
    assert capsys.readouterr().out.splitlines() == [
        "note: B's calibrated distance = 1.5 made the judge see it in only 20% of calibration "
        "photos (target 85%): expect a faint or unconvincing edit"]
