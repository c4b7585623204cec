"""A user's photo files in, edited faces out as PNG or GIF files that carry their provenance.

A photo of any size is framed the way the training data was: cropped to its
largest centred square, then resized (antialiased) to the model's S x S. So
put the face in the middle of the photo, filling most of it, as CelebA's
faces do; a small face in a wide shot stays small and edits poorly. Photos are
turned upright as their EXIF orientation says, as photo viewers do.
"""

import errno
import io
import os
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
MIN_FPS, MAX_FPS = 0.002, 100  # a GIF frame's delay: whole hundredths of a second, 16 bits
MAX_DELAY_MS = 655_350  # the longest delay a GIF frame stores (65535 hundredths)
MAX_GIF_BYTES = 1_000_000_000
"""Largest GIF animation made, as its frames' 8-bit RGB pixels (the back-and-forth loop
included): 1 GB, e.g. 636 steps of 64 px faces at --scale 8. Frames are held in memory
while the GIF is written, so beyond this the machine swaps or the process is killed."""

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
    """How messages name a photo: its path (bytes that are not UTF-8 shown as \\xff, so the
    name can be printed), or "the photo array".

    Example:
        >>> photo_name(os.fsdecode(b"caf\\xe9.jpg"))
        'caf\\\\xe9.jpg'
    """
    if not isinstance(photo, (str, Path)):
        return "the photo array"
    return os.fsencode(photo).decode("utf-8", "backslashreplace")


