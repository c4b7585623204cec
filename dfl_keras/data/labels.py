"""Attribute tables: which binary attributes each image file has.

CelebA ships its labels as whitespace-separated text (the image count, the
attribute names, then `<file> v1 ... v40` with 1/-1); Kaggle's copy and
hand-made data sets use a CSV whose first column is the file name. Both are
parsed by numpy's C reader in one pass; the slow line-by-line scan only runs to
explain an error, so a 200k-row file loads in a fraction of a second.
"""

import collections
import contextlib
import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import check_attributes
from .errors import DataError, first_few

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry",
    "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee",
    "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)

LABEL_VALUES = (-1, 0, 1)
SPLIT_VALUES = (0, 1, 2)


@dataclass(frozen=True)
class Labels:
    """Binary attributes of image files: row i of `values` (0/1) belongs to `files[i]`."""

    files: np.ndarray
    names: tuple
    values: np.ndarray
    source: str

    def __len__(self):
        return len(self.files)

    def select(self, attributes=None):
        """These labels restricted to `attributes` (all when None), in that order."""
        if attributes is None:
            return self
        check_attributes(attributes, self.names, self.source)
        columns = [self.names.index(name) for name in attributes]
        return Labels(self.files, tuple(attributes), self.values[:, columns], self.source)

    def subset(self, rows):
        """The rows picked by a boolean mask or index array."""
        return Labels(self.files[rows], self.names, self.values[rows], self.source)

    def columns(self):
        """`{name: int32 array of 0/1}`, the shape tf.data slices into per-image dicts."""
        return {name: self.values[:, j] for j, name in enumerate(self.names)}


def read_attributes(path):
    """Reads a label file: `.csv` (file name, then one column per attribute) or CelebA text.

    Values may be -1/1 (CelebA) or 0/1; both become 0/1.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no label file at {path}")
    with _text_file(path):
        if path.suffix.lower() == ".csv":
            names = _csv_header(path)[1:]
            files, values = _read_rows(path, names, header_lines=1, allowed=LABEL_VALUES)
        else:
            count, names = _celeba_header(path)
            files, values = _read_rows(path, names, header_lines=2, allowed=LABEL_VALUES)
            if count != len(files):
                raise DataError(
                    f"{path}, line 1: says {count} images but {len(files)} rows follow; "
                    "the file looks truncated or edited, get a fresh copy"
                )
    return Labels(files, names, (values == 1).astype(np.int32), path.name)


def read_partition(path, files):
    """Split ids (0 train, 1 validation, 2 test) of `files`, from list_eval_partition.txt/.csv."""
    path = Path(path)
    csv_file = path.suffix.lower() == ".csv"
    with _text_file(path):
        names = _csv_header(path)[1:] if csv_file else ("partition",)
        listed, ids = _read_rows(path, names, header_lines=int(csv_file), allowed=SPLIT_VALUES)
    split_of = dict(zip(listed, ids[:, 0]))
    unlisted = [name for name in files if name not in split_of]
    if unlisted:
        raise DataError(
            f"{path.name} has no row for {len(unlisted)} labelled images "
            f"({first_few(unlisted)}); add them or get a fresh copy of the file"
        )
    return np.array([split_of[name] for name in files], dtype=np.int32)


@contextlib.contextmanager
def _text_file(path):
    """Reading a label table: an image or other binary file given by mistake is named as such."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not a text label table (byte {error.start} is not UTF-8 "
                        "text): pass a CSV of file names and 0/1 columns, or CelebA's "
                        "list_attr_celeba.txt") from None


def _celeba_header(path):
    with open(path, encoding="utf-8") as f:
        first, second = f.readline(), f.readline()
    try:
        count = int(first)
    except ValueError:
        raise DataError(
            f"{path}, line 1: expected the number of images, found {first.strip()!r}; "
            "CelebA's list_attr_celeba.txt starts with the count, then the attribute "
            "names (name a CSV label file *.csv)"
        ) from None
    return count, _unique_names(path, second.split())


def _csv_header(path):
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), None)
    if not header or len(header) < 2:
        raise DataError(
            f"{path}, line 1: expected a header row: the file-name column, then one "
            "column per attribute"
        )
    return _unique_names(path, [name.strip() for name in header])


def _unique_names(path, names):
    repeated = [name for name, n in collections.Counter(names).items() if n > 1]
    if repeated:
        raise DataError(f"{path}: column {repeated[0]!r} appears more than once in the header")
    if not names:
        raise DataError(f"{path}: the header names no attributes")
    return tuple(names)


def _read_rows(path, names, header_lines, allowed):
    """File names (object array) and int8 values (rows x names) of a label table."""
    delimiter = "," if path.suffix.lower() == ".csv" else None
    dtype = [("file", object)] + [(f"v{j}", np.int8) for j in range(len(names))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                path, dtype=dtype, delimiter=delimiter, skiprows=header_lines,
                comments=None, quotechar='"', ndmin=1, encoding="utf-8",
            )
    except (ValueError, OverflowError) as error:
        raise _explain(path, names, header_lines, allowed) or DataError(
            f"{path}: cannot parse: {error}"
        ) from error
    if len(table) == 0:
        raise DataError(f"{path} has a header but no rows")
    files = np.array([name.strip() for name in table["file"]], dtype=object)
    values = np.stack([table[f"v{j}"] for j in range(len(names))], axis=1)
    if not np.isin(values, allowed).all():
        raise _explain(path, names, header_lines, allowed)
    if len(set(files)) != len(files):
        twice = next(name for name, n in collections.Counter(files).items() if n > 1)
        raise DataError(f"{path}: {twice} has more than one row; keep one")
    return files, values


def _explain(path, names, header_lines, allowed):
    """A DataError for the first malformed row, with its line number (None if none found)."""
    with open(path, newline="", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if number <= header_lines or not line.strip():
                continue
            fields = next(csv.reader([line])) if path.suffix.lower() == ".csv" else line.split()
            if len(fields) != len(names) + 1:
                return DataError(
                    f"{path}, line {number}: {len(fields)} fields, expected "
                    f"{len(names) + 1} (the file name and {len(names)} values, as the "
                    "header says); fix or remove that line"
                )
            for name, value in zip(names, fields[1:]):
                if _as_int(value) not in allowed:
                    return DataError(
                        f"{path}, line {number}: {name} is {value.strip()!r}, expected "
                        f"one of {', '.join(map(str, allowed))}"
                    )
    return None


def _as_int(text):
    try:
        return int(text)
    except ValueError:
        return None
