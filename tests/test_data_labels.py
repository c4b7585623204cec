"""Label files: the official CelebA text, CSVs, partitions, and their errors."""

import numpy as np
import pytest
from data_fixtures import NAMES, csv_attributes, official_attributes, signs

from dfl_keras.data import CELEBA_ATTRIBUTES, DataError, read_attributes
from dfl_keras.errors import UnknownAttributeError
from dfl_keras.data.labels import read_partition

FILES = [f"{i:06d}.jpg" for i in range(5)]
EXPECTED = np.array([[int(v > 0) for v in signs(i)] for i in range(5)], np.int32)


@pytest.mark.parametrize("sep", [" ", "  "])
def test_official_text(tmp_path, sep):
    official_attributes(tmp_path / "list_attr_celeba.txt", FILES, sep=sep)
    labels = read_attributes(tmp_path / "list_attr_celeba.txt")
    assert labels.names == NAMES
    assert list(labels.files) == FILES
    assert labels.values.dtype == np.int32
    np.testing.assert_array_equal(labels.values, EXPECTED)


@pytest.mark.parametrize("zero_one", [False, True])
def test_csv_with_minus_one_or_zero(tmp_path, zero_one):
    csv_attributes(tmp_path / "labels.csv", FILES, zero_one=zero_one)
    labels = read_attributes(tmp_path / "labels.csv")
    assert labels.names == NAMES
    assert list(labels.files) == FILES
    np.testing.assert_array_equal(labels.values, EXPECTED)


def test_select_keeps_the_asked_order_and_columns(tmp_path):
    csv_attributes(tmp_path / "labels.csv", FILES)
    labels = read_attributes(tmp_path / "labels.csv").select(["Young", "Male"])
    assert labels.names == ("Young", "Male")
    np.testing.assert_array_equal(labels.values, EXPECTED[:, [2, 0]])
    assert set(labels.columns()) == {"Young", "Male"}


def test_unknown_attribute_lists_the_known_ones(tmp_path):
    csv_attributes(tmp_path / "labels.csv", FILES)
    message = "'Smilling' \\(did you mean 'Smiling'\\?\\).*Male, Smiling, Young"
    with pytest.raises(UnknownAttributeError, match=message):
        read_attributes(tmp_path / "labels.csv").select(["Smilling"])


def test_attributes_must_be_a_list(tmp_path):
    csv_attributes(tmp_path / "labels.csv", FILES)
    with pytest.raises(TypeError, match=r"list of names, e.g. \['Male'\]"):
        read_attributes(tmp_path / "labels.csv").select("Male")


def test_celeba_names_are_the_forty():
    assert len(CELEBA_ATTRIBUTES) == len(set(CELEBA_ATTRIBUTES)) == 40
    assert {"Smiling", "Male", "Eyeglasses", "Young"} <= set(CELEBA_ATTRIBUTES)


def _write(tmp_path, text, name="list_attr_celeba.txt"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


@pytest.mark.parametrize(
    "text, message",
    [
        ("2\nA B\na.jpg 1 -1\nb.jpg 1\n", r"line 4: 2 fields, expected 3"),
        ("2\nA B\na.jpg 1 -1 1\nb.jpg 1 1\n", r"line 3: 4 fields, expected 3"),
        ("2\nA B\na.jpg 1 -1\nb.jpg 1 2\n", r"line 4: B is '2', expected one of -1, 0, 1"),
        ("2\nA B\na.jpg 1 -1\n\nb.jpg yes 1\n", r"line 5: A is 'yes'"),
        ("3\nA B\na.jpg 1 -1\nb.jpg 1 1\n", r"line 1: says 3 images but 2 rows follow"),
        ("A B\na.jpg 1 -1\n", r"line 1: expected the number of images"),
        ("2\nA A\na.jpg 1 -1\nb.jpg 1 1\n", r"column 'A' appears more than once"),
        ("2\nA B\na.jpg 1 -1\na.jpg 1 1\n", r"a.jpg has more than one row"),
        ("0\nA B\n", r"has a header but no rows"),
    ],
)
def test_bad_official_text_names_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=message) as error:
        read_attributes(path)
    assert str(path) in str(error.value) or path.name in str(error.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("image_id,A,B\na.jpg,1,0\nb.jpg,1\n", r"line 3: 2 fields, expected 3"),
        ("image_id,A,B\na.jpg,1,0\nb.jpg,1,-2\n", r"line 3: B is '-2'"),
        ("image_id\n", r"line 1: expected a header row"),
        ("", r"line 1: expected a header row"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text, "labels.csv")
    with pytest.raises(DataError, match=message):
        read_attributes(path)


def test_missing_label_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_attributes(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    "name, text",
    [
        ("list_eval_partition.txt", "c.jpg 2\na.jpg 0\nb.jpg 1\n"),
        ("list_eval_partition.csv", "image_id,partition\nc.jpg,2\na.jpg,0\nb.jpg,1\n"),
    ],
)
def test_partition_is_aligned_with_the_label_rows(tmp_path, name, text):
    path = _write(tmp_path, text, name)
    np.testing.assert_array_equal(read_partition(path, ["a.jpg", "b.jpg", "c.jpg"]), [0, 1, 2])


def test_partition_errors(tmp_path):
    path = _write(tmp_path, "a.jpg 0\nb.jpg 3\n", "list_eval_partition.txt")
    with pytest.raises(DataError, match="line 2: partition is '3', expected one of 0, 1, 2"):
        read_partition(path, ["a.jpg", "b.jpg"])
    path = _write(tmp_path, "a.jpg 0\n", "list_eval_partition.txt")
    with pytest.raises(DataError, match="no row for 1 labelled images \\(b.jpg\\)"):
        read_partition(path, ["a.jpg", "b.jpg"])
