"""Faces in real photos: find them, align them to a model's framing, edit them, put them back.

The steps are public for users who want their own pipeline (or their own
detector: Face.from_landmarks): find_faces -> align -> paste; edit() does it all, and
encode_photo() keeps a photo's encoded faces for many edits of it (an interactive editor).
"""

from dfl_keras.data.images import MAX_PIXELS
from dfl_keras.images_io import read_photo
from dfl_keras.photos.align import Alignment, align, similarity_fit
from dfl_keras.photos.blend import (HAIR_ATTRIBUTES, attribute_region, face_mask, mask_region,
                                   paste)
from dfl_keras.photos.calibrate import PHOTO_T_GRID, calibrate_photos
from dfl_keras.photos.edit import (EncodedPhoto, FaceEdit, PhotoEdit, edit, edit_many,
                                   encode_photo, encode_photos)
from dfl_keras.photos.faces import (LANDMARKS, MAX_TURN, Face, FaceIndexError, NoFaceError,
                                    draw_faces, face_turn, find_faces)
from dfl_keras.photos.template import CELEBA_HQ_TEMPLATE, fit_template, template_of

__all__ = [
    "Alignment", "CELEBA_HQ_TEMPLATE", "EncodedPhoto", "Face", "FaceEdit", "FaceIndexError",
    "HAIR_ATTRIBUTES", "LANDMARKS", "MAX_PIXELS", "MAX_TURN", "NoFaceError", "PHOTO_T_GRID",
    "PhotoEdit", "align", "attribute_region", "calibrate_photos", "draw_faces", "edit",
    "edit_many", "encode_photo", "encode_photos", "face_mask", "face_turn", "find_faces",
    "fit_template", "mask_region", "paste", "read_photo", "similarity_fit", "template_of",
]
