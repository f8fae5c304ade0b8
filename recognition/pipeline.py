"""The worker side: claim an identification and a batch of others waiting, run the model once over all of their
photos, and store each answer or failure on its own."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from ml import reference_photos, runtime, versions
from plantml.files import CheckpointError

from .holders import claimant, held_by_a_dead_sibling
from .models import Candidate, Identification, IdentificationPhoto

if TYPE_CHECKING:
    from ml.models import ModelVersion
    from plantml.predictor import Answer  # PyTorch: only in the processes that predict

logger = logging.getLogger(__name__)
SIMILAR_SHOWN = 3  # reference photos per candidate ranked by likeness to the user's photos
# soft: raised in the task; hard: the pool child was killed and the worker reports it
TIME_LIMITS = (SoftTimeLimitExceeded, TimeLimitExceeded)

# Errors worth retrying: the database or the storage may answer again in a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


class PermanentFailure(Exception):
    """An identification that can never succeed as it is; the message is shown to its owner."""


def run_identification(identification_id: int) -> str:
    """Answer one identification, and others waiting in the same forward pass; return its final status (or 'gone').

    Each identification of the batch ends on its own: answered, failed with its own message, or (a transient error
    reading its photos) back to pending. A transient error of this one propagates for the task to retry it.
    """
    if not claim(identification_id):
        # a message delivered twice, or one whose identification another batch took (finished, or running
        # elsewhere), or deleted: the common case under load, so nothing is read before the claim
        return Identification.objects.filter(pk=identification_id).values_list("status", flat=True).first() or "gone"
    others: list[int] = []
    try:
        identification = Identification.objects.filter(pk=identification_id).select_related("model_version").first()
        if identification is None:
            logger.info("identification %s was deleted before it ran", identification_id)
            return "gone"
        version, predictor = _model_for(identification)
        if identification.deliveries <= 1:  # a redelivery after its worker died runs alone
            others = claim_batch(identification, version)
        outcomes = _answer([identification_id, *others], version, predictor)
    except PermanentFailure as exc:  # the model cannot be loaded: nothing else was claimed
        mark_failed(identification_id, str(exc))
        return Identification.Status.FAILED
    except BaseException as exc:
        # a time limit (the task marks this one failed), a transient error or a bug: the others run on their own
        release(others, requeue=True)
        if isinstance(exc, TRANSIENT_ERRORS):
            release([identification_id])  # the retry may run in another worker
        raise
    retry = [pk for pk in others if isinstance(outcomes[pk], BaseException)]
    release(retry, requeue=True)
    own = outcomes[identification_id]
    if isinstance(own, BaseException):
        release([identification_id])
        raise own
    return own


def claim(identification_id: int) -> bool:
    """Mark the identification running in this process; False when it is finished or another process has it.

    Each claim counts a delivery; one whose worker died RECOGNITION_MAX_DELIVERIES times (a photo that kills
    workers) is failed with a message instead of being run again.
    """
    me = claimant()
    mine = Q(status=Identification.Status.PENDING) | Q(status=Identification.Status.RUNNING, worker=me)
    if _take(Identification.objects.filter(mine, pk=identification_id), me):
        return True
    # redelivered after the pool process of this worker that held it died (killed, or over the hard time limit),
    # or one at its delivery limit
    row = Identification.objects.filter(pk=identification_id).values_list("status", "worker").first()
    if row is None:
        return False
    status, holder = row
    if status == Identification.Status.RUNNING and holder != me and not held_by_a_dead_sibling(holder):
        return False
    if status not in (Identification.Status.PENDING, Identification.Status.RUNNING):
        return False
    held = Identification.objects.filter(pk=identification_id, status=status, worker=holder)
    if status == Identification.Status.RUNNING and _take(held, me):
        return True
    fail_exhausted(held)
    return False


def fail_exhausted(rows: QuerySet[Identification]) -> int:
    """Fail those of ``rows`` whose workers died RECOGNITION_MAX_DELIVERIES times running them; return how many."""
    limit = settings.RECOGNITION_MAX_DELIVERIES
    failed = rows.filter(deliveries__gte=limit).update(
        status=Identification.Status.FAILED, error=too_many_deliveries(limit), worker="", finished=timezone.now()
    )
    if failed:
        logger.warning("%d identification(s) failed: their worker stopped %d times while running them", failed, limit)
    return failed


def too_many_deliveries(limit: int) -> str:
    """Return the message an identification that stopped its worker ``limit`` times is failed with."""
    return (
        f"the worker stopped {limit} times while running this identification, so it is not run again: "
        "send other photos of the plant (ordinary photos, not very long or very large images)"
    )


def claim_batch(identification: Identification, version) -> list[int]:
    """Claim the oldest pending identifications for the same model that fit beside this one in a batch.

    A batch holds at most RECOGNITION_BATCH_PHOTOS photos; while it has room, more are looked for during
    RECOGNITION_BATCH_WAIT_MS. Returns the primary keys claimed, oldest first.
    """
    room = settings.RECOGNITION_BATCH_PHOTOS - identification.photos.count()
    deadline = time.monotonic() + settings.RECOGNITION_BATCH_WAIT_MS / 1000
    claimed: list[int] = []
    while room > 0:
        more, photos = _claim_waiting(version, room)
        claimed += more
        room -= photos
        left = deadline - time.monotonic()
        if room <= 0 or left <= 0:
            break
        time.sleep(min(left, 0.005))
    return claimed


def _claim_waiting(version, room: int) -> tuple[list[int], int]:
    """Claim pending identifications of ``version`` holding at most ``room`` photos; return them and their photos."""
    same_model = Q(model_version=version)
    if version.is_active:
        same_model |= Q(model_version__isnull=True)  # these run on the active version
    waiting = (
        # one whose worker died before runs alone: a photo that kills workers takes no one else with it
        Identification.objects.filter(same_model, status=Identification.Status.PENDING, deliveries=0)
        .annotate(photo_count=Count("photos"))
        .filter(photo_count__gt=0, photo_count__lte=room)
        .order_by("created", "pk")
        .values_list("pk", "photo_count")[:room]
    )
    picked, photos = [], {}
    for pk, count in waiting:
        if count <= room - sum(photos.values()):
            picked.append(pk)
            photos[pk] = count
    if not picked:
        return [], 0
    me = claimant()
    _take(Identification.objects.filter(pk__in=picked, status=Identification.Status.PENDING), me)
    mine = set(
        Identification.objects.filter(pk__in=picked, status=Identification.Status.RUNNING, worker=me).values_list(
            "pk", flat=True
        )
    )
    claimed = [pk for pk in picked if pk in mine]
    return claimed, sum(photos[pk] for pk in claimed)


def _take(rows, me: str) -> int:
    return rows.filter(deliveries__lt=settings.RECOGNITION_MAX_DELIVERIES).update(
        status=Identification.Status.RUNNING, started=timezone.now(), worker=me, deliveries=F("deliveries") + 1
    )


def release(identification_ids: list[int], requeue: bool = False) -> None:
    """Give running identifications of this process back (pending again); ``requeue`` lets the sweeper queue them."""
    if not identification_ids:
        return
    # given back, not lost with its worker: this claim does not count as a delivery
    back = {"status": Identification.Status.PENDING, "worker": "", "deliveries": Greatest(F("deliveries") - 1, 0)}
    if requeue:  # their own messages may be gone already (dropped while this batch held them)
        back["queued"] = None
    try:
        Identification.objects.filter(
            pk__in=identification_ids, status=Identification.Status.RUNNING, worker=claimant()
        ).update(**back)
    except TRANSIENT_ERRORS:
        logger.warning("identifications %s stay running until the sweeper's hard-limit bound", identification_ids)


def _model_for(identification: Identification):
    """Return the version to run (the one asked for at creation, else the active one) and its predictor."""
    version = identification.model_version or versions.active_version()
    if version is None:
        raise PermanentFailure(versions.NO_ACTIVE_MODEL)
    try:
        return version, runtime.predictors.get(version)
    except (SoftTimeLimitExceeded, TimeLimitExceeded):
        raise
    except Exception as exc:
        serving = runtime.predictors.loaded() if identification.model_version is None else None
        if serving is not None:  # a newly activated version that fails to load leaves the old one serving
            logger.warning("model %s cannot be loaded (%s); model %s answers", version.name, exc, serving[0].name)
            return serving
        if isinstance(exc, versions.RegistryError | CheckpointError):
            raise PermanentFailure(f"the model {version.name} cannot be loaded: {exc}") from exc
        raise


def _answer(identification_ids: list[int], version, predictor) -> dict[int, str | BaseException]:
    """Read each identification's photos, run one forward pass over all of them and store each answer.

    Returns, per identification, its status ('done', 'failed', 'gone') or the transient error that
    kept its photos from being read (it is left running for the caller to release).
    """
    started = time.perf_counter()
    outcomes: dict[int, str | BaseException] = dict.fromkeys(identification_ids, "gone")
    photos: dict[int, list[IdentificationPhoto]] = {}
    for photo in IdentificationPhoto.objects.filter(identification_id__in=identification_ids):
        photos.setdefault(photo.identification_id, []).append(photo)
    present = set(Identification.objects.filter(pk__in=identification_ids).values_list("pk", flat=True))
    ready: list[tuple[int, list[Image.Image]]] = []
    for pk in identification_ids:
        if pk not in present:
            continue  # deleted by its owner since it was claimed
        try:
            images = [_read_photo(photo, predictor) for photo in photos.get(pk, [])]
            if not images:
                raise PermanentFailure("this identification has no photos: upload them again")
        except PermanentFailure as exc:
            mark_failed(pk, str(exc))
            outcomes[pk] = Identification.Status.FAILED
            continue
        except TRANSIENT_ERRORS as exc:
            logger.warning("identification %s: its photos could not be read now (%s)", pk, exc)
            outcomes[pk] = exc
            continue
        ready.append((pk, images))
    if not ready:
        return outcomes
    answers = identify_plants(predictor, [images for _, images in ready])
    duration_ms = round((time.perf_counter() - started) * 1000)
    logger.info(
        "one forward pass answered %d identification(s), %d photo(s), in %d ms",
        len(ready),
        sum(len(images) for _, images in ready),
        duration_ms,
    )
    for (pk, _), answer in zip(ready, answers, strict=True):
        _store_answer(pk, version, answer, duration_ms)
        outcomes[pk] = Identification.Status.DONE
    return outcomes


def identify_plants(predictor, plants: list[list[Image.Image]]) -> list[Answer]:
    """Run the model once over every plant's photos; return one Answer (candidates and outcome) per plant."""
    return predictor.identify_many(
        plants,
        top_k=settings.RECOGNITION_TOP_K,
        tta=settings.RECOGNITION_TTA,
        threshold=settings.RECOGNITION_CONFIDENCE_THRESHOLD,
    )


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


def similar_references(version: ModelVersion, answer: Answer, count: int = SIMILAR_SHOWN) -> list[list[int]]:
    """Return, per candidate, the numbers of its class's ``count`` reference photos most like the plant's photos
    (cosine of pooled features, best first); [] for each when the model stored no reference features."""
    query = answer.features
    features = reference_photos.reference_features(version) if query is not None else None
    if query is None or features is None:
        return [[] for _ in answer.candidates]
    index = {name: i for i, name in enumerate(version.class_names)}
    return [features.nearest(query, index[p.label], count) if p.label in index else [] for p in answer.candidates]


def _store_answer(identification_id: int, version: ModelVersion, answer: Answer, duration_ms: int) -> None:
    similar = similar_references(version, answer)
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
                similar_references=numbers,
            )
            for rank, (p, numbers) in enumerate(zip(answer.candidates, similar), start=1)
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
