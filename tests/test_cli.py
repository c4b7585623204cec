"""The `dfl` command.

Subprocesses where the process itself matters (clean stderr, exit status, kill and resume);
in-process calls of `main` for the rest, as each subprocess pays ~5 s of TensorFlow import.
"""

import importlib.util
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import SIZE, saved_tiny_editor
from PIL import ExifTags, Image, ImageOps

from dfl_keras import AttributeJudge, LatentAttributeModel, images_io, presets
from dfl_keras.cli import build_parser, main
from dfl_keras.cli import train as train_command
from dfl_keras.provenance import read_provenance

# The installed `dfl` script calls dfl_keras_cli.main; running that module spares the tests a
# stale script of an older install.
DFL = [sys.executable, "-m", "dfl_keras_cli"]
SHIPPED = presets.presets_dir() / presets.PRESETS["dfl_celeba64"]["file"]
COMMANDS = ("demo", "insert", "app", "bulk-insert", "train", "fit-vectors", "grid", "transition",
            "latent-map", "export")
TINY = ["--image-size", str(SIZE), "--latent-dim", "8", "--filters", "8", "16"]
TENSORBOARD = importlib.util.find_spec("tensorboard") is not None  # not a TensorFlow dependency


def user_env():
    """The environment of a user who set no TensorFlow logging or model variables."""
    return {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DFL_MODEL")}


def run(*args, cwd, timeout=120):
    """`dfl args` as a user runs it: the installed script."""
    return subprocess.run([*DFL, *map(str, args)], cwd=cwd, env=user_env(),
                          capture_output=True, text=True, timeout=timeout)


def write_photo(path, pixels):
    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)
    return path


