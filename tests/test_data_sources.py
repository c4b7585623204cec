"""celeba_folder and image_folder on tiny folders in each layout, and the pipeline options."""

import functools

import numpy as np
import pytest
import tensorflow as tf
from data_fixtures import (
    NAMES,
    csv_attributes,
    elements,
    expected_attributes,
    hq_celeba,
    index_of,
    kaggle_celeba,
    official_celeba,
    write_image,
    write_images,
)
from PIL import Image

from dfl_keras.data import DataError, celeba_folder, image_dataset, image_folder
from dfl_keras.errors import UnknownAttributeError

SIZE = 8


def indices(ds):
    return [index_of(image) for image, _ in elements(ds)]


def check_pairs(ds, names=NAMES):
    """Every element is a well-formed image whose attributes are its own file's."""
    image_spec, attribute_spec = ds.element_spec
    assert image_spec.shape[-3:] == (SIZE, SIZE, 3) and image_spec.dtype == tf.float32
    assert set(attribute_spec) == set(names)
    assert all(spec.dtype == tf.int32 and spec.shape == () for spec in attribute_spec.values())
    for image, attributes in elements(ds):
        assert image.shape == (SIZE, SIZE, 3) and 0.0 <= image.min() <= image.max() <= 1.0
        assert attributes == expected_attributes(index_of(image), names)


@pytest.mark.parametrize(
    "layout", [official_celeba, kaggle_celeba, functools.partial(kaggle_celeba, nested=False)]
)
def test_layouts_and_partition_splits(tmp_path, layout):
    layout(tmp_path, count=6)
    splits = {
        split: indices(celeba_folder(tmp_path, split, image_size=SIZE))
        for split in ("train", "validation", "test", "all")
    }
    assert splits == {"train": [0, 3], "validation": [1, 4], "test": [2, 5], "all": list(range(6))}
    check_pairs(celeba_folder(tmp_path, "all", image_size=SIZE))


def test_hq_layout_splits_ninety_ten_in_file_order(tmp_path):
    hq_celeba(tmp_path, count=10)
    assert indices(celeba_folder(tmp_path, "train", image_size=SIZE)) == list(range(9))
    assert indices(celeba_folder(tmp_path, "test", image_size=SIZE)) == [9]
    check_pairs(celeba_folder(tmp_path, "all", image_size=SIZE))
    with pytest.raises(DataError, match="no list_eval_partition.txt or .*no validation split"):
        celeba_folder(tmp_path, "validation")
    with pytest.raises(ValueError, match="split must be one of"):
        celeba_folder(tmp_path, "valid")


def test_attribute_subset(tmp_path):
    official_celeba(tmp_path, count=6)
    ds = celeba_folder(tmp_path, "all", image_size=SIZE, attributes=["Young", "Male"])
    check_pairs(ds, names=("Young", "Male"))
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Beard'.*Male, Smiling, Young"):
        celeba_folder(tmp_path, attributes=["Beard"])


def test_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CelebA folder"):
        celeba_folder(tmp_path / "absent")
    with pytest.raises(DataError, match="no list_attr_celeba.txt or list_attr_celeba.csv"):
        celeba_folder(tmp_path)
    (tmp_path / "list_attr_celeba.txt").write_text("1\nMale\na.jpg 1\n")
    with pytest.raises(DataError, match="unzip img_align_celeba.zip"):
        celeba_folder(tmp_path)


@pytest.mark.parametrize("zero_one", [False, True])
def test_image_folder_with_csv(tmp_path, zero_one):
    names = write_images(tmp_path / "faces", 5, suffix=".png")
    csv_attributes(tmp_path / "labels.csv", names, zero_one=zero_one, order=[4, 3, 2, 1, 0])
    ds = image_folder(tmp_path / "faces", tmp_path / "labels.csv", image_size=SIZE)
    assert indices(ds) == [4, 3, 2, 1, 0]  # the CSV's order
    check_pairs(ds)


def test_unlabelled_folder_yields_images_only(tmp_path):
    write_images(tmp_path, 3, suffix=".png")
    (tmp_path / "notes.txt").write_text("not an image")
    ds = image_folder(tmp_path, image_size=SIZE)
    assert isinstance(ds.element_spec, tf.TensorSpec)
    images = elements(ds)
    assert [index_of(image) for image in images] == [0, 1, 2]
    np.testing.assert_allclose(images[1][0, 0], np.array([30, 185, 128]) / 255, atol=1e-6)


def test_formats_become_rgb(tmp_path):
    rgb = (30, 185, 128)
    write_image(tmp_path / "a.bmp", 1)
    write_image(tmp_path / "b.png", 1, mode="RGBA")
    write_image(tmp_path / "c.png", 1, mode="L")
    write_image(tmp_path / "d.jpg", 1)
    first, second = Image.new("RGB", (12, 12), rgb), Image.new("RGB", (12, 12), (0, 0, 255))
    first.save(tmp_path / "e.gif", save_all=True, append_images=[second])
    grey = Image.new("RGB", (1, 1), rgb).convert("L").getpixel((0, 0))
    expected = [rgb, rgb, (grey,) * 3, rgb, rgb]
    images = elements(image_folder(tmp_path, image_size=SIZE))
    assert len(images) == 5
    for image, colour, atol in zip(images, expected, [0, 0, 0, 3, 0]):
        assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.float32
        expected_pixels = np.broadcast_to(colour, image.shape)
        np.testing.assert_allclose(image * 255, expected_pixels, atol=atol + 1e-3)


