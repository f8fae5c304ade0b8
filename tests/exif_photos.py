"""Real JPEGs carrying EXIF: a flowers5 photo (or a generated one) with a date, an orientation and a GPS position."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

FLOWERS5 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "flowers5"
# the Eiffel Tower: 48° 51' 29.64" N, 2° 17' 40.20" E
EIFFEL = ((48, 51, 29.64), "N", (2, 17, 40.2), "E")


def base_photo() -> Image.Image:
    """Return the first flowers5 test photo when the data set is there, else a generated pattern."""
    found = sorted(FLOWERS5.glob("test/*/*.jpg"))
    if found:
        return Image.open(found[0]).convert("RGB")
    image = Image.new("RGB", (160, 120), (60, 140, 50))
    for x in range(0, 160, 10):
        image.paste((220, 200, 40), (x, 0, x + 5, 120))
    return image


ZERO_STAND_IN = 9973  # a denominator written in place of 0 (Pillow refuses to write 0), then patched to 0


def _rational(value: float | tuple[int, int]) -> IFDRational:
    if isinstance(value, tuple):
        numerator, denominator = value
        return IFDRational(numerator, denominator or ZERO_STAND_IN)
    return IFDRational(value)


def _zero_denominators(data: bytes, parts: list) -> bytes:
    for numerator, _denominator in (p for p in parts if isinstance(p, tuple) and p[1] == 0):
        for order in ("<", ">"):
            data = data.replace(
                struct.pack(f"{order}2L", numerator, ZERO_STAND_IN), struct.pack(f"{order}2L", numerator, 0)
            )
    return data


def exif_jpeg(
    position: tuple | None = EIFFEL,
    taken: str | None = "2026:05:04 10:11:12",
    offset: str | None = "+02:00",
    orientation: int = 6,
    gps_raw: dict | None = None,
) -> bytes:
    """Return a JPEG with camera EXIF: Make, Orientation, DateTimeOriginal (+ offset) and a GPS IFD.

    ``position`` is (lat d/m/s, ref, lon d/m/s, ref), each d/m/s part a number or a (numerator, denominator)
    pair; ``gps_raw`` replaces the GPS IFD with exactly those tags (for malformed ones).
    """
    image = base_photo()
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "Fieldcam"
    exif[ExifTags.Base.Model] = "FC-1"
    exif[ExifTags.Base.Orientation] = orientation
    details = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        details[ExifTags.Base.DateTimeOriginal] = taken
        if offset is not None:
            details[0x9011] = offset  # OffsetTimeOriginal
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if gps_raw is not None:
        gps.update(
            {
                tag: tuple(_rational(v) for v in value) if isinstance(value, tuple) else value
                for tag, value in gps_raw.items()
            }
        )
    elif position is not None:
        latitude, lat_ref, longitude, lon_ref = position
        gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
        gps[ExifTags.GPS.GPSLatitude] = tuple(_rational(v) for v in latitude)
        gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
        gps[ExifTags.GPS.GPSLongitude] = tuple(_rational(v) for v in longitude)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, exif=exif)
    parts = [v for value in (gps_raw or {}).values() if isinstance(value, tuple) for v in value]
    parts += [v for value in (position or ())[0::2] for v in value] if gps_raw is None and position else []
    return _zero_denominators(buffer.getvalue(), parts)
