"""The worker side: load an identification's photos, run the active model, store the answer or the failure."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from ml import registry
from plantml.files import CheckpointError

from .models import Candidate, Identification, IdentificationPhoto
from .worker import WORKER_ID

if TYPE_CHECKING:
    from plantml.predictor import Answer  # PyTorch: only in the processes that predict

logger = logging.getLogger(__name__)
# soft: raised in the task; hard: the pool child was killed and the worker reports it
TIME_LIMITS = (SoftTimeLimitExceeded, TimeLimitExceeded)

# Errors worth retrying: the database or the storage may answer again in a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


class PermanentFailure(Exception):
    """An identification that can never succeed as it is; the message is shown to its owner."""


def run_identification(identification_id: int) -> str:
    """Answer one identification; return its final status (or 'gone'). Transient errors propagate."""
    identification = Identification.objects.filter(pk=identification_id).first()
    if identification is None:
        logger.info("identification %s was deleted before it ran", identification_id)
        return "gone"
    if not claim(identification_id):
        # a message delivered twice: finished already, or running in another live worker
        return Identification.objects.filter(pk=identification_id).values_list("status", flat=True).first() or "gone"
    try:
        version, answer, duration_ms = _predict(identification)
    except PermanentFailure as exc:
        mark_failed(identification_id, str(exc))
        return Identification.Status.FAILED
    except TRANSIENT_ERRORS:
        release(identification_id)  # the retry may run in another worker
        raise
    _store_answer(identification_id, version, answer, duration_ms)
    return Identification.Status.DONE


def claim(identification_id: int) -> bool:
    """Mark the identification running in this worker; False when it is finished or another worker has it."""
    mine = Q(status=Identification.Status.PENDING) | Q(status=Identification.Status.RUNNING, worker=WORKER_ID)
    return bool(
        Identification.objects.filter(mine, pk=identification_id).update(
            status=Identification.Status.RUNNING, started=timezone.now(), worker=WORKER_ID
        )
    )


def release(identification_id: int) -> None:
    """Give a running identification back to the queue's care (pending again, swept if its message is lost)."""
    try:
        Identification.objects.filter(
            pk=identification_id, status=Identification.Status.RUNNING, worker=WORKER_ID
        ).update(status=Identification.Status.PENDING, worker="")
    except TRANSIENT_ERRORS:
        logger.warning("identification %s stays running until the sweeper's hard-limit bound", identification_id)


def _predict(identification: Identification):
    # a version asked for when the identification was made (the Pl@ntNet API's project), else the active one
    version = identification.model_version or registry.active_version()
    if version is None:
        raise PermanentFailure(registry.NO_ACTIVE_MODEL)
    try:
        predictor = registry.predictors.get(version)
    except (registry.RegistryError, CheckpointError) as exc:
        raise PermanentFailure(f"the model {version.name} cannot be loaded: {exc}") from exc
    started = time.perf_counter()
    images = [_read_photo(photo, predictor) for photo in identification.photos.all()]
    if not images:
        raise PermanentFailure("this identification has no photos: upload them again")
    (answer,) = predictor.identify_many(
        [images],
        top_k=settings.RECOGNITION_TOP_K,
        tta=settings.RECOGNITION_TTA,
        threshold=settings.RECOGNITION_CONFIDENCE_THRESHOLD,
    )
    return version, answer, round((time.perf_counter() - started) * 1000)


def _read_photo(photo: IdentificationPhoto, predictor) -> Image.Image:
    """Return the stored photo decoded at about the model's size; missing or corrupt is permanent, else transient."""
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


def _store_answer(identification_id: int, version, answer: Answer, duration_ms: int) -> None:
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
            for rank, p in enumerate(answer.candidates, start=1)
        )
        Identification.objects.filter(pk=identification_id).update(
            status=Identification.Status.DONE,
            outcome=answer.outcome,
            reason=answer.reason,
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


def give_up(identification_id: int, exc: BaseException, retries: int) -> None:
    """Mark the identification failed after its task hit the time limit or ran out of retries; never raises."""
    if isinstance(exc, TIME_LIMITS):
        message = "the identification took too long and was stopped: try again, or with fewer photos"
    else:
        message = (
            f"the identification failed after {retries} retries ({exc.__class__.__name__}: {exc}): try again later"
        )
    try:
        mark_failed(identification_id, message)
    except Exception:  # the database may be what is failing; the log keeps the cause
        logger.exception("could not mark identification %s failed", identification_id)