def error_line(capsys):
    """The one line a failed command printed on stderr."""
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return saved_tiny_editor(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two photos of odd sizes, a truncated JPEG and a text file posing as a PNG."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    write_photo(folder / "wide.jpg", rng.integers(0, 256, (30, 45, 3)))
    write_photo(folder / "tall.png", rng.integers(0, 256, (50, 21, 3)))
    (folder / "cut.jpg").write_bytes((folder / "wide.jpg").read_bytes()[:200])
    (folder / "text.png").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    """CelebA's official layout in miniature: 24 photos of 18x22, labels Male and Smiling."""
    root = tmp_path_factory.mktemp("celeba")
    (root / "img_align_celeba").mkdir()
    rng = np.random.default_rng(2)
    rows = []
    for i in range(24):
        name = f"{i + 1:06d}.jpg"
        write_photo(root / "img_align_celeba" / name, rng.integers(0, 256, (22, 18, 3)))
        rows.append(f"{name} {1 if i % 2 else -1:2d} {1 if i % 3 else -1:2d}")
    (root / "list_attr_celeba.txt").write_text("24\nMale Smiling\n" + "\n".join(rows) + "\n")
    return root


# ------------------------------------------------------------- as a user runs it


def test_help_and_a_real_command_print_nothing_on_stderr(tmp_path, tiny_file):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert all(command in result.stdout for command in COMMANDS)

    result = run("demo", "--model", tiny_file, "-o", "out", "--watermark", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no TensorFlow start-up noise
    for name in ("grid.png", "transition.gif"):
        assert str(Path("out") / name) in result.stdout
        info = read_provenance(tmp_path / "out" / name)
        assert info["Model"].startswith("tiny.keras (sha256 ")
        assert "Synthetic" in info["Description"]


def test_a_failure_is_one_line_on_stderr_and_exit_status_1(tmp_path, tiny_file):
    result = run("insert", "nowhere.jpg", "--attr", "A=1", "--model", tiny_file, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "dfl insert: error: no image file nowhere.jpg\n"


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"the shipped model {SHIPPED} is not there "
                    "yet (it is trained separately), so `dfl demo` without --model cannot run")
def test_demo_runs_on_the_shipped_model_in_well_under_a_minute(tmp_path):
    start = time.perf_counter()
    result = run("demo", "-o", "demo", cwd=tmp_path, timeout=90)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert time.perf_counter() - start < 60
    info = read_provenance(tmp_path / "demo" / "grid.png")
    assert info["Model"].startswith(SHIPPED.name) and "Smiling" in info["Edits"]
    assert Image.open(tmp_path / "demo" / "transition.gif").n_frames > 10


@pytest.mark.parametrize("moment", ["first file in the backup", "after a backed-up epoch"])
def test_train_killed_resumes_without_losing_or_repeating_an_epoch(moment, tmp_path, capsys):
    """Issue 13's kill: SIGKILL the moment m.backup/ gets its first file (inside the first backup
    write), or once an epoch is backed up; then the same command plus --resume."""
    data = tmp_path / "faces"
    data.mkdir()
    rng = np.random.default_rng(3)
    for i in range(64):
        write_photo(data / f"{i:03d}.png", rng.integers(0, 256, (SIZE, SIZE, 3)))
    output = tmp_path / "m.keras"
    command = ["train", str(data), *TINY, "--epochs", "4", "--batch-size", "2", "-o", str(output)]
    if TENSORBOARD:
        command += ["--tensorboard", str(tmp_path / "logs")]
    metadata = tmp_path / "m.backup" / "training_metadata.json"

    first = subprocess.Popen([*DFL, *command], env=user_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    first_file = moment == "first file in the backup"
    while first.poll() is None and time.monotonic() < deadline:
        if any(metadata.parent.glob("*")) if first_file else finished(metadata):
            break
        time.sleep(0.001 if first_file else 0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert first.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    done = finished(metadata)
    assert (done < 4 if first_file else 1 <= done < 4) and output.is_file()

    assert main(command) == 1  # a leftover backup is never silently discarded
    assert "add --resume" in error_line(capsys)

    resumed = run(*command, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Epoch {done + 1}/4" in resumed.stdout
    assert done == 0 or f"Epoch {done}/4" not in resumed.stdout
    log = (tmp_path / "m.log.csv").read_text().splitlines()
    assert [int(row.split(",")[0]) for row in log[1:]] == [0, 1, 2, 3]
    assert not (tmp_path / "m.backup").exists()
    if TENSORBOARD:
        assert list((tmp_path / "logs" / "train").glob("events.out.tfevents.*"))
    assert keras.saving.load_model(output).latent_dim == 8


def finished(metadata):
    """Epochs BackupAndRestore has saved (0 until its metadata file is whole)."""
    try:
        return json.loads(metadata.read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


# ------------------------------------------------------------------- in-process


def test_every_command_has_help(capsys):
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exit:
            main([command, "--help"])
        assert exit.value.code == 0
        assert f"usage: dfl {command}" in capsys.readouterr().out


def test_insert_writes_the_edit_beside_each_photo_with_its_provenance(tiny_file, photos, tmp_path):
    argv = ["insert", str(photos / "wide.jpg"), str(photos / "tall.png"), "--attr", "A=1.2",
            "--attr", "B=-0.5", "--model", str(tiny_file), "--no-align"]
    assert main(argv) == 0
    model = LatentAttributeModel.from_preset(tiny_file)
    for photo in (photos / "wide.jpg", photos / "tall.png"):
        written = photos / f"{photo.stem}.dfl.png"
        expected = model.insert(images_io.read_image(photo, SIZE), {"A": 1.2, "B": -0.5})
        pixels = np.asarray(Image.open(written))
        assert pixels.shape == (SIZE, SIZE, 3)
        assert np.abs(pixels.astype(int) - images_io.to_uint8(expected)).max() <= 1
        info = read_provenance(written)
        assert info["Edits"] == "A=+1.20, B=-0.50" and info["Source"] == photo.name

    out = tmp_path / "edited"
    assert main(["insert", str(photos / "wide.jpg"), "--attr", "A", "--model", str(tiny_file),
                 "-o", str(out), "--no-align"]) == 0
    assert read_provenance(out / "wide.dfl.png")["Edits"] == "A=+1.00"


@pytest.mark.parametrize("argv, message", [
    (["insert", "{photos}/wide.jpg", "--attr", "Smile=1"], "unknown attribute 'Smile'"),
    (["insert", "{photos}/cut.jpg", "--attr", "A=1"], "cut.jpg: truncated"),
    (["insert", "{photos}/text.png", "--attr", "A=1"], "text.png: not a JPEG, PNG, GIF or BMP"),
    (["insert", "{photos}/cut.jpg", "--attr", "A=1", "--no-align"], "cut.jpg: truncated"),
    (["insert", "{photos}/text.png", "--attr", "A=1", "--no-align"],
     "text.png: not a JPEG, PNG, GIF or BMP"),
    (["transition", "{photos}/wide.jpg", "{photos}/gone.png"], "no image file"),
    (["latent-map", "{photos}/nowhere", "--attr", "A"], "no data folder"),
    (["grid", "--attrs", "A+Bald"], "unknown attribute 'Bald'"),
])
def test_errors_are_one_line(argv, message, tiny_file, photos, capsys):
    argv = [arg.format(photos=photos) for arg in argv] + ["--model", str(tiny_file)]
    assert main(argv) == 1
    line = error_line(capsys)
    assert line.startswith(f"dfl {argv[0]}: error: ") and message in line


def test_verbose_shows_the_traceback(tiny_file, capsys):
    argv = ["insert", "nowhere.jpg", "--attr", "A=1", "--model", str(tiny_file), "--verbose"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "FileNotFoundError: no image file nowhere.jpg" in err


def test_model_files_are_found_or_refused_clearly(tiny_file, photos, tmp_path, monkeypatch,
                                                  capsys):
    monkeypatch.setenv("DFL_MODEL", str(tiny_file))
    assert main(["grid", "-o", str(tmp_path / "grid.png")]) == 0  # no --model: $DFL_MODEL
    capsys.readouterr()
    monkeypatch.setenv("DFL_MODEL", str(tmp_path / "gone.keras"))
    assert main(["demo", "-o", str(tmp_path)]) == 1
    assert "DFL_MODEL is set to" in error_line(capsys)
    photo = str(photos / "wide.jpg")
    assert main(["insert", photo, "--attr", "A=1", "--model", photo]) == 1
    assert "wide.jpg is not a valid .keras file" in error_line(capsys)
    judge = tmp_path / "judge.keras"
    AttributeJudge(["A"], image_size=SIZE, filters=(8, 16)).save(judge)
    assert main(["insert", photo, "--attr", "A=1", "--model", str(judge)]) == 1
    assert "holds a model of class AttributeJudge, not LatentAttributeModel" in error_line(capsys)


def untrained(path):
    """A model file without vectors (and without optimizer state)."""
    LatentAttributeModel(image_size=SIZE, latent_dim=8, filters=(8, 16)).save(path)
    return path


def test_fit_vectors_fits_every_label_of_the_data_into_the_model(celeba, tmp_path, capsys):
    path = untrained(tmp_path / "plain.keras")
    assert main(["fit-vectors", str(celeba), "--model", str(path), "--batch-size", "8"]) == 0
    model = LatentAttributeModel.from_preset(path)
    assert model.attribute_names == ["Male", "Smiling"] and model.code_distribution is not None
    info = model.attribute_info("Male")
    assert info["n_with"] + info["n_without"] == 21  # the train split: 90% of 24
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.keras"]

    other = tmp_path / "other.keras"
    assert main(["fit-vectors", str(celeba), "--model", str(path), "--attrs", "Smiling",
                 "--split", "all", "-o", str(other)]) == 0
    assert LatentAttributeModel.from_preset(other).attribute_info("Smiling")["n_with"] == 16
    capsys.readouterr()
    assert main(["fit-vectors", str(celeba), "--model", str(path), "--attrs", "Mal"]) == 1
    assert "did you mean 'Male'" in error_line(capsys)


def test_a_damaged_image_in_the_data_is_named_in_one_line(celeba, tmp_path, capsys, caplog):
    damaged = tmp_path / "celeba"
    shutil.copytree(celeba, damaged)
    photos = [damaged / "img_align_celeba" / name for name in ("000005.jpg", "000010.jpg")]
    for photo in photos:
        photo.write_bytes(photo.read_bytes()[:150])
    model = untrained(tmp_path / "m.keras")
    argv = ["fit-vectors", str(damaged), "--model", str(model), "--split", "all"]
    assert main(argv) == 1
    line = error_line(capsys)
    assert line.startswith(f"dfl fit-vectors: error: cannot read image {photos[0]}: truncated")

    assert main([*argv, "--skip-bad"]) == 0  # each skipped file named once, counted right
    skipped = [message for message in caplog.messages if "skipped" in message]
    assert [str(photo) in message for photo, message in zip(photos, skipped)] == [True, True]
    assert len(skipped) == 2 and skipped[-1].endswith("(2 bad images skipped so far)")
    info = LatentAttributeModel.from_preset(model).attribute_info("Male")
    assert info["n_with"] + info["n_without"] == 22


def test_a_crash_while_saving_vectors_leaves_the_model_intact(celeba, tmp_path, monkeypatch,
                                                              capsys):
    path = untrained(tmp_path / "model.keras")
    before = path.read_bytes()

    def crash(model, filepath, **kwargs):
        Path(filepath).write_bytes(b"half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    assert main(["fit-vectors", str(celeba), "--model", str(path)]) == 1
    assert "disk full" in error_line(capsys)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_grid_transition_and_latent_map_write_pictures_with_provenance(tiny_file, photos, celeba,
                                                                       tmp_path):
    model, wide, tall = str(tiny_file), str(photos / "wide.jpg"), str(photos / "tall.png")
    assert main(["grid", wide, tall, "--attrs", "A", "A+B", "--t", "0", "1", "--model", model,
                 "-o", str(tmp_path / "g.png"), "--no-align"]) == 0
    info = read_provenance(tmp_path / "g.png")
    assert info["Edits"] == "A; A+B at t = 0, 1" and info["Source"] == f"{wide}, {tall}"

    assert main(["transition", wide, tall, "--steps", "5", "--scale", "2", "--model", model,
                 "-o", str(tmp_path / "t.gif"), "--no-align"]) == 0
    gif = Image.open(tmp_path / "t.gif")
    assert gif.n_frames == 8 and gif.size == (2 * SIZE, 2 * SIZE)  # 5 frames there, 3 back
    assert read_provenance(tmp_path / "t.gif")["Source"] == "wide.jpg -> tall.png"

    out = tmp_path / "map.png"  # (t-SNE is tested in test_plots)
    assert main(["latent-map", str(celeba), "--split", "all", "--attr", "Male", "--model", model,
                 "-o", str(out)]) == 0
    assert read_provenance(out)["Source"] == str(celeba)


def test_train_refuses_to_clobber_or_to_resume_nothing(tmp_path, capsys):
    (tmp_path / "m.keras").write_bytes(b"precious")
    argv = ["train", str(tmp_path), "-o", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    assert "exists" in error_line(capsys)
    assert main([*argv, "--resume"]) == 1
    assert "nothing to resume" in error_line(capsys)
    assert (tmp_path / "m.keras").read_bytes() == b"precious"
    if not TENSORBOARD:  # said before training, not after the first epoch
        assert main(["train", str(tmp_path), "-o", str(tmp_path / "new.keras"),
                     "--tensorboard", str(tmp_path)]) == 1
        assert "pip install tensorboard" in error_line(capsys)


def test_export_writes_a_serving_version(tiny_file, tmp_path, capsys):
    argv = ["export", str(tiny_file), "--base", str(tmp_path), "--name", "faces", "--version", "3"]
    assert main(argv) == 0
    assert (tmp_path / "faces" / "3" / "saved_model.pb").is_file()
    assert capsys.readouterr().out.strip() == str(tmp_path / "faces" / "3")


def test_photos_are_centre_cropped_then_resized(tmp_path):
    """A 60x20 photo: red left third, green middle, blue right third -> all green."""
    pixels = np.zeros((20, 60, 3), np.uint8)
    pixels[:, :20, 0] = pixels[:, 20:40, 1] = pixels[:, 40:, 2] = 255
    image = images_io.read_image(write_photo(tmp_path / "wide.png", pixels), SIZE)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.float32
    green = np.broadcast_to([0, 1, 0], (SIZE - 4, SIZE - 4, 3))
    np.testing.assert_allclose(image[2:-2, 2:-2], green)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_photos_are_turned_upright_as_their_exif_says(tmp_path, orientation):
    """Phones store portraits sideways plus a tag: we edit what a photo viewer shows."""
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, 10:30, 0] = pixels[:, 30:50, 2] = 255  # red | blue in the centre square
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    path = tmp_path / "phone.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    with Image.open(path) as stored:
        shown = np.asarray(ImageOps.fit(ImageOps.exif_transpose(stored), (SIZE, SIZE))) / 255
    assert np.abs(images_io.read_image(path, SIZE) - shown).mean() < 0.03


def test_evaluate_prints_the_edit_report_and_writes_json(celeba, tmp_path, capsys):
    path = untrained(tmp_path / "plain.keras")
    assert main(["fit-vectors", str(celeba), "--model", str(path), "--batch-size", "8"]) == 0
    capsys.readouterr()
    report = tmp_path / "report.json"
    assert main(["evaluate", str(path), str(celeba), "--split", "all", "--attrs", "Male",
                 "--t", "1.5", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "Male" in out and "Saved the report" in out
    saved = json.loads(report.read_text())
    assert list(saved["attributes"]) == ["Male"] and "summary" in saved
    capsys.readouterr()
    assert main(["evaluate", str(path), str(celeba), "--attrs", "Bald"]) == 1
    assert "Bald" in error_line(capsys)


def test_one_command_s_defaults_do_not_leak_into_another():
    """The data options are shared objects; a command's default must not change them for all."""
    parser = build_parser()
    for argv in (["train", "DATA", "-o", "x"], ["fit-vectors", "DATA", "--model", "M"],
                 ["evaluate", "M", "DATA"], ["latent-map", "DATA", "--attr", "Male"]):
        args = parser.parse_args(argv)
        assert args.split is None and args.limit is None, argv


# ---------------------------------------------------------- hostile input, one line each


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, tiny_file):
    """Things a user can point the commands at by mistake, beside a labelled folder of faces."""
    root = tmp_path_factory.mktemp("hostile")
    faces = root / "faces"
    faces.mkdir()
    rng = np.random.default_rng(4)
    for i in range(8):
        write_photo(faces / f"{i}.png", rng.integers(0, 256, (SIZE, SIZE, 3)))
    rows = [f"{i}.png,{i % 2},{i // 2 % 2}" for i in range(8)]
    (root / "labels.csv").write_text("file,A,B\n" + "\n".join(rows) + "\n")
    write_photo(root / "photo.jpg", rng.integers(0, 256, (30, 30, 3)))
    (root / "empty").mkdir()
    (root / "afile").write_text("a file where a folder is expected")
    (root / "dir.keras").mkdir()
    (root / "text.keras").write_text("not a model")
    (root / "truncated.keras").write_bytes(tiny_file.read_bytes()[:3000])
    with zipfile.ZipFile(root / "other.keras", "w") as archive:
        archive.writestr("hello.txt", "a zip, but not a Keras model")
    AttributeJudge(["A"], image_size=SIZE, filters=(8, 16)).save(root / "judge.keras")
    shutil.copy(tiny_file, root / "victim.keras")
    (root / "served" / "dfl" / "1").mkdir(parents=True)
    (root / "served" / "dfl" / "1" / "saved_model.pb").write_bytes(b"an existing version")
    return root


def hashes(*folders):
    """sha256 of every file under `folders`: what a failed command must leave as it was."""
    return {path: hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted(Path(folder).rglob("*")) if path.is_file()}


D, M = "{h}/faces", ["--model", "{m}"]
L = ["--labels", "{h}/labels.csv"]
PARSER_REFUSES = [  # argparse refuses these: exit status 2, before any TensorFlow work
    (["train", D, "-o", "m.keras", "--epochs", "0"], "--epochs: expected a whole number of at "
     "least 1, got 0"),
    (["train", D, "-o", "m.keras", "--epochs", "-3"], "at least 1, got -3"),
    (["train", D, "-o", "m.keras", "--epochs", "2.5"], "--epochs: expected a whole number"),
    (["train", D, "-o", "m.keras", "--batch-size", "0"], "--batch-size: expected a whole"),
    (["train", D, "-o", "m.keras", "--latent-dim", "0"], "--latent-dim"),
    (["train", D, "-o", "m.keras", "--image-size", "-16"], "--image-size"),
    (["train", D, "-o", "m.keras", "--filters", "8", "0"], "--filters"),
    (["train", D, "-o", "m.keras", "--learning-rate", "nan"], "expected a finite number"),
    (["train", D, "-o", "m.keras", "--learning-rate", "0"], "expected a number above 0"),
    (["train", D, "-o", "m.keras", "--covariance-weight", "-1"], "at least 0, got '-1'"),
    (["train", D, "-o", "m.keras", "--strategy", "gpu9"], "--strategy: invalid choice"),
    (["train", D, "-o", "m.keras", "--split", "bogus"], "--split: invalid choice"),
    (["train", D, "-o", "m.keras", "--limit", "0"], "--limit"),
    (["train", D], "required: -o/--output"),
    (["train", D, "extra", "-o", "m.keras"], "unrecognized arguments: extra"),
    (["demo", "--faces", "0"], "--faces"),
    (["demo", "--steps", "1"], "--steps: expected a whole number of at least 2"),
    (["demo", "--t", "1", "inf"], "--t: expected a finite number, got 'inf'"),
    (["demo", "--t", "abc"], "--t: expected a number, got 'abc'"),
    (["demo", "--attrs", "A+"], "such as Smiling+Bald; got 'A+'"),
    (["demo", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["grid", "--faces", "0"], "--faces"),
    (["transition", "{h}/photo.jpg", "{h}/photo.jpg", "--steps", "1"], "--steps: expected a whole"),
    (["transition", "{h}/photo.jpg", "{h}/photo.jpg", "--fps", "0"], "--fps: expected a number above 0"),
    (["insert", "{h}/photo.jpg", "--attr", "A=nan"], "T a finite number"),
    (["insert", "{h}/photo.jpg", "--attr", "=1"], "got '=1'"),
    (["bulk-insert", "{h}/*.jpg", "--attr", "A=inf", "-o", "out"], "T a finite number"),
    (["bulk-insert", "{h}/*.jpg", "--attr", "A"], "required: -o/--output"),
    (["bulk-insert", "{h}/*.jpg", "-o", "out"], "required: --attr"),
    (["bulk-insert", "{h}/*.jpg", "--attr", "A", "-o", "out", "--batch-size", "0"],
     "--batch-size"),
    (["fit-vectors", D, *M, "--batch-size", "-1"], "--batch-size"),
    (["evaluate", "{m}", D, "--t", "inf"], "--t: expected a finite number"),
    (["export", "{m}", "--version", "-1"], "--version: expected a whole number of at least 0"),
    (["export", "{m}", "--name", "../elsewhere"], "a plain name without /"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
]
RUN_REFUSES = [  # the command refuses these: exit status 1
    (["demo", "--model", "{h}/judge.keras"], "holds a model of class AttributeJudge, not "
     "LatentAttributeModel"),
    (["demo", "--model", "{h}/truncated.keras"], "truncated.keras is not a valid .keras file "
     "(not a zip archive): pass a model saved by dfl train"),
    (["demo", "--model", "{h}/text.keras"], "not a valid .keras file"),
    (["demo", "--model", "{h}/other.keras"], "no item named 'config.json'"),
    (["demo", "--model", "{h}/photo.jpg"], "photo.jpg is not a valid .keras file"),
    (["demo", "--model", "{h}/dir.keras"], "dir.keras is a folder, not a .keras model file"),
    (["demo", "--model", "{h}/gone.keras"], "no preset or model file"),
    (["demo", *M, "-o", "{h}/afile"], "afile already exists, so it cannot be created: choose "
     "another path"),
    (["demo", *M, "-o", "{h}/afile/out"], "afile/out: part of this path is a file, not a "
     "folder"),
    (["train", D, "-o", "{h}/dir.keras"], "dir.keras is a folder: name the model file"),
    (["train", D, "-o", "{h}/m.h5"], "must end in .keras"),
    (["train", D, "-o", "{h}/victim.keras"], "victim.keras exists: choose another -o, or add "
     "--overwrite"),
    (["train", D, "-o", "{h}/m.keras", "--resume"], "nothing to resume"),
    (["train", "{h}/empty", "-o", "{h}/m.keras"], "holds no images"),
    (["train", "{h}/photo.jpg", "-o", "{h}/m.keras"], "no data folder"),
    (["fit-vectors", D, *M, "-o", "{h}/victim.keras", *L], "victim.keras exists: choose "
     "another -o, or add --overwrite"),
    (["fit-vectors", D, *M, "-o", "{h}/out.h5", *L], "must end in .keras"),
    (["fit-vectors", D, *M, "--labels", "{h}/photo.jpg"], "photo.jpg is not a text label "
     "table"),
    (["fit-vectors", D, *M, "-o", "{h}/out.keras"], "has no attribute labels: pass --labels"),
    (["fit-vectors", D, *M, "-o", "{h}/out.keras", *L, "--attrs", "Smile"],
     "unknown attribute 'Smile'"),
    (["evaluate", "{m}", D], "has no attribute labels: pass --labels"),
    (["evaluate", "{m}", D, *L], "share none of AttGAN's 13 attributes: name the ones to judge "
     "with --attrs"),
    (["evaluate", "{m}", D, *L, "--json", "{h}/empty"], "empty is a folder: name a file"),
    (["evaluate", "{m}", D, *L, "--attrs", "B", "--judge", "{h}/judge.keras"],
     "the judge has: A"),
    (["evaluate", "{m}", D, *L, "--attrs", "A", "--judge", "{m}"], "not AttributeJudge"),
    (["latent-map", D, *M, *L, "--attr", "A", "-o", "{h}/nope/map.png"], "no folder"),
    (["latent-map", D, *M, *L, "--attr", "A", "-o", "{h}/map.txt"], "must end in .png"),
    (["latent-map", D, *M, *L, "--attr", "Smile"], "unknown attribute 'Smile'"),
    (["export", "{m}", "--base", "{h}/afile"], "part of this path is a file, not a folder"),
    (["export", "{m}", "--base", "{h}/served", "--version", "1"], "already exists; pass "
     "overwrite=True (dfl export --overwrite)"),
    (["export", "{h}/judge.keras", "--base", "{h}/served"], "not LatentAttributeModel"),
    (["grid", "-o", "grid.jpg"], "grid.jpg must end in .png"),
    (["transition", "{h}/photo.jpg", "{h}/photo.jpg", "-o", "walk"], "walk must end in .gif"),
]


@pytest.mark.parametrize("argv, message, status", [(*case, 2) for case in PARSER_REFUSES]
                         + [(*case, 1) for case in RUN_REFUSES])
def test_bad_input_is_one_line_naming_it_and_touches_nothing(argv, message, status, hostile,
                                                             tiny_file, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DFL_MODEL", raising=False)
    argv = [arg.format(h=hostile, m=tiny_file) for arg in argv]
    before = hashes(hostile, tiny_file.parent)
    try:
        returned = main(argv)
    except SystemExit as exit:  # argparse's refusals
        returned = exit.code
    assert returned == status
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("dfl") and ": error: " in err and message in err, err
    assert hashes(hostile, tiny_file.parent) == before
    assert list(tmp_path.iterdir()) == []  # nothing half-made in the working folder either


def test_ctrl_c_is_one_line_that_says_how_to_go_on(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "run", interrupted)
    assert main(["train", "DATA", "-o", "m.keras"]) == 130
    assert capsys.readouterr().err == ("dfl train: interrupted; the same command plus --resume "
                                       "continues from the last finished epoch\n")


@pytest.mark.parametrize("level, argv, message, status", [
    ("0", ["train", "{h}/faces", "-o", "m.keras", "--epochs", "0"], "--epochs", 2),
    ("2", ["export", "{m}", "--base", "{h}/afile"], "part of this path is a file", 1),
])
def test_as_a_user_runs_it_bad_input_is_one_line_whatever_tf_cpp_min_log_level(
        level, argv, message, status, hostile, tiny_file, tmp_path):
    """The user's own TF_CPP_MIN_LOG_LEVEL brings back none of TensorFlow's start-up lines."""
    before = hashes(hostile, tiny_file.parent)
    argv = [arg.format(h=hostile, m=tiny_file) for arg in argv]
    result = subprocess.run([*DFL, *argv], cwd=tmp_path, capture_output=True, text=True,
                            env={**user_env(), "TF_CPP_MIN_LOG_LEVEL": level}, timeout=120)
    assert result.returncode == status
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith(f"dfl {argv[0]}: error: ")
    assert hashes(hostile, tiny_file.parent) == before and list(tmp_path.iterdir()) == []
