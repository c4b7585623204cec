"""A user's photo files in, edited faces out as PNG or GIF files that carry their provenance.

A photo of any size is framed the way the training data was: cropped to its
largest centred square, then resized (antialiased) to the model's S x S. So
put the face in the middle of the photo, filling most of it, as CelebA's
faces do; a small face in a wide shot stays small and edits poorly. Photos are
turned upright as their EXIF orientation says, as photo viewers do.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from dfl_keras import atomic
from dfl_keras.data import images as image_files
from dfl_keras.inputs import check_count
from dfl_keras.provenance import gif_comment

MIN_FACE_SIDE = 16
"""Photos smaller than this on a side are refused: upscaled to the model's size they are a blur."""
WATERMARK = "DFL"
ORIENTATION = 0x0112  # the EXIF tag
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


def read_image(path, size):
    """The photo at `path` (JPEG, PNG, GIF, BMP) as float32 (size, size, 3) in [0, 1].

    Refuses, naming the file and the fix, files that are not whole images, images
    over data.images.MAX_PIXELS (before decoding them) and images under
    MIN_FACE_SIDE pixels on a side, too small to hold a face worth editing.

    Example:
        >>> import tempfile
        >>> photo = Path(tempfile.mkdtemp()) / "face.png"
        >>> Image.new("RGB", (80, 60)).save(photo)
        >>> read_image(photo, 16).shape
        (16, 16, 3)
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no image file {path}")
    data = Path(path).read_bytes()
    pixels, problem = image_files.decode_checked(data, size, crop="center")
    if problem:
        raise ValueError(f"cannot read image {path}: {problem}")
    width, height = image_files.header_size(data) or (size, size)
    if min(width, height) < MIN_FACE_SIDE:
        raise ValueError(
            f"{path} is {width}x{height} pixels, too small to hold a face (at least "
            f"{MIN_FACE_SIDE} px on each side); use a larger photo with the face filling most of it"
        )
    return _upright(pixels, path).astype(np.float32) / 255


def _upright(pixels, path):
    """The pixels turned as the photo's EXIF orientation says; TensorFlow's decoders ignore it.

    Phones store portraits sideways with a tag saying so. Cropping the centre
    square and resizing commute with these turns and flips, so they can be
    applied to the small result.
    """
    with Image.open(path) as image:
        turn = UPRIGHT.get(image.getexif().get(ORIENTATION))
    return pixels if turn is None else np.asarray(Image.fromarray(pixels).transpose(turn))


def to_uint8(image):
    """Floats in [0, 1] as 8-bit pixels."""
    return np.round(np.clip(np.asarray(image, np.float32), 0, 1) * 255).astype(np.uint8)


def watermark(pixels):
    """A copy of 8-bit RGB `pixels` with a small visible "DFL" in the bottom-right corner."""
    image = Image.fromarray(pixels)
    font = ImageFont.load_default(max(8, min(image.size) // 7))
    margin = max(1, min(image.size) // 32)
    ImageDraw.Draw(image).text(
        (image.width - margin, image.height - margin), WATERMARK, font=font, anchor="rd",
        fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0),
    )
    return np.asarray(image)


def write_png(path, image, info, mark=False):
    """Save an image in [0, 1] as a PNG whose text chunks hold `info` (dfl_keras.provenance).

    Written atomically (dfl_keras.atomic): an existing file is replaced whole or kept.
    """
    pixels = to_uint8(image)
    text = PngInfo()
    for name, value in info.items():
        text.add_text(name, str(value))
    with atomic.replacing(path, suffix=".png") as temporary:
        Image.fromarray(watermark(pixels) if mark else pixels).save(temporary, pnginfo=text)
    return Path(path)


def write_gif(path, frames, info, fps=8, scale=1, mark=False, bounce=True):
    """Save frames in [0, 1] as a looping GIF whose comment holds `info`.

    Args:
        scale: enlarge each frame this many times (bicubic), as small faces show tiny.
        bounce: play forwards then backwards, so the loop has no jump.
    """
    check_count("scale", scale)
    if not fps > 0:
        raise ValueError(f"fps must be a number above 0; Received: fps={fps!r}.")
    pixels = list(to_uint8(frames))
    if bounce:
        pixels += pixels[-2:0:-1]
    images = []
    for frame in pixels:
        image = Image.fromarray(frame)
        if scale != 1:
            size = (image.width * scale, image.height * scale)
            image = image.resize(size, Image.Resampling.BICUBIC)
        images.append(Image.fromarray(watermark(np.asarray(image))) if mark else image)
    with atomic.replacing(path, suffix=".gif") as temporary:
        images[0].save(
            temporary, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
            comment=gif_comment(info).encode(),
        )
    return Path(path)
