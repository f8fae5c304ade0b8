"""Decode photos for the model: upright RGB, JPEGs decoded at about the size the model needs."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps


def open_image(
    source: str | Path | BinaryIO, min_side: int | None = None, max_aspect: float | None = None
) -> Image.Image:
    """Return the photo as upright RGB; a JPEG is decoded at the smallest scale whose sides are all >= ``min_side``.

    JPEG DCT scaling (Pillow's ``draft``) decodes a 12 MP photo at 1/2, 1/4 or 1/8 of its size
    several times faster than a full decode, and the model's resize would throw those pixels away.
    With ``max_aspect`` the long side is centre-cropped to at most that many times the short side.
    """
    image = Image.open(source)
    if min_side and image.format == "JPEG":
        image.draft("RGB", (min_side, min_side))
    image.load()
    upright = ImageOps.exif_transpose(image).convert("RGB")
    return bound_aspect(upright, max_aspect) if max_aspect else upright


def bound_aspect(image: Image.Image, max_aspect: float) -> Image.Image:
    """Return the image with its long side centre-cropped to at most ``max_aspect`` times its short side."""
    width, height = image.size
    short = max(min(width, height), 1)
    long_limit = max(round(short * max_aspect), 1)
    if width > long_limit:
        left = (width - long_limit) // 2
        return image.crop((left, 0, left + long_limit, height))
    if height > long_limit:
        top = (height - long_limit) // 2
        return image.crop((0, top, width, top + long_limit))
    return image