def _banded(path, size, box, inside=255):
    """A black (width, height) PNG with a white rectangle (top, left, bottom, right)."""
    image = Image.new("L", size, 0)
    top, left, bottom, right = box
    image.paste(inside, (left, top, right, bottom))
    image.save(path)


def test_center_crop_keeps_the_middle_square(tmp_path):
    _banded(tmp_path / "tall.png", (8, 16), (4, 0, 12, 8))  # white middle 8x8
    _banded(tmp_path / "wide.png", (16, 8), (0, 4, 8, 12))
    for image in elements(image_folder(tmp_path, image_size=4, crop="center")):
        np.testing.assert_array_equal(image, np.ones((4, 4, 3)))


def test_celeba_crop_is_the_face_box_at_any_scale(tmp_path):
    _banded(tmp_path / "aligned.png", (178, 218), (40, 15, 188, 163))  # exactly the box
    _banded(tmp_path / "half.png", (89, 109), (19, 6, 95, 83))  # the box plus a pixel
    images = elements(image_folder(tmp_path, image_size=SIZE, crop="celeba"))
    for image in images:
        np.testing.assert_array_equal(image, np.ones((SIZE, SIZE, 3)))
    centre = elements(image_folder(tmp_path, image_size=SIZE, crop="center", take=1))[0]
    assert centre.min() < 0.5  # a centre crop of the same photo shows background
    with pytest.raises(ValueError, match="crop must be one of"):
        image_folder(tmp_path, crop="face")


def test_batch_take_and_drop_remainder(tmp_path):
    write_images(tmp_path, 7, suffix=".png")
    shapes = [b.shape for b in image_folder(tmp_path, image_size=SIZE, batch_size=3)]
    assert shapes == [(3, SIZE, SIZE, 3), (3, SIZE, SIZE, 3), (1, SIZE, SIZE, 3)]
    ds = image_folder(tmp_path, image_size=SIZE, batch_size=3, drop_remainder=True)
    assert ds.element_spec.shape == (3, SIZE, SIZE, 3) and len(list(ds)) == 2
    assert len(list(image_folder(tmp_path, image_size=SIZE, take=4))) == 4


def test_seeded_shuffle_is_reproducible_and_reshuffles(tmp_path):
    official_celeba(tmp_path, count=12, partition=False)

    def epochs(ds):
        return [[index_of(image) for image, _ in ds.as_numpy_iterator()] for _ in range(2)]

    options = dict(split="all", image_size=SIZE, shuffle=True, seed=3)
    first = epochs(celeba_folder(tmp_path, **options))
    again = epochs(celeba_folder(tmp_path, **options))
    assert first == again
    assert sorted(first[0]) == list(range(12)) and first[0] != list(range(12))
    assert first[0] != first[1]
    check_pairs(celeba_folder(tmp_path, **options))


@pytest.mark.parametrize("cache", ["memory", "file"])
def test_cache_gives_the_same_elements(tmp_path, cache):
    official_celeba(tmp_path / "data", count=6)
    path = "memory" if cache == "memory" else str(tmp_path / "cache" / "celeba")
    plain = elements(celeba_folder(tmp_path / "data", "all", image_size=SIZE))
    ds = celeba_folder(tmp_path / "data", "all", image_size=SIZE, cache=path)
    for _ in range(2):
        cached = elements(ds)
        assert len(cached) == len(plain)
        for (a, la), (b, lb) in zip(plain, cached):
            np.testing.assert_array_equal(a, b)
            assert la == lb
    if cache == "file":
        assert list((tmp_path / "cache").glob("celeba*.index"))


def test_cache_with_shuffle_shuffles_after_the_cache(tmp_path):
    official_celeba(tmp_path, count=12, partition=False)
    ds = celeba_folder(tmp_path, "all", image_size=SIZE, cache="memory", shuffle=True, seed=1)
    orders = [indices(ds) for _ in range(2)]
    assert sorted(orders[0]) == sorted(orders[1]) == list(range(12))
    assert orders[0] != orders[1]
    check_pairs(ds)


def test_image_dataset_from_paths(tmp_path):
    names = write_images(tmp_path, 4, suffix=".png")
    paths = [tmp_path / name for name in names]
    ds = image_dataset(paths, {"Male": [1, 0, 0, 1]}, image_size=SIZE, deterministic=False)
    pairs = sorted((index_of(image), labels["Male"]) for image, labels in elements(ds))
    assert pairs == [(0, 1), (1, 0), (2, 0), (3, 1)]
    with pytest.raises(ValueError, match="one value per path"):
        image_dataset(paths, {"Male": [1, 0]})
    with pytest.raises(DataError, match="no image files"):
        image_dataset([])
