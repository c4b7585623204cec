"""Bad input fails before any work, with a message naming the problem and the fix."""

import errno
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import SIZE, labelled_dataset, random_images, run_in_threads, tiny_model
from PIL import Image

import dfl_keras  # noqa: F401  (registers the model class for load_model)
from dfl_keras import images_io
from dfl_keras.data import image_dataset

from dfl_keras.errors import UnknownAttributeError


@pytest.fixture(scope="module")
def model():
    model = tiny_model()
    model.set_attribute_vector("Bald", np.ones(8))
    return model


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((SIZE, SIZE)), ValueError, "shape"),
        (np.zeros((1, 1, SIZE, SIZE, 3)), ValueError, "shape"),
        (np.zeros((2, 32, 32, 3)), ValueError, f"must be {SIZE}x{SIZE}"),
        (np.zeros((2, SIZE, SIZE, 4)), ValueError, "3 \\(RGB\\) channels"),
        (np.zeros((2, SIZE, SIZE, 3), np.uint8), TypeError, "astype\\('float32'\\) / 255"),
        (np.full((2, SIZE, SIZE, 3), 200.0), ValueError, "divide by 255"),
        (np.full((2, SIZE, SIZE, 3), -0.5), ValueError, "in \\[0, 1\\]"),
        (np.full((2, SIZE, SIZE, 3), np.nan), ValueError, "NaN or Inf"),
    ],
)
def test_bad_images(model, images, error, message):
    for call in (model.encode, model.reconstruct, lambda x: model.insert(x, "Bald", 1.0)):
        with pytest.raises(error, match=message):
            call(images)


def test_unknown_attribute_lists_the_known_ones(model):
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Smiling'; the model has: Bald"):
        model.insert(random_images(1), "Smiling", 1.0)


@pytest.mark.parametrize("t", [np.nan, np.inf, [1.0, np.nan]])
def test_non_finite_t(model, t):
    with pytest.raises(ValueError, match="must be finite"):
        model.insert(random_images(2), "Bald", t)


def test_t_with_the_wrong_number_of_values(model):
    with pytest.raises(ValueError, match="one value per image \\(2\\)"):
        model.insert(random_images(2), "Bald", [1.0, 2.0, 3.0])


def test_codes_of_the_wrong_size(model):
    with pytest.raises(ValueError, match="Codes must have shape \\(N, 8\\)"):
        model.decode(np.zeros((2, 5)))


def test_label_missing_from_the_dataset_lists_the_available_ones():
    _, _, ds = labelled_dataset(8)
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Bald'; the dataset has: A, B"):
        tiny_model().fit_attribute_vector(ds, "Bald", verbose=0)


def test_one_class_only_says_which_class_is_missing_and_keeps_old_vectors():
    model = tiny_model()
    model.set_attribute_vector("old", np.ones(8))
    images = random_images(12)
    labels = {"ok": np.arange(12) % 2, "none": np.zeros(12)}
    with pytest.raises(ValueError, match="'none' has only one class: class 1 \\(with\\) is missing among 12"):
        model.fit_attribute_vectors((images, labels), ["ok", "none"], verbose=0)
    assert model.attribute_names == ["old"]  # nothing half-written


def test_empty_dataset():
    images, labels = random_images(0), {"A": np.zeros(0, np.int32)}
    with pytest.raises(ValueError, match="empty"):
        tiny_model().fit_attribute_vector((images, labels), "A", verbose=0)


def test_labels_other_than_zero_one():
    images = random_images(4)
    with pytest.raises(ValueError, match="labels must be 0/1"):
        tiny_model().fit_attribute_vector((images, np.array([-1, 1, -1, 1])), "A", verbose=0)


def test_images_without_labels_cannot_fit_a_vector():
    with pytest.raises(ValueError, match="without labels"):
        tiny_model().fit_attribute_vector(tf.data.Dataset.from_tensor_slices(random_images(4)), "A", verbose=0)


