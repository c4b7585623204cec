"""The real CelebA-HQ 64 copy in ../shared, read through the official-format loader."""

import numpy as np
import pytest
from data_fixtures import SHARED_CELEBA, shared_data

from dfl_keras.data import celeba_folder, read_attributes

pytestmark = [pytest.mark.shared_data, shared_data]


@pytest.fixture(scope="module")
def labels():
    return read_attributes(SHARED_CELEBA / "list_attr_celeba.txt")


def test_counts_and_project_split(labels):
    assert len(labels) == 30_000 and len(labels.names) == 40
    splits = ("all", "train", "test")
    sizes = {s: int(celeba_folder(SHARED_CELEBA, s).cardinality()) for s in splits}
    assert sizes == {"all": 30_000, "train": 27_000, "test": 3_000}


@pytest.mark.parametrize("name, rate", [("Smiling", 0.47), ("Male", 0.37)])
def test_positive_rates(labels, name, rate):
    assert abs(labels.select([name]).values.mean() - rate) < 0.02


def test_first_images_of_each_split(labels):
    """The train split starts at 1.jpg and the test split at 27001.jpg, with their labels."""
    for split, first_row in (("train", 0), ("test", 27_000)):
        ds = celeba_folder(SHARED_CELEBA, split, batch_size=32, take=32)
        images, attributes = next(iter(ds))
        assert images.shape == (32, 64, 64, 3) and images.dtype == "float32"
        pixels = images.numpy()
        assert 0.0 <= pixels.min() < 0.1 and 0.9 < pixels.max() <= 1.0
        assert 0.2 < pixels.mean() < 0.8 and pixels.std() > 0.1
        expected = labels.values[first_row:first_row + 32]
        got = np.stack([attributes[name].numpy() for name in labels.names], axis=1)
        np.testing.assert_array_equal(got, expected)
    assert labels.files[27_000] == "27001.jpg"
