"""dfl_keras.beam and dfl bulk-insert on Beam's local runner (the [beam] extra)."""

import contextlib
import doctest
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import random_images, saved_tiny_editor
from photo_canvases import ALIGNED, background, needs_aligned_photos
from PIL import Image

import dfl_keras as dfl
from dfl_keras import atomic, photos
from dfl_keras.cli import main
from dfl_keras.provenance import read_provenance

needs_beam = pytest.mark.skipif(importlib.util.find_spec("apache_beam") is None,
                                reason='needs the beam extra: pip install "dfl_keras[beam]"')
EDITS = ["--attr", "A=1", "--attr", "B=-0.5"]
STRENGTH = {"A": 1.0, "B": -0.5}
REAL_PHOTOS = 38  # plus a twin of one, an unreadable file and a photo without a face: 41


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return str(saved_tiny_editor(tmp_path_factory.mktemp("model")))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """38 real aligned CelebA photos (read in place, written to a temporary folder), the last
    in a sub-folder; a PNG twin of the first (the same name, so the same output); a file
    that is not an image; and a photo without a face."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "more").mkdir()
    sources = sorted((ALIGNED / "img_align_celeba").glob("*.jpg"))[:REAL_PHOTOS]
    for source in sources[:-1]:
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "more" / sources[-1].name).write_bytes(sources[-1].read_bytes())
    Image.open(sources[0]).save(folder / f"{sources[0].stem}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    Image.fromarray(background(200, 260, seed=1)).save(folder / "empty.png")
    return folder


def real_photos(folder):
    """The real photos with an output of their own, and where it goes."""
    paths = sorted(path for path in folder.glob("*.jpg") if path.name != "broken.jpg")[1:]
    return [(path, f"{path.stem}.dfl.png") for path in paths] + [
        (path, f"more/{path.stem}.dfl.png") for path in folder.glob("more/*.jpg")]


def bulk_insert(*argv):
    """(exit status, stdout, stderr) of dfl bulk-insert."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["bulk-insert", *argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def bulk_run(model_file, folder, tmp_path_factory):
    output = tmp_path_factory.mktemp("edited")
    status, out, err = bulk_insert(f"{folder}/**", *EDITS, "--model", model_file, "-o",
                                   str(output))
    records = [json.loads(line) for line in (output / "records.jsonl").read_text().splitlines()]
    return status, out, err, output, {record["photo"]: record for record in records}


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


@needs_beam
@needs_aligned_photos
def test_bulk_outputs_are_those_of_edit_many(bulk_run, folder, model_file):
    status, out, _, output, records = bulk_run
    paths, names = zip(*real_photos(folder))
    model = dfl.LatentAttributeModel.from_preset(model_file)
    expected = photos.edit_many(model, paths, ["A", "B"], strength=STRENGTH)
    assert sum(isinstance(result, photos.PhotoEdit) for result in expected) > REAL_PHOTOS // 2
    for path, name, result in zip(paths, names, expected):
        written = output / name
        if isinstance(result, photos.NoFaceError):  # a few real photos: no face found by either
            assert records[str(path)]["status"] == "no_face" and not written.exists()
            continue
        assert records[str(path)]["status"] == "edited"
        assert records[str(path)]["output"] == str(written)
        np.testing.assert_array_equal(pixels(written), result.photo, err_msg=str(path))
        assert len(records[str(path)]["faces"]) == len(result.faces)
        assert records[str(path)]["faces"][0]["t"] == STRENGTH
        assert read_provenance(written)["Source"] == path.name
    assert status == 0


@needs_beam
@needs_aligned_photos
def test_bad_faceless_and_colliding_photos_are_records_and_the_others_are_written(bulk_run,
                                                                                   folder):
    status, out, err, output, records = bulk_run
    edited = sorted(str(Path(record["output"]).relative_to(output))
                    for record in records.values() if record["status"] == "edited")
    without_face = sum(record["status"] == "no_face" for record in records.values())
    assert len(edited) + without_face == REAL_PHOTOS  # 37 real photos and the empty one
    assert out.strip().splitlines()[-1].startswith(
        f"dfl bulk-insert: {len(edited)} photos edited, {without_face} without a face, 3 failed")
    broken, empty = records[str(folder / "broken.jpg")], records[str(folder / "empty.png")]
    assert broken["status"] == "failed" and "cannot read photo" in broken["error"]
    assert empty["status"] == "no_face"
    assert empty["error"].startswith(f"{folder / 'empty.png'}: no face found")
    twin = next(path for path in folder.glob("*.png") if path.name != "empty.png")
    for path in (twin, twin.with_suffix(".jpg")):
        assert records[str(path)]["status"] == "failed"
        assert "would both be written to" in records[str(path)]["error"]
    for path in (folder / "broken.jpg", folder / "empty.png", twin):
        assert records[str(path)]["output"] is None
    assert len(records) == REAL_PHOTOS + 3
    files = sorted(str(path.relative_to(output)) for path in output.rglob("*") if path.is_file())
    assert files == sorted(edited + ["records.jsonl"])
    assert status == 0 and err == ""  # nothing from Beam or TensorFlow either


@needs_beam
@needs_aligned_photos
def test_nothing_editable_exits_non_zero_with_the_summary(model_file, folder, tmp_path):
    status, out, _ = bulk_insert(f"{folder}/[be]*", *EDITS, "--model", model_file, "-o",
                                 str(tmp_path))
    assert status == 1
    assert out.strip().splitlines()[-1].startswith(
        "dfl bulk-insert: 0 photos edited, 1 without a face, 1 failed")


