"""A user's photo, from a file or an array, as 8-bit RGB pixels the way a photo viewer shows it."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 80_000_000  # 80 MP: beyond any camera photo; a larger header is a decompression bomb


def read_photo(photo):
    """The photo (a path or an array) as uint8 (H, W, 3) RGB.

    Files are turned upright as their EXIF orientation says; greyscale, palette,
    RGBA (alpha dropped) and 16-bit images become 8-bit RGB. A file whose header
    claims more than MAX_PIXELS pixels is refused before its pixels are decoded.

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


def _read_file(path):
    if not path.is_file():
        raise FileNotFoundError(f"no photo file {path}")
    try:
        with Image.open(path) as image:  # reads the header only
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError(f"{image.width}x{image.height} pixels")
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                return _as_rgb8(np.asarray(image), path)
            return np.asarray(image.convert("RGB"))
    except Image.DecompressionBombError as error:  # Pillow's own check fires first above 179 MP
        raise ValueError(f"{path}: {str(error).split(' exceeds')[0]}, over the limit of "
                         f"{MAX_PIXELS // 1_000_000} megapixels (a decompression bomb?); "
                         "downscale it first") from None
    except OSError as error:
        raise ValueError(f"cannot read photo {path}: {error}") from None


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
