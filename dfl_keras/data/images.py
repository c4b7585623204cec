"""Image bytes to square RGB arrays, and a cheap look for damaged files first.

TensorFlow's decoders fail without saying which file was bad. `image_problem`
looks at the bytes (signature, end marker) so the pipeline can name the file,
or skip it, before the decoder sees it.
"""

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


def check_crop(crop):
    """Fails early, in Python, on a crop name the graph would not know."""
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")


def image_problem(data):
    """Why the file bytes `data` are not a whole image, or "" when they look whole.

    Catches empty files, formats other than JPEG/PNG/GIF/BMP, and JPEG or PNG
    files that stop before their end marker (truncated downloads or copies).
    """

    def starts_with(signature):
        return tf.strings.substr(data, 0, len(signature)) == signature

    is_jpeg, is_png = starts_with(_JPEG), starts_with(_PNG)
    known = is_jpeg | is_png
    for signature in _OTHER_SIGNATURES:
        known |= starts_with(signature)
    whole = tf.cond(
        is_jpeg,
        lambda: _contains(data, b"\xff\xd9"),
        lambda: ~is_png | _contains(data, b"IEND"),
    )
    problem = tf.where(whole, "", "truncated: the file ends before its image data does")
    problem = tf.where(known, problem, "not a JPEG, PNG, GIF or BMP file")
    return tf.where(tf.strings.length(data) == 0, "empty file (0 bytes)", problem)


def _contains(data, marker):
    """Whether the byte string `marker` occurs in the scalar string tensor `data`."""
    octets = tf.io.decode_raw(data, tf.uint8)
    starts = tf.maximum(tf.size(octets) - len(marker) + 1, 0)
    found = tf.ones([starts], tf.bool)
    for offset, octet in enumerate(marker):
        found &= octets[offset:offset + starts] == octet
    return tf.reduce_any(found)


def decode(data, image_size, crop="center"):
    """A (image_size, image_size, 3) uint8 RGB image from encoded file bytes.

    Greyscale and RGBA become RGB, a GIF gives its first frame. The result is
    rounded back to 8 bits so a cache holds 4x less than float32 would, and the
    same pixels come out whether or not the pipeline caches.
    """
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = _crop(image, crop)
    image = tf.image.resize(image, (image_size, image_size), antialias=True)
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
