"""A user's photo files in, edited faces out as PNG or GIF files that carry their provenance.

A photo of any size is framed the way the training data was: cropped to its
largest centred square, then resized (antialiased) to the model's S x S. So
put the face in the middle of the photo, filling most of it, as CelebA's
faces do; a small face in a wide shot stays small and edits poorly. Photos are
turned upright as their EXIF orientation says, as photo viewers do.
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps
from PIL.PngImagePlugin import PngInfo

from dfl_keras import atomic
from dfl_keras.data import images as image_files
from dfl_keras.inputs import check_count
from dfl_keras.provenance import gif_comment

MIN_FACE_SIDE = 16
"""Photos smaller than this on a side are refused: upscaled to the model's size they are a blur."""
WATERMARK = "DFL"

def read_photo(photo):
    """The photo (a path or an array) as uint8 (H, W, 3) RGB, the way a photo viewer shows it.

    Files are checked from their bytes first (data.images.image_problem: empty,
    not an image, truncated) and refused from their header when larger than
    data.images.MAX_PIXELS, before any pixel is decoded (a decompression bomb
    costs nothing). They are turned upright as their EXIF orientation says;
    greyscale, palette, RGBA (alpha dropped) and 16-bit images become 8-bit RGB.

    Example:
        >>> read_photo(np.zeros((4, 6), np.uint8)).shape
        (4, 6, 3)
    """
    if isinstance(photo, (str, Path)):
        return _read_file(Path(photo))
    return _as_rgb8(np.asarray(photo), "the photo array")


def photo_name(photo):
    """How messages name a photo: its path, or "the photo array"."""
    return str(photo) if isinstance(photo, (str, Path)) else "the photo array"


def read_image(path, size):
    """The photo at `path` framed like the training data: float32 (size, size, 3) in [0, 1].

    The largest centred square, resized with antialiasing (data.images.frame,
    as the data pipeline does). Refuses, naming the file and the fix, what
    read_photo refuses and photos under MIN_FACE_SIDE pixels on a side, too
    small to hold a face worth editing.

    Example:
        >>> import tempfile
        >>> photo = Path(tempfile.mkdtemp()) / "face.png"
        >>> Image.new("RGB", (80, 60)).save(photo)
        >>> read_image(photo, 16).shape
        (16, 16, 3)
    """
    pixels = read_photo(path)
    height, width = pixels.shape[:2]
    if min(width, height) < MIN_FACE_SIDE:
        raise ValueError(
            f"{path} is {width}x{height} pixels, too small to hold a face (at least "
            f"{MIN_FACE_SIDE} px on each side); use a larger photo with the face filling most of it"
        )
    return image_files.frame(pixels, size).numpy().astype(np.float32) / 255


def decode_photo(data, name):
    """read_photo for the bytes of a photo file read elsewhere (any file system); `name`, its
    path, is what messages call it.

    Example:
        >>> decode_photo(b"not an image", "notes.txt")
        Traceback (most recent call last):
        ...
        ValueError: cannot read photo notes.txt: ...
    """
    problem = image_files.image_problem(data) or image_files.size_problem(data)
    if problem:
        raise ValueError(f"cannot read photo {name}: {problem}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                return _as_rgb8(np.asarray(image), name)
            return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read photo {name}: its image data is damaged ({error})") from None


def _read_file(path):
    if not path.is_file():
        raise FileNotFoundError(f"no photo file {path}")
    return decode_photo(path.read_bytes(), path)


def _as_rgb8(pixels, name):
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name}: expected (H, W, 3) pixels, got shape {pixels.shape}")
    pixels = pixels[..., :3] if pixels.shape[-1] == 4 else pixels
    pixels = np.repeat(pixels, 3, -1) if pixels.shape[-1] == 1 else pixels
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    if np.issubdtype(pixels.dtype, np.integer):  # 16-bit
        return np.round(np.clip(pixels, 0, 65535) / 257).astype(np.uint8)
    if np.issubdtype(pixels.dtype, np.floating):  # floats in [0, 1]
        return np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    raise ValueError(f"{name}: unsupported pixel type {pixels.dtype}")


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
    return atomic.write_bytes(path, png_bytes(to_uint8(image), info, mark))


def png_bytes(pixels, info, mark=False):
    """The PNG file of 8-bit RGB `pixels` with `info` in its text chunks, as bytes (for writers
    other than write_png, e.g. to an object store)."""
    text = PngInfo()
    for name, value in info.items():
        text.add_text(name, str(value))
    buffer = io.BytesIO()
    Image.fromarray(watermark(pixels) if mark else pixels).save(buffer, format="PNG", pnginfo=text)
    return buffer.getvalue()


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
