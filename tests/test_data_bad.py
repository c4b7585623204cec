"""Bad data: each case raises naming the file, or with skip_bad=True is skipped and counted."""

import logging

import pytest
import tensorflow as tf
from data_fixtures import elements, hq_celeba, index_of, write_image, write_images

from dfl_keras.data import DataError, celeba_folder, image_folder

SIZE = 8


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage(path, kind):
    if kind == "truncated":
        truncate(path)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"<html>this is an error page, not a photo</html>")


@pytest.mark.parametrize(
    "kind, message",
    [
        ("truncated", "truncated: the file ends before its image data does"),
        ("empty", "empty file"),
        ("corrupt", "not a JPEG, PNG, GIF or BMP file"),
    ],
)
def test_damaged_image_raises_naming_the_file(tmp_path, kind, message):
    hq_celeba(tmp_path, count=4)
    damage(tmp_path / "images" / "3.jpg", kind)
    ds = celeba_folder(tmp_path, "all", image_size=SIZE)
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"3.jpg: {message}.*skip_bad=True"):
        elements(ds)


def test_truncated_png_raises_naming_the_file(tmp_path):
    write_images(tmp_path, 2, suffix=".png")
    truncate(tmp_path / "000001.png")
    with pytest.raises(tf.errors.InvalidArgumentError, match="000001.png: truncated"):
        elements(image_folder(tmp_path, image_size=SIZE))


def test_missing_and_unlabelled_images_raise_naming_them(tmp_path):
    hq_celeba(tmp_path, count=4)
    (tmp_path / "images" / "2.jpg").unlink()
    missing = r"1 images listed in list_attr_celeba.txt are missing .*\(2.jpg\)"
    with pytest.raises(DataError, match=missing):
        celeba_folder(tmp_path)
    write_image(tmp_path / "images" / "2.jpg")
    write_image(tmp_path / "images" / "extra.png")
    unlabelled = r"1 images in .* have no row in list_attr_celeba.txt \(extra.png\)"
    with pytest.raises(DataError, match=unlabelled):
        celeba_folder(tmp_path)


def test_empty_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    write_image(tmp_path / "sub" / "a.png")
    with pytest.raises(DataError, match="holds no images"):
        image_folder(tmp_path)


def test_skip_bad_skips_and_counts_every_kind(tmp_path, caplog):
    hq_celeba(tmp_path, count=8)
    images = tmp_path / "images"
    damage(images / "2.jpg", "truncated")
    damage(images / "4.jpg", "empty")
    damage(images / "6.jpg", "corrupt")
    (images / "7.jpg").unlink()
    write_image(images / "unlisted.jpg")
    with caplog.at_level(logging.WARNING, logger="dfl_keras.data"):
        ds = celeba_folder(tmp_path, "all", image_size=SIZE, skip_bad=True)
        kept = [index_of(image) for image, _ in elements(ds)]
    assert kept == [0, 2, 4, 7]  # images 1.jpg, 3.jpg, 5.jpg, 8.jpg
    messages = [record.getMessage() for record in caplog.records]
    assert any("skipping 2 images" in m and "7.jpg" in m and "unlisted.jpg" in m for m in messages)
    skipped = sorted(m for m in messages if "skipped" in m and "so far" in m)
    assert len(skipped) == 3
    assert [m.split("/")[-1].split(":")[0] for m in skipped] == ["2.jpg", "4.jpg", "6.jpg"]
    assert any("(3 bad images skipped so far)" in m for m in skipped)


def test_skip_bad_in_an_unlabelled_folder(tmp_path, caplog):
    write_images(tmp_path, 3, suffix=".png")
    damage(tmp_path / "000001.png", "empty")
    with caplog.at_level(logging.WARNING, logger="dfl_keras.data"):
        ds = image_folder(tmp_path, image_size=SIZE, skip_bad=True)
        kept = [index_of(image) for image in elements(ds)]
    assert kept == [0, 2]
    assert "000001.png: empty file (0 bytes) (1 bad images skipped so far)" in caplog.text


def test_damage_only_the_decoder_sees_is_named_and_counted(tmp_path, caplog):
    """A JPEG signature and end marker around garbage passes the byte checks, not the decoder."""
    write_images(tmp_path, 4)
    for name in ("000001.jpg", "000002.jpg"):
        (tmp_path / name).write_bytes(b"\xff\xd8\xff" + b"garbage" * 20 + b"\xff\xd9")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="000001.jpg: its image data is damaged.*skip_bad=True"):
        elements(image_folder(tmp_path, image_size=SIZE))
    with caplog.at_level(logging.WARNING, logger="dfl_keras.data"):
        ds = image_folder(tmp_path, image_size=SIZE, skip_bad=True)
        assert [index_of(image) for image in elements(ds)] == [0, 3]
        assert [index_of(image) for image in elements(ds)] == [0, 3]  # a second epoch
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2  # each file once, however many epochs
    assert "000001.jpg: its image data is damaged" in skipped[0]
    assert "000002.jpg" in skipped[1] and "(2 bad images skipped so far)" in skipped[1]


def huge_png(path, width=20_000, height=20_000):
    """A small PNG whose header claims width x height pixels (a decompression bomb's header)."""
    write_image(path, size=(4, 4))
    data = bytearray(path.read_bytes())
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    path.write_bytes(bytes(data))


def test_huge_image_is_refused_from_its_header(tmp_path):
    write_images(tmp_path, 2, suffix=".png")
    huge_png(tmp_path / "000001.png")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="000001.png: 20000x20000 pixels is more than the 100 megapixels"
                             ".*downscale"):
        elements(image_folder(tmp_path, image_size=SIZE))
