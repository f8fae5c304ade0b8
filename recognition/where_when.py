"""Where and when a photo was taken (its EXIF date and GPS position), and a JPEG's GPS removed losslessly."""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

from django.utils import timezone
from PIL import ExifTags, Image, ImageOps

logger = logging.getLogger(__name__)

_DATE_TAGS = (ExifTags.Base.DateTimeOriginal, ExifTags.Base.DateTimeDigitized)
_OFFSET_TAGS = {
    ExifTags.Base.DateTimeOriginal: ExifTags.Base.OffsetTimeOriginal,
    ExifTags.Base.DateTimeDigitized: ExifTags.Base.OffsetTimeDigitized,
}
_EXIF_HEADER = b"Exif\x00\x00"


@dataclass(frozen=True)
class WhereWhen:
    """When a photo was taken (aware) and where (WGS 84 degrees); None for what the photo does not say."""

    taken_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def has_place(self) -> bool:
        """Return True when the photo gave both coordinates."""
        return self.latitude is not None and self.longitude is not None


def openstreetmap_url(latitude: float, longitude: float) -> str:
    """Return the OpenStreetMap page with a marker on the place (zoom 16)."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}#map=16/{latitude:.6f}/{longitude:.6f}"
    )


def read_where_when(file: IO[bytes]) -> WhereWhen:
    """Return the date and place in the image file's EXIF; anything missing, malformed or out of range is None."""
    try:
        file.seek(0)
        with Image.open(file) as image:
            exif = image.getexif()
            return WhereWhen(_taken_at(exif), *_position(exif.get_ifd(ExifTags.IFD.GPSInfo)))
    except Exception as exc:  # a photo's metadata never fails its upload
        logger.info("EXIF of an upload ignored (%s: %s)", type(exc).__name__, exc)
        return WhereWhen()
    finally:
        file.seek(0)


def _taken_at(exif: Image.Exif) -> datetime | None:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    for tag in _DATE_TAGS:
        parsed = _parse_date(details.get(tag), details.get(_OFFSET_TAGS[tag]))
        if parsed is not None:
            return parsed
    return _parse_date(exif.get(ExifTags.Base.DateTime), None)


def _parse_date(value: object, offset: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders
    if naive.year < 1900:
        return None
    taken = None
    if isinstance(offset, str):
        try:
            taken = datetime.strptime(f"{naive:%Y-%m-%d %H:%M:%S}{offset.strip()}", "%Y-%m-%d %H:%M:%S%z")
        except ValueError:
            pass
    try:
        # no offset in the photo: the camera's clock is taken to be in the site's TIME_ZONE
        taken = taken or timezone.make_aware(naive, timezone.get_default_timezone())
        # a date the database or a time zone cannot hold (9999-12-31 at -05:00), or a clock set in the future
        if taken.astimezone(UTC) > timezone.now() + timedelta(days=1):
            return None
    except (OverflowError, ValueError):
        return None
    return taken


def _position(gps: dict[int, object]) -> tuple[float | None, float | None]:
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90)
    longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180)
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None, None  # 0, 0 is what a receiver without a fix writes
    return latitude, longitude


def _degrees(value: object, ref: object, plus: str, minus: str, limit: float) -> float | None:
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str) or ref.strip("\x00 ").upper() not in (plus, minus):
        return None  # without its hemisphere a position may be on the other side of the globe
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(x) and x >= 0 for x in (d, m, s)) or m >= 60 or s >= 60:
        return None
    degrees = d + m / 60 + s / 3600
    if degrees > limit:
        return None
    return round(-degrees if ref.strip("\x00 ").upper() == minus else degrees, 6)


def without_gps(data: bytes) -> bytes:
    """Return the JPEG ``data`` with no GPS position left: the EXIF GPS directory and XMP packets naming a GPS
    position removed, and what follows the first image (an MPO's second frame, trailers) dropped.

    The compressed pixels and the other segments (the colour profile; the EXIF, orientation included, rewritten
    without its GPS directory) are kept, so nothing is re-encoded. Should a position still be readable after
    that (a file laid out in a way the segment walk does not follow), the photo is re-encoded without any
    metadata instead: the position never stays. Data that is not a JPEG is returned unchanged.
    """
    if not data.startswith(b"\xff\xd8"):
        return data
    stripped = _segments_without_gps(data)
    if _has_gps(stripped):
        logger.info("GPS still found after removing its segments: the photo is re-encoded without metadata")
        return _reencoded(data)
    return stripped


def _has_gps(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            xmp = image.info.get("xmp") or b""
            return bool(image.getexif().get_ifd(ExifTags.IFD.GPSInfo)) or b"GPS" in bytes(xmp)
    except Exception:  # unreadable here: re-encoding will say whether it can be read at all
        return True


def _reencoded(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")  # the orientation tag goes with the EXIF
        out = io.BytesIO()
        upright.save(out, format="JPEG", quality=95, icc_profile=image.info.get("icc_profile"))
        return out.getvalue()


def _segments_without_gps(data: bytes) -> bytes:
    kept, pos = [data[:2]], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data up to the end of the image
            end = data.find(b"\xff\xd9", pos)
            kept.append(data[pos : end + 2] if end >= 0 else data[pos:])
            return b"".join(kept)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment, payload = data[pos : pos + 2 + length], data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker == 0xE1 and payload.startswith(_EXIF_HEADER):
            segment = _exif_segment_without_gps(segment, payload)
        elif 0xE1 <= marker <= 0xEF and marker != 0xE2 and b"GPS" in payload:
            segment = b""  # XMP (and its extension packets), IPTC and others that repeat the position
        elif marker == 0xE2 and payload.startswith(b"MPF\x00"):
            segment = b""  # points at the second frame, which is dropped
        kept.append(segment)
    return b"".join(kept) + data[pos:]


def _exif_segment_without_gps(segment: bytes, payload: bytes) -> bytes:
    exif = Image.Exif()
    try:
        exif.load(payload)
        if ExifTags.IFD.GPSInfo not in exif:
            return segment
        del exif[ExifTags.IFD.GPSInfo]
        rewritten = exif.tobytes()
    except Exception as exc:  # unreadable: the position may be in it, so none of it is kept
        logger.info("EXIF removed from a photo: it could not be read to remove only its GPS (%s)", exc)
        return b""
    if len(rewritten) + 2 > 0xFFFF:
        return b""
    return b"\xff\xe1" + (len(rewritten) + 2).to_bytes(2, "big") + rewritten