@needs_beam
@needs_aligned_photos
def test_a_failed_and_retried_bundle_leaves_no_duplicates_and_no_half_files(
        model_file, folder, tmp_path, monkeypatch):
    import apache_beam as beam

    from dfl_keras import beam as dfl_beam

    paths = [str(path) for path, _ in real_photos(folder)[:12]]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a writer process that no longer exists, killed mid-write
    real_write = dfl_beam.write_file
    calls = []

    def crashing_write(path, data):
        calls.append(path)
        if len(calls) == 5:  # what SIGKILL mid-write leaves: half a temporary file, no output
            half = tmp_path / f".{path.rsplit('/', 1)[1]}{atomic.TEMPORARY_MARK}{gone.pid}-0"
            half.write_bytes(data[: len(data) // 2])
            raise RuntimeError("injected fault: worker lost mid-bundle")
        real_write(path, data)

    def run():
        with beam.Pipeline(runner=dfl_beam.local_runner()) as pipeline:
            _ = (pipeline | beam.Create(paths)
                 | dfl_beam.EditPhotos(model_file, ["A", "B"], str(tmp_path), strength=STRENGTH))

    monkeypatch.setattr(dfl_beam, "write_file", crashing_write)
    with pytest.raises(Exception, match="injected fault"):
        run()
    assert len(calls) == 5 and len(list(tmp_path.glob(f".*{atomic.TEMPORARY_MARK}*"))) == 1
    monkeypatch.setattr(dfl_beam, "write_file", real_write)
    run()  # the retry
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(f"{path.rsplit('/', 1)[1][:-4]}.dfl.png" for path in paths)
    for name in names:
        with Image.open(tmp_path / name) as image:
            image.load()  # whole files only: a truncated PNG fails here


@needs_beam
def test_vectors_fitted_on_beam_equal_fit_attribute_vectors(tmp_path):
    import apache_beam as beam
    from apache_beam.testing.util import assert_that

    from dfl_keras import beam as dfl_beam

    model_file = tmp_path / "untrained.keras"  # the sums do not need a trained encoder
    dfl.LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16)).save(model_file)
    model = dfl.LatentAttributeModel.from_preset(model_file)
    n = 45
    images = random_images(n, seed=2)
    labels = {"A": (np.arange(n) % 3 == 0).astype(np.int32),  # 15 with, 30 without
              "B": (np.arange(n) % 2).astype(np.int32)}
    expected = model.fit_attribute_vectors((images, labels), ["A", "B"], seed=3, verbose=0)
    assert model.attribute_info("A")["n_used_without"] < 30  # the undersampling is at work
    examples = [(i, images[i], {name: int(values[i]) for name, values in labels.items()})
                for i in range(n)]

    def equal_to_expected(outputs):
        (fitted, (mean, covariance)), = outputs
        for name in ("A", "B"):
            vector, info = fitted[name]
            np.testing.assert_allclose(vector, expected[name], atol=1e-5)
            assert info == model.attribute_info(name)
        np.testing.assert_allclose(mean, model.code_distribution[0], atol=1e-5)
        np.testing.assert_allclose(covariance, model.code_distribution[1], atol=1e-5)

    with beam.Pipeline(runner=dfl_beam.local_runner()) as pipeline:
        fitted = (pipeline | beam.Create(examples)
                  | dfl_beam.FitAttributeVectors(model_file, ["A", "B"], seed=3,
                                                 max_batch_size=16))
        assert_that(fitted, equal_to_expected)


@needs_beam
def test_an_unknown_option_is_refused_in_one_line(model_file, tmp_path):
    status, _, err = bulk_insert(f"{tmp_path}/*.jpg", "--attr", "A", "--model", model_file,
                                 "-o", str(tmp_path), "--atr", "B")
    assert status == 1 and err.strip() == (
        "dfl bulk-insert: error: unknown option --atr: neither a dfl bulk-insert option nor a "
        "Beam pipeline option; see dfl bulk-insert --help")


def test_without_beam_the_module_and_the_command_say_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "dfl_keras.beam", raising=False)
    monkeypatch.delattr(dfl, "beam", raising=False)  # else `from dfl_keras import beam` finds it
    with pytest.raises(ModuleNotFoundError, match=r'pip install "dfl_keras\[beam\]"'):
        importlib.import_module("dfl_keras.beam")
    status, out, err = bulk_insert("photos/*.jpg", "--attr", "A", "-o", str(tmp_path))
    assert status == 1 and not out
    assert err == ('dfl bulk-insert: error: dfl_keras.beam needs Apache Beam, which is not '
                   'installed: pip install "dfl_keras[beam]"\n')


def test_importing_dfl_keras_does_not_import_beam():
    code = "import sys, dfl_keras; print('apache_beam' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


@needs_beam
def test_the_examples_run():
    from dfl_keras import beam as dfl_beam
    from dfl_keras.cli import bulk_insert as command

    for function in (dfl_beam.local_runner, dfl_beam.output_path, command.fixed_folder):
        module = sys.modules[function.__module__]
        (test,) = doctest.DocTestFinder(recurse=False).find(function, globs=vars(module).copy())
        assert test.examples
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test)
        assert runner.failures == 0, function.__qualname__
