"""Turn any accepted upload into an upright RGB image, and encode it for storage."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

_SIXTEEN_BIT = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an upright 8-bit RGB copy of ``image`` (EXIF orientation applied, transparency on white)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in _SIXTEEN_BIT:
        # convert("L") would clip 16-bit values instead of scaling them to 0-255
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P" or image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def encode_jpeg(image: Image.Image, quality: int = 92) -> bytes:
    """Return ``image`` as JPEG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def thumbnail(image: Image.Image, size: int) -> Image.Image:
    """Return a copy that fits in a ``size`` x ``size`` box."""
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    return copy
