"""What the photo commands share: --faces and --no-align, and the aligned crops of photos."""

import argparse

import numpy as np

from dfl_keras import images_io
from dfl_keras.photos import NoFaceError, align, find_faces, read_photo, template_of

DEFAULT_MIN_SIZE = 36  # photos.find_faces' measured minimum face size


def add_face_options(parser, many=True):
    if many:
        parser.add_argument("--faces", type=face_choice, default="all", metavar="all|largest|N",
                            help="which faces to edit: all (default), the largest, or the N-th "
                            "(1 is the largest; --show-faces numbers them)")
    parser.add_argument("--no-align", action="store_true", help="the photos are cropped faces "
                        "already: use their centre square as the model's input, find no faces")


def face_choice(text):
    """--faces: "all", "largest" or N >= 1 (1-based, largest first) -> photos' 0-based form."""
    if text in ("all", "largest"):
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text) - 1
    raise argparse.ArgumentTypeError(f"expected all, largest or a face number 1, 2, ..., "
                                     f"got {text!r}")


def check_files(paths):
    """Refuse a missing photo (or a folder, a broken link) before any work: it is a typo, not a
    photo without a face."""
    for path in paths:
        images_io.check_photo_file(path)


def face_crop(model, path, no_align):
    """The model's input for the largest face of a photo: its aligned crop, or with no_align the
    photo's centre square, float32 (S, S, 3) in [0, 1]."""
    if no_align:
        return images_io.read_image(path, model.image_size)
    template = template_of(model)
    pixels = read_photo(path)
    faces = find_faces(pixels, min_size=DEFAULT_MIN_SIZE)
    if not faces:
        raise NoFaceError(no_face(path))
    return np.asarray(align(pixels, faces[0], template, model.image_size)[0], np.float32)


def no_face(path):
    """The one line naming a photo in which no face was found, with the way out."""
    return (f"{path}: no face found (none of at least {DEFAULT_MIN_SIZE} px); if the photo is a "
            "cropped face already, use --no-align")
