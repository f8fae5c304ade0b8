"""What the views, the API and the task do to identifications: create, run, answer, delete."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from ml import registry
from plantml.files import CheckpointError

from .models import Candidate, Identification, IdentificationPhoto
from .validators import PreparedPhoto

logger = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """An identification that can never succeed as it is; the message is shown to its owner."""


def create_identification(owner, photos: Sequence[PreparedPhoto], organs: Sequence[str] = ()) -> Identification:
    """Store the row and its photos in one transaction and queue the task once it commits."""
    from .tasks import identify

    written: list[str] = []
    try:
        with transaction.atomic():
            identification = Identification.objects.create(owner=owner)
            for index, photo in enumerate(photos):
                organ = organs[index] if index < len(organs) and organs[index] else IdentificationPhoto.Organ.AUTO
                row = IdentificationPhoto(
                    identification=identification, organ=organ, width=photo.width, height=photo.height
                )
                row.file.save("photo.jpg", ContentFile(photo.original), save=False)
                written.append(row.file.name)
                row.thumbnail.save("thumb.jpg", ContentFile(photo.thumbnail), save=False)
                written.append(row.thumbnail.name)
                row.save()
            transaction.on_commit(lambda: identify.delay(identification.pk))
    except Exception:
        _delete_files(written)
        raise
    return identification


def delete_identification(identification: Identification) -> None:
    """Delete the identification, its rows and its photo files."""
    names = [name for photo in identification.photos.all() for name in (photo.file.name, photo.thumbnail.name)]
    with transaction.atomic():
        identification.delete()
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: Sequence[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def record_feedback(identification: Identification, label: str = "", text: str = "") -> Identification:
    """Keep the user's answer: a confirmed candidate label or the species they typed."""
    identification.feedback_label = label.strip()
    identification.feedback_text = text.strip()
    identification.feedback_at = timezone.now()
    identification.save(update_fields=["feedback_label", "feedback_text", "feedback_at"])
    return identification


def wikipedia_url(name: str, language_code: str | None) -> str:
    """Return a Wikipedia search URL for ``name`` in the user's language (zh for Chinese, else en)."""
    lang = "zh" if (language_code or "").lower().startswith("zh") else "en"
    return f"https://{lang}.wikipedia.org/w/index.php?{urlencode({'search': name})}"


def run_identification(identification_id: int) -> str:
    """Answer one identification; return its final status (or 'gone'). Transient errors propagate."""
    identification = Identification.objects.filter(pk=identification_id).first()
    if identification is None:
        logger.info("identification %s was deleted before it ran", identification_id)
        return "gone"
    if identification.is_finished:
        return identification.status  # a re-delivered message: never recompute a finished answer
    Identification.objects.filter(pk=identification_id).update(
        status=Identification.Status.RUNNING, started=timezone.now()
    )
    try:
        version, predictions, duration_ms = _predict(identification)
    except PermanentFailure as exc:
        mark_failed(identification_id, str(exc))
        return Identification.Status.FAILED
    _store_answer(identification_id, version, predictions, duration_ms)
    return Identification.Status.DONE


def _predict(identification: Identification):
    version = registry.active_version()
    if version is None:
        raise PermanentFailure(registry.NO_ACTIVE_MODEL)
    try:
        predictor = registry.predictors.get(version)
    except (registry.RegistryError, CheckpointError) as exc:
        raise PermanentFailure(f"the active model {version.name} cannot be loaded: {exc}") from exc
    delay = getattr(settings, "RECOGNITION_TEST_DELAY_BEFORE_PREDICT", 0)  # defined only by test settings
    if delay:
        time.sleep(delay)
    started = time.perf_counter()
    images = [_read_photo(photo, predictor) for photo in identification.photos.all()]
    if not images:
        raise PermanentFailure("this identification has no photos: upload them again")
    predictions = predictor.predict(images, top_k=settings.RECOGNITION_TOP_K, tta=settings.RECOGNITION_TTA)
    return version, predictions, round((time.perf_counter() - started) * 1000)


def _read_photo(photo: IdentificationPhoto, predictor) -> Image.Image:
    """Return the stored photo decoded at about the model's size; a missing or corrupt file is permanent, other OSErrors transient."""
    try:
        with photo.file.open("rb") as handle:
            return predictor.open_image(handle)
    except FileNotFoundError as exc:
        raise PermanentFailure(f"photo {photo.pk} is missing from storage: upload the photos again") from exc
    except (UnidentifiedImageError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PermanentFailure(f"photo {photo.pk} is corrupt in storage ({exc}): upload the photos again") from exc
    except OSError as exc:
        if exc.errno is None:  # Pillow's decoding errors carry no errno; a failing disk or mount does
            raise PermanentFailure(f"photo {photo.pk} is corrupt in storage ({exc}): upload the photos again") from exc
        raise


def _store_answer(identification_id: int, version, predictions, duration_ms: int) -> None:
    with transaction.atomic():
        if not Identification.objects.select_for_update().filter(pk=identification_id).exists():
            return  # deleted by its owner while the model was running
        Candidate.objects.filter(identification_id=identification_id).delete()
        Candidate.objects.bulk_create(
            Candidate(
                identification_id=identification_id,
                rank=rank,
                label=p.label,
                display_name=p.display_name,
                probability=p.probability,
            )
            for rank, p in enumerate(predictions, start=1)
        )
        Identification.objects.filter(pk=identification_id).update(
            status=Identification.Status.DONE,
            error="",
            finished=timezone.now(),
            model_version=version,
            duration_ms=duration_ms,
        )


def mark_failed(identification_id: int, message: str) -> None:
    """Mark the identification failed with a message its owner can act on."""
    logger.warning("identification %s failed: %s", identification_id, message)
    Identification.objects.filter(pk=identification_id).exclude(status=Identification.Status.DONE).update(
        status=Identification.Status.FAILED, error=message, finished=timezone.now()
    )
