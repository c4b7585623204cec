"""Image bytes to square RGB arrays, with the reason when a file cannot be one.

TensorFlow's decoders fail without saying which file was bad, and decode a
huge image in full before anything can refuse it. So `read_checked` opens the
file, looks at its bytes (signature, end marker, the size in its header) and
turns a decoder failure into a problem string too; the pipeline and
images_io.read_image name the file, or skip it, from that one string.
"""

import functools
import re
import struct

import numpy as np
import tensorflow as tf

CROPS = ("center", "celeba")

CELEBA_FACE_BOX = (40, 15, 148, 148)
"""(top, left, height, width) of the face in CelebA's 178x218 aligned photos.

The aligned photos put the eyes near row 111 and the mouth near row 152, so
this square keeps the whole face with some hair and chin and drops most of the
background: the crop many CelebA VAE papers use. Photos of another size get the
same box scaled to their size, so downscaled copies crop the same region.
"""
_ALIGNED_HEIGHT, _ALIGNED_WIDTH = 218, 178

_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
_OTHER_SIGNATURES = (b"GIF87a", b"GIF89a", b"BM")

MAX_PIXELS = 100_000_000
"""Largest image (width x height) decoded, in training data and users' photos alike: beyond
any camera's usual output; 100 megapixels take 300 MB as 8-bit RGB and 1.2 GB while resizing
in float32. A larger header is refused before decoding (a decompression bomb costs nothing)."""
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def check_crop(crop):
    """Fails early, in Python, on a crop name the graph would not know."""
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")


def image_problem(data):
    """Why the file bytes `data` are not a whole image, or "" when they look whole.

    Catches empty files, formats other than JPEG/PNG/GIF/BMP, and JPEG or PNG
    files that stop before their end marker (truncated downloads or copies).

    Example:
        >>> image_problem(b"<html>error page</html>")
        'not a JPEG, PNG, GIF or BMP file'
    """
    if not data:
        return "empty file (0 bytes)"
    if not data.startswith((_JPEG, _PNG, *_OTHER_SIGNATURES)):
        return "not a JPEG, PNG, GIF or BMP file"
    end = b"\xff\xd9" if data.startswith(_JPEG) else b"IEND" if data.startswith(_PNG) else b""
    return "" if end in data else "truncated: the file ends before its image data does"


def read_checked(path, image_size, crop="center"):
    """(uint8 (S, S, 3) pixels, problem) for the file at `path`; see decode_checked.

    A file that cannot be opened (missing, a broken link, no permission) is a problem too.
    """
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        problem = f"cannot be opened ({error.strerror})"
        return np.zeros((image_size, image_size, 3), np.uint8), problem
    return decode_checked(data, image_size, crop)


def header_size(data):
    """(width, height) from a JPEG, PNG, GIF or BMP header (bytes), or None if it has none.

    Example:
        >>> header_size(b"GIF89a" + (640).to_bytes(2, "little") + (480).to_bytes(2, "little"))
        (640, 480)
    """
    try:
        if data.startswith(_PNG):
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data.startswith(b"BM"):
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if data.startswith(_JPEG):
            return _jpeg_size(data)
    except struct.error:  # a header shorter than its format's
        return None
    return None


def _jpeg_size(data):
    """The frame size of a JPEG: walk the marker segments to the first start-of-frame."""
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
        else:
            at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return None


def decode_checked(data, image_size, crop="center"):
    """(uint8 (S, S, 3) pixels, problem): why the bytes are no image, or "" with the pixels.

    Runs in Python so that a huge header is refused before decoding, and a
    decoder failure (markers right, data broken) becomes a problem the caller
    reports with the file's name instead of TensorFlow's "Graph execution error".

    Example:
        >>> decode_checked(b"\\xff\\xd8\\xffgarbage\\xff\\xd9", 8)[1][:33]
        'its image data is damaged (the de'
    """
    problem = image_problem(data)
    blank = np.zeros((image_size, image_size, 3), np.uint8)
    if problem:
        return blank, problem
    problem = size_problem(data)
    if problem:
        return blank, problem
    try:
        return _decoder(image_size, crop)(tf.constant(data)).numpy(), ""
    except tf.errors.InvalidArgumentError as error:
        reason = re.sub(r"\{\{.*?\}\}\s*", "", error.message).strip().splitlines()[0][:120]
        return blank, f"its image data is damaged (the decoder says: {reason})"


@functools.lru_cache(maxsize=None)
def _decoder(image_size, crop):
    return tf.function(lambda data: decode(data, image_size, crop),
                       input_signature=[tf.TensorSpec([], tf.string)])


def size_problem(data):
    """Why an image's header size is refused before decoding (over MAX_PIXELS, or empty), or "".

    Example:
        >>> size_problem(b"GIF89a" + (20000).to_bytes(2, "little") * 2)[:40]
        '20000x20000 pixels is more than the 100 '
    """
    size = header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        return (f"{size[0]}x{size[1]} pixels is more than the {MAX_PIXELS // 1_000_000} megapixels "
                "decoded; downscale it first (e.g. mogrify -resize 4000x4000 FILE, or PIL's "
                "Image.thumbnail)")
    if size is not None and min(size) == 0:
        return "its header says it is 0 pixels wide or high"
    return ""


def decode(data, image_size, crop="center"):
    """A (image_size, image_size, 3) uint8 RGB image from encoded file bytes.

    Greyscale and RGBA become RGB, a GIF gives its first frame. The result is
    rounded back to 8 bits so a cache holds 4x less than float32 would, and the
    same pixels come out whether or not the pipeline caches.
    """
    return frame(tf.io.decode_image(data, channels=3, expand_animations=False), image_size, crop)


def frame(pixels, image_size, crop="center"):
    """uint8 (H, W, 3) pixels cropped ("center" square or the "celeba" face box) and resized.

    Antialiased, so a large photo shrinks without aliasing.
    """
    image = tf.image.resize(_crop(tf.convert_to_tensor(pixels), crop), (image_size, image_size),
                            antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)


def _crop(image, crop):
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    if crop == "center":
        side = tf.minimum(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        return image[top:top + side, left:left + side]
    top, left, box_height, box_width = CELEBA_FACE_BOX

    def scaled(value, size, aligned_size):
        return tf.cast(tf.round(tf.cast(size, tf.float32) * value / aligned_size), tf.int32)

    rows = scaled(top, height, _ALIGNED_HEIGHT), scaled(top + box_height, height, _ALIGNED_HEIGHT)
    cols = scaled(left, width, _ALIGNED_WIDTH), scaled(left + box_width, width, _ALIGNED_WIDTH)
    return image[rows[0]:rows[1], cols[0]:cols[1]]
