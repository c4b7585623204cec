"""celeba_tfds offline: TFDS mock data, a fake manual_dir, and failing fast without files."""

import time

import pytest
import tensorflow as tf
from data_fixtures import elements

tfds = pytest.importorskip("tensorflow_datasets")

from dfl_keras.data import CELEBA_ATTRIBUTES, DataError, celeba_tfds  # noqa: E402
from dfl_keras.data import tfds_celeba  # noqa: E402
from dfl_keras.errors import UnknownAttributeError  # noqa: E402

MANUAL_FILES = (
    "img_align_celeba.zip",
    "list_attr_celeba.txt",
    "list_eval_partition.txt",
    "list_landmarks_align_celeba.txt",
    "identity_CelebA.txt",
)


@pytest.fixture
def manual_dir(tmp_path):
    folder = tmp_path / "manual"
    folder.mkdir()
    for name in MANUAL_FILES:
        (folder / name).write_bytes(b"")
    return folder


def test_mock_celeb_a_in_the_common_format(tmp_path, manual_dir):
    with tfds.testing.mock_data(num_examples=3):
        ds = celeba_tfds("validation", 16, data_dir=tmp_path, manual_dir=manual_dir)
        batched = celeba_tfds("train", 8, data_dir=tmp_path, manual_dir=manual_dir,
                              attributes=["Smiling", "Male"], batch_size=2, crop="center")
        examples = elements(ds)
        images, attributes = next(iter(batched))
    assert len(examples) == 3
    for image, labels in examples:
        assert image.shape == (16, 16, 3) and image.dtype == "float32"
        assert 0.0 <= image.min() <= image.max() <= 1.0 and image.std() > 0
        assert set(labels) == set(CELEBA_ATTRIBUTES) and set(labels.values()) <= {0, 1}
    assert images.shape == (2, 8, 8, 3)
    assert set(attributes) == {"Smiling", "Male"}
    assert all(v.dtype == tf.int32 and v.shape == (2,) for v in attributes.values())


def test_unknown_attribute_fails_before_tfds_work(tmp_path):
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Smile'.*Smiling"):
        celeba_tfds(data_dir=tmp_path, attributes=["Smile"])


def test_incomplete_manual_dir_says_what_is_missing(tmp_path, manual_dir):
    (manual_dir / "img_align_celeba.zip").unlink()
    start = time.monotonic()
    with pytest.raises(DataError, match="lacks img_align_celeba.zip.*manual_dir=<that folder>"):
        celeba_tfds(data_dir=tmp_path / "tfds", manual_dir=manual_dir)
    assert time.monotonic() - start < 10


def test_unreachable_download_fails_fast_with_the_manual_route(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_celeba, "_reachable", lambda url: False)
    start = time.monotonic()
    with pytest.raises(DataError, match="cannot be reached.*list_eval_partition.txt.*manual_dir="):
        celeba_tfds(data_dir=tmp_path)
    assert time.monotonic() - start < 10


def test_failed_download_is_reraised_with_the_manual_route(tmp_path, monkeypatch):
    def refuse(self, **kwargs):
        raise ConnectionError("quota exceeded")

    monkeypatch.setattr(tfds_celeba, "_reachable", lambda url: True)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", refuse)
    message = r"could not prepare celeb_a \(quota exceeded\).*manual_dir="
    with pytest.raises(DataError, match=message):
        celeba_tfds(data_dir=tmp_path)