def check_photo_file(path):
    """`path` as a Path if it is a file to read; else an error naming what it is instead.

    Example:
        >>> check_photo_file("/")
        Traceback (most recent call last):
        IsADirectoryError: / is a folder, not a photo: name the photos in it, e.g. //*.jpg
    """
    path = Path(path)
    if path.is_file():
        return path
    name = photo_name(path)
    if path.is_dir():
        raise IsADirectoryError(f"{name} is a folder, not a photo: name the photos in it, "
                                f"e.g. {name}/*.jpg")
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 says a loop so
            raise FileNotFoundError(f"{name} is a loop of symbolic links: it points back to "
                                    "itself, not to a photo") from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise FileNotFoundError(f"{name} is a loop of symbolic links: it points back "
                                        "to itself, not to a photo") from None
        raise FileNotFoundError(f"{name} is a link to {photo_name(os.readlink(path))}, which "
                                "does not exist")
    raise FileNotFoundError(f"no image file {name}")


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
    name = photo_name(name)
    problem = image_files.image_problem(data) or image_files.size_problem(data)
    if problem:
        raise ValueError(f"cannot read photo {name}: {problem}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                return _as_rgb8(np.asarray(image), name, sixteen_bit=True)
            return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read photo {name}: its image data is damaged ({error})") from None


def _read_file(path):
    name = photo_name(check_photo_file(path))
    try:
        data = path.read_bytes()
    except OSError as error:  # no permission, a device error: the photo is named, not an output
        raise OSError(error.errno, f"cannot read the photo {name}: "
                                   f"{(error.strerror or str(error)).lower()}") from None
    return decode_photo(data, path)


def _as_rgb8(pixels, name, sixteen_bit=False):
    """uint8 RGB from greyscale, RGB or RGBA pixels: uint8, 16-bit (uint16, or a 16-bit file's
    `sixteen_bit` integers), other integers in 0..255, or floats in [0, 1]; else refused."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name}: expected (H, W, 3) pixels, got shape {pixels.shape}")
    pixels = pixels[..., :3] if pixels.shape[-1] == 4 else pixels
    pixels = np.repeat(pixels, 3, -1) if pixels.shape[-1] == 1 else pixels
    if not pixels.size:
        raise ValueError(f"{name}: an empty image, shape {pixels.shape}: no pixels to edit")
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    if np.issubdtype(pixels.dtype, np.integer):
        low, high = int(pixels.min()), int(pixels.max())
        if pixels.dtype == np.uint16 or sixteen_bit:
            return np.round(np.clip(pixels, 0, 65535) / 257).astype(np.uint8)
        if low < 0 or high > 255:
            raise ValueError(f"{name}: integer pixels must lie in 0..255 (or be uint16 for 16 "
                             f"bits), found [{low}, {high}]")
        return pixels.astype(np.uint8)
    if np.issubdtype(pixels.dtype, np.floating):  # floats in [0, 1]
        if not np.isfinite(pixels).all():
            raise ValueError(f"{name}: float pixels must be finite numbers in [0, 1] (no NaN or "
                             "Inf)")
        low, high = float(pixels.min()), float(pixels.max())
        if low < 0 or high > 1:
            hint = " They look like 0..255 values: divide by 255." if high > 1.5 else ""
            raise ValueError(f"{name}: float pixels must lie in [0, 1], found [{low:g}, "
                             f"{high:g}].{hint}")
        return np.round(pixels * 255).astype(np.uint8)
    raise ValueError(f"{name}: unsupported pixel type {pixels.dtype}")


def is_grey(pixels):
    """Whether RGB pixels (H, W, 3) are a black-and-white picture (all three channels equal)."""
    pixels = np.asarray(pixels)
    return bool((pixels == pixels[..., :1]).all())


def as_grey(pixels):
    """RGB pixels (uint8 or floats) as grey RGB of their luma (ITU-R 601, as PIL's "L").

    Example:
        >>> as_grey(np.array([[[255, 0, 0]]], np.uint8)).tolist()
        [[[76, 76, 76]]]
    """
    pixels = np.asarray(pixels)
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if pixels.dtype == np.uint8:
        luma = np.clip(np.round(luma), 0, 255)
    return np.repeat(luma[..., None], 3, -1).astype(pixels.dtype)


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


def check_gif(frames, side, scale=1, fps=8, bounce=True):
    """Refuse, before any work, a GIF that cannot be written: a scale that is not a whole
    number >= 1, fps a GIF cannot store (MIN_FPS..MAX_FPS), or `frames` frames of
    side * scale pixels holding more than MAX_GIF_BYTES.

    Example:
        >>> check_gif(3000, 64, 8)
        Traceback (most recent call last):
        ValueError: a GIF of 3000 frames (played back and forth: 5998) of 512x512 pixels ...
    """
    check_count("scale", scale)
    if not MIN_FPS <= fps <= MAX_FPS:
        raise ValueError(f"fps must lie in {MIN_FPS:g}..{MAX_FPS:g} (a GIF stores each frame's "
                         f"delay in hundredths of a second, at most 655 s); Received: fps={fps!r}.")
    shown = 2 * frames - 2 if bounce and frames > 2 else frames
    needed = shown * (side * scale) ** 2 * 3
    if needed > MAX_GIF_BYTES:
        loop = f" (played back and forth: {shown})" if shown != frames else ""
        raise ValueError(f"a GIF of {frames} frames{loop} of {side * scale}x{side * scale} pixels "
                         f"needs {needed / 1e9:.1f} GB of memory, more than the "
                         f"{MAX_GIF_BYTES / 1e9:.1f} GB allowed: fewer steps or a smaller scale "
                         "(e.g. --scale 3)")


def write_gif(path, frames, info, fps=8, scale=1, mark=False, bounce=True):
    """Save frames in [0, 1] as a looping GIF whose comment holds `info`.

    Args:
        scale: enlarge each frame this many times (bicubic), as small faces show tiny.
        bounce: play forwards then backwards, so the loop has no jump.
    """
    check_gif(len(frames), np.shape(frames)[1], scale, fps, bounce)
    pixels = list(to_uint8(frames))
    if bounce:
        pixels += pixels[-2:0:-1]
    delay = round(1000 / fps)
    kept, durations = [], []
    for frame in pixels:  # PIL merges equal neighbours, adding their delays: cap the sum
        if kept and np.array_equal(frame, kept[-1]):
            durations[-1] = min(durations[-1] + delay, MAX_DELAY_MS)
        else:
            kept.append(frame)
            durations.append(delay)
    images = []
    for frame in kept:
        image = Image.fromarray(frame)
        if scale != 1:
            size = (image.width * scale, image.height * scale)
            image = image.resize(size, Image.Resampling.BICUBIC)
        images.append(Image.fromarray(watermark(np.asarray(image))) if mark else image)
    with atomic.replacing(path, suffix=".gif") as temporary:
        images[0].save(
            temporary, save_all=True, append_images=images[1:], duration=durations, loop=0,
            comment=gif_comment(info).encode(),
        )
    return Path(path)