def test_uint8_dataset_names_the_conversion():
    images = np.zeros((4, SIZE, SIZE, 3), np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((images, np.array([0, 1, 0, 1])))
    with pytest.raises(TypeError, match="convert_image_dtype"):
        tiny_model().fit_attribute_vector(ds, "A", verbose=0)
    with pytest.raises(TypeError, match="float32"):
        tiny_model().fit(ds.batch(2), verbose=0, shuffle=False)


def test_training_images_out_of_range():
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be in \\[0, 1\\]"):
        tiny_model().fit(np.full((4, SIZE, SIZE, 3), 3.0, np.float32), batch_size=2, verbose=0)


def test_unknown_options():
    with pytest.raises(ValueError, match="reconstruction_loss"):
        tiny_model(reconstruction_loss="l7")
    with pytest.raises(ValueError, match="power of two"):
        tiny_model(image_size=48)


IMAGES = random_images(8)
ZERO_ONE = np.array([0, 1] * 4)


def pairs(*columns):
    return tf.data.Dataset.from_tensor_slices(columns)


@pytest.mark.parametrize(
    "data, error, message",
    [
        ((IMAGES, np.array(["yes", "no"] * 4)), TypeError,
         "labels must be 0/1 numbers; Received: dtype <U3 .*'yes'.*== 'yes'"),
        ((IMAGES, {"A": ["y", "n"] * 4}), TypeError, "labels\\['A'\\] must be 0/1 numbers"),
        ((IMAGES, np.array([0.2, 0.9] * 4)), ValueError,
         "labels must be 0/1; Received: the value .*0.2.*scores > 0.5"),
        ((IMAGES, np.array([0, 1] * 3)), ValueError,
         "one value per image \\(8\\); Received: shape \\(6,\\)"),
        ((IMAGES, ZERO_ONE, ZERO_ONE), ValueError,
         "a pair \\(images, labels\\); Received: a tuple of 3 items"),
        ((IMAGES[0], ZERO_ONE), ValueError,
         "a batch \\(N, 16, 16, 3\\); Received: shape \\(16, 16, 3\\)"),
        (pairs({"A": ZERO_ONE}, IMAGES), ValueError,
         "look like \\(attributes, image\\).*ds.map\\(lambda labels, image"),
        (pairs(ZERO_ONE, IMAGES), ValueError,
         "Received: elements \\(int64\\(\\), float32\\(16, 16, 3\\)\\)"),
        (pairs(IMAGES, ZERO_ONE, ZERO_ONE), ValueError,
         "must yield \\(image, attributes\\) pairs.*Received: elements"),
        (tf.data.Dataset.from_tensor_slices({"image": IMAGES, "A": ZERO_ONE}), ValueError,
         "Received: elements \\{'image'"),
        (pairs(IMAGES, np.array(["y", "n"] * 4)), TypeError,
         "label 'label' must be 0/1 numbers; Received: string"),
        (pairs(IMAGES, np.array([0.2, 0.9] * 4)), tf.errors.InvalidArgumentError,
         "label A must be 0/1, found a fractional value; threshold it"),
    ],
    ids=["str labels", "str dict labels", "fractional labels", "too few labels", "3-tuple",
         "one image", "swapped dict", "swapped scalar", "dataset 3-tuple", "dict elements",
         "dataset str labels",
         "dataset fractional labels"],
)
def test_bad_labelled_data_names_the_argument(data, error, message):
    model = tiny_model()
    with pytest.raises(error, match=message):
        model.fit_attribute_vector(data, "A", verbose=0)
    assert model.attribute_names == []


@pytest.mark.parametrize(
    "calibrated, t, message",
    [
        (None, 1e30, "is 1e\\+30, beyond 10 \\(the bound for vectors without a calibrated"),
        (None, -11.0, "is 11, beyond 10"),
        (0.5, 6.0, "beyond 5 \\(10x its calibrated strength t = 0.5\\).*posterised"),
        (0.5, [0.0, 1e6], "is 1e\\+06, beyond 5"),
    ],
)
def test_t_far_beyond_the_fitted_strength_is_refused(calibrated, t, message):
    model = tiny_model()
    model.set_attribute_vector("A", np.ones(8), **({} if calibrated is None else {"t": calibrated}))
    with pytest.raises(ValueError, match=message):
        model.insert(random_images(2), "A", t)
    with pytest.raises(ValueError, match=message):
        model.edit_offsets({"A": t}, 2)
    assert model.insert(random_images(2), "A", 10 * (calibrated or 1.0)).shape == (2, SIZE, SIZE, 3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.encode(np.zeros((0, SIZE, SIZE, 3), np.float32)), ValueError,
         "No images given; Received: an empty batch"),
        (lambda m: m.insert(np.zeros((0, SIZE, SIZE, 3), np.float32), "Bald", 1.0), ValueError,
         "No images given"),
        (lambda m: m.encode(random_images(2), batch_size=0), ValueError,
         "batch_size must be a whole number of at least 1; Received: batch_size=0"),
        (lambda m: m.reconstruct(random_images(2), batch_size=-1), ValueError,
         "Received: batch_size=-1"),
        (lambda m: m.insert(random_images(2), "Bald", "1.5"), TypeError,
         "t for 'Bald' must be numbers; Received: '1.5'"),
        (lambda m: m.insert(random_images(2), ["Bald"]), TypeError,
         "attributes must be a name or a dict \\{name: t\\}; Received: list"),
        (lambda m: m.interpolate(random_images(1)[0], random_images(1)[0], steps=2.5), ValueError,
         "steps must be a whole number of at least 2; Received: steps=2.5"),
    ],
    ids=["empty encode", "empty insert", "batch_size 0", "batch_size -1", "t string",
         "attributes list", "fractional steps"],
)
def test_bad_call_arguments_name_the_argument(model, call, error, message):
    with pytest.raises(error, match=message):
        call(model)


