"""The rules forms and serializers share: uploads checked on their real content, organs, feedback."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from .models import Identification, IdentificationPhoto
from .photos import encode_jpeg, thumbnail, to_rgb
from .where_when import WhereWhen, read_where_when

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
# Stored as the user sent them when RGB or greyscale (phones' JPEGs, MPO included); the rest as an upright JPEG.
KEPT_AS_UPLOADED = {"JPEG", "MPO"}


@dataclass(frozen=True)
class PreparedPhoto:
    """A validated upload, normalised and encoded, ready to store."""

    original: bytes
    thumbnail: bytes
    width: int
    height: int
    where_when: WhereWhen = WhereWhen()


def validate_count(files: list) -> None:
    """Raise ValidationError unless there are 1 to RECOGNITION_MAX_FILES files."""
    if not files:
        raise ValidationError(_("Choose at least one photo of the plant."), code="no_files")
    limit = settings.RECOGNITION_MAX_FILES
    if len(files) > limit:
        raise ValidationError(
            _("You sent %(count)d photos; send at most %(limit)d photos of one plant.")
            % {"count": len(files), "limit": limit},
            code="too_many_files",
        )


@dataclass(frozen=True)
class OpenedUpload:
    """A decoded upload: upright RGB pixels (JPEGs possibly at a reduced scale), its upright size, and
    whether its bytes can be stored as they are (an RGB or greyscale JPEG)."""

    image: Image.Image
    size: tuple[int, int]
    keep_bytes: bool


def open_upload(upload: UploadedFile, draft_to: int | None = None) -> OpenedUpload:
    """Decode the upload upright (a JPEG at the smallest scale >= ``draft_to`` px), or raise ValidationError why not."""
    name = upload.name or _("photo")
    if not upload.size:
        raise ValidationError(_("%(name)s is empty: choose the photo again.") % {"name": name}, code="empty")
    if upload.size > settings.RECOGNITION_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("%(name)s is %(size)s; the limit is %(limit)s per photo: send a smaller photo.")
            % {
                "name": name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.RECOGNITION_MAX_UPLOAD_BYTES),
            },
            code="too_large",
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            _check_pixels(image, name)
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(
                    _("%(name)s is a %(format)s image; send a JPEG, PNG, WebP or GIF photo.")
                    % {"name": name, "format": image.format},
                    code="format",
                )
            size = _upright_size(image)
            keep_bytes = image.format in KEPT_AS_UPLOADED and image.mode in ("RGB", "L")
            if draft_to and keep_bytes:
                # DCT scaling: a 12 MP photo decodes at 1/8 in a fraction of the full decode's time
                image.draft("RGB", (draft_to, draft_to))
            image.load()  # decodes everything: a truncated file fails here, not later in the worker
            return OpenedUpload(to_rgb(image), size, keep_bytes)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name) from None
    except UnidentifiedImageError:
        raise ValidationError(
            _("%(name)s is not an image Pillow can read; send a JPEG, PNG, WebP or GIF photo.") % {"name": name},
            code="not_an_image",
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            _("%(name)s is damaged or incomplete (%(reason)s); upload the photo again.")
            % {"name": name, "reason": exc},
            code="truncated",
        ) from None
    finally:
        upload.seek(0)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    # EXIF orientations 5-8 turn the stored pixels by 90 degrees
    rotated = image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
    return (image.height, image.width) if rotated else (image.width, image.height)


def _check_pixels(image: Image.Image, name: str) -> None:
    if image.width * image.height > settings.RECOGNITION_MAX_PIXELS:
        raise _too_many_pixels(name)
    limit = settings.RECOGNITION_MAX_ASPECT_RATIO
    if max(image.size) > limit * max(min(image.size), 1):
        raise ValidationError(
            _(
                "%(name)s is %(width)d x %(height)d pixels, longer than %(limit)g times its width or height; "
                "send a photo no narrower than 1:%(limit)g (crop it closer to the plant)."
            )
            % {"name": name, "width": image.width, "height": image.height, "limit": limit},
            code="aspect_ratio",
        )


def _too_many_pixels(name: str) -> ValidationError:
    limit = settings.RECOGNITION_MAX_PIXELS / 1e6
    return ValidationError(
        _("%(name)s has too many pixels (limit %(limit).0f megapixels); send a smaller photo.")
        % {"name": name, "limit": limit},
        code="too_many_pixels",
    )


def prepare_photo(upload: UploadedFile) -> PreparedPhoto:
    """Validate one upload: a JPEG is kept byte for byte (decoded only at thumbnail scale), others become JPEG."""
    box = settings.RECOGNITION_THUMBNAIL_PX
    opened = open_upload(upload, draft_to=box)
    if opened.keep_bytes:
        upload.seek(0)
        original = upload.read()
    else:
        original = encode_jpeg(opened.image)
    width, height = opened.size
    thumb = encode_jpeg(thumbnail(opened.image, box), quality=85)
    return PreparedPhoto(original, thumb, width, height, read_where_when(upload))


def prepare_uploads(files: list[UploadedFile]) -> list[PreparedPhoto]:
    """Validate every upload (all or none) and return them normalised and encoded."""
    validate_count(files)
    errors, prepared = [], []
    for upload in files:
        try:
            prepared.append(prepare_photo(upload))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return prepared


def clean_organs(organs: list[str], count: int) -> list[str]:
    """Return one organ per photo: a single value applies to all, missing ones are 'auto'."""
    allowed = set(IdentificationPhoto.Organ.values)
    organs = [organ or IdentificationPhoto.Organ.AUTO for organ in organs]
    unknown = sorted(set(organs) - allowed)
    if unknown:
        raise ValidationError(
            _("Unknown organ %(organ)s: choose one of %(choices)s.")
            % {"organ": ", ".join(unknown), "choices": ", ".join(sorted(allowed))}
        )
    if len(organs) > count:
        raise ValidationError(
            _("You gave %(organs)d organs for %(count)d photos: give one per photo.")
            % {"organs": len(organs), "count": count}
        )
    if len(organs) == 1:
        return organs * count
    return organs + [IdentificationPhoto.Organ.AUTO] * (count - len(organs))


def validate_feedback(label: str, species: str, labels: list[str], verdict: str = "") -> None:
    """Raise ValidationError unless the answer is one of: a ``label`` of ``labels``, a typed ``species``, or a
    ``verdict`` (none of these, with or without a typed species; not a plant, alone)."""
    Verdict = Identification.Verdict
    if verdict and verdict not in Verdict.values:
        raise ValidationError(
            _("Unknown answer %(verdict)s: use %(choices)s.")
            % {"verdict": verdict, "choices": ", ".join(v for v in Verdict.values if v)}
        )
    if label and label not in labels:
        raise ValidationError(_("%(label)s is not one of this result's candidates.") % {"label": label})
    if label and verdict:
        raise ValidationError(_("Confirm a candidate or say none of them is right, not both."))
    if verdict == Verdict.NOT_A_PLANT and species:
        raise ValidationError(_("You said it is not a plant: leave the species empty, or choose another answer."))
    if not label and not species and not verdict:
        raise ValidationError(
            _("Confirm one of the candidates, type the correct species, or say none of them is right.")
        )


# Pl@ntNet's organ names and the organ each one is stored as; habit is the whole plant,
# and "other" carries no organ the model could use, so it is stored as automatic.
PLANTNET_ORGANS = {
    "auto": IdentificationPhoto.Organ.AUTO,
    "leaf": IdentificationPhoto.Organ.LEAF,
    "flower": IdentificationPhoto.Organ.FLOWER,
    "fruit": IdentificationPhoto.Organ.FRUIT,
    "bark": IdentificationPhoto.Organ.BARK,
    "habit": IdentificationPhoto.Organ.WHOLE,
    "other": IdentificationPhoto.Organ.AUTO,
}
SECONDARY_PLANTNET_ORGANS = {"habit", "other"}


def clean_plantnet_organs(organs: list[str], count: int) -> list[str]:
    """Return the stored organ of each photo from Pl@ntNet ``organs`` (none: all auto; else one per photo, in order)."""
    organs = [organ.strip().lower() for organ in organs]
    if not organs:
        return [IdentificationPhoto.Organ.AUTO] * count
    unknown = sorted(set(organs) - set(PLANTNET_ORGANS))
    if unknown:
        raise ValidationError(
            _("Unknown organ %(organ)s: use one of %(choices)s.")
            % {"organ": ", ".join(unknown), "choices": ", ".join(PLANTNET_ORGANS)}
        )
    if len(organs) != count:
        raise ValidationError(
            _("You sent %(organs)d organs for %(count)d images: send one organ per image, in the same order.")
            % {"organs": len(organs), "count": count}
        )
    if set(organs) <= SECONDARY_PLANTNET_ORGANS:
        raise ValidationError(
            _("habit and other only go beside a photo of a leaf, flower, fruit or bark (or auto): add one.")
        )
    return [PLANTNET_ORGANS[organ] for organ in organs]