def write_png(path, size):
    Image.new("RGB", size, (200, 120, 90)).save(path)
    return path


def garbage_jpeg(path):
    """Right JPEG start and end markers around data no decoder accepts."""
    path.write_bytes(b"\xff\xd8\xff" + b"garbage" * 20 + b"\xff\xd9")
    return path


def huge_png(path):
    """A small PNG whose header claims 20000x20000 pixels, as a decompression bomb's does."""
    data = bytearray(write_png(path, (4, 4)).read_bytes())
    data[16:24] = (20_000).to_bytes(4, "big") * 2
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: huge_png(p / "big.png"),
         "big.png: 20000x20000 pixels is more than the 100 megapixels decoded; downscale it first"),
        (lambda p: write_png(p / "tiny.png", (12, 40)),
         "tiny.png is 12x40 pixels, too small to hold a face \\(at least 16 px on each side\\)"),
        (lambda p: garbage_jpeg(p / "bad.jpg"),
         "bad.jpg: its image data is damaged"),
        (lambda p: (p / "page.jpg").write_bytes(b"<html></html>") and p / "page.jpg",
         "page.jpg: not a JPEG, PNG, GIF or BMP file"),
    ],
    ids=["huge", "tiny", "garbage data", "not an image"],
)
def test_bad_photo_files_are_refused_naming_the_file(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        images_io.read_image(make(tmp_path), SIZE)


def test_photo_in_a_unicode_folder_with_spaces(tmp_path):
    folder = tmp_path / "fötos mit Leerzeichen ✓"
    folder.mkdir()
    photo = write_png(folder / "a b.png", (40, 30))
    assert images_io.read_image(photo, SIZE).shape == (SIZE, SIZE, 3)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"image_size": 0}, "image_size must be a whole number of at least 1; Received: image"),
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"take": -1}, "take must be a whole number of at least 1; Received: take=-1"),
    ],
)
def test_bad_pipeline_counts(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        image_dataset([write_png(tmp_path / "a.png", (20, 20))], **{"image_size": 8, **options})


def test_missing_file_and_broken_link_are_named(tmp_path):
    good = write_png(tmp_path / "good.png", (20, 20))
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    for path in (tmp_path / "dangling.png", tmp_path / "missing.png"):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"{path.name}: cannot be opened \\(No such file or directory\\)"):
            list(image_dataset([good, path], image_size=8))


def test_saving_into_a_missing_folder_says_so(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder .*nope; create it first"):
        model.save(tmp_path / "nope" / "m.keras")
    with pytest.raises(FileNotFoundError, match="no folder .*nope; create it first"):
        images_io.write_png(tmp_path / "nope" / "x.png", random_images(1)[0], {})


def test_a_full_disk_keeps_the_previous_model_whole(model, tmp_path, monkeypatch):
    target = tmp_path / "m.keras"
    model.save(target)
    before = target.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", no_space)
    with pytest.raises(OSError, match="no space left to write .*m.keras: free some disk space.*"
                                      "intact"):
        model.save(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # no temporary left


def test_concurrent_saves_leave_one_whole_model(model, tmp_path):
    target = tmp_path / "m.keras"
    assert run_in_threads(lambda: model.save(target), threads=4) == []
    assert keras.saving.load_model(target).attribute_names == ["Bald"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
