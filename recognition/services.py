"""The web side: what pages and API do to identifications (create and queue, delete, record feedback)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from .models import Identification, IdentificationPhoto, Preferences
from .queueing import enqueue
from .validators import PreparedPhoto
from .where_when import without_gps

logger = logging.getLogger(__name__)


def create_identification(
    owner, photos: Sequence[PreparedPhoto], organs: Sequence[str] = (), model_version=None, client_key=None
) -> Identification:
    """Store the row and its photos in one transaction, then queue it (or leave it to the sweeper: never lost).

    ``model_version`` asks for that registered model; without it the worker uses the active one. A database
    connection lost before the commit (a restarted or failed-over database) is retried once on a new one.
    ``client_key`` (the device's UUID for this upload) already used by ``owner`` returns that identification.
    """
    try:
        return _store_identification(owner, photos, organs, model_version, client_key)
    except IntegrityError:
        # the same upload sent twice at once: the other request stored it first
        existing = Identification.objects.filter(owner=owner, client_key=client_key).first() if client_key else None
        if existing is None:
            raise
        return existing
    except _LostBeforeCommit as lost:
        if connection.in_atomic_block or connection.vendor == "sqlite":
            # the caller's transaction went with the connection; or SQLite, whose connections never drop: its
            # error is "database is locked" after a 20 s busy timeout, and a second wait would outlast gunicorn's
            raise lost.__cause__ from None
        logger.warning("database connection lost while storing an upload (%s); storing it again", lost.__cause__)
        connection.close()
        try:
            return _store_identification(owner, photos, organs, model_version, client_key)
        except _LostBeforeCommit as again:
            raise again.__cause__ from None


class _LostBeforeCommit(Exception):
    """The transaction failed on a database error before its commit: nothing of it was stored."""


def _store_identification(owner, photos, organs, model_version, client_key=None) -> Identification:
    written: list[str] = []
    identification = None
    committing = False
    try:
        with transaction.atomic():
            # read under the preference row's lock: turning the setting off waits for this upload, then strips it
            keep_location = (
                Preferences.objects.select_for_update().filter(user=owner, keep_photo_location=True).exists()
            )
            identification = Identification.objects.create(
                owner=owner, model_version=model_version, client_key=client_key
            )
            for index, photo in enumerate(photos):
                organ = organs[index] if index < len(organs) and organs[index] else IdentificationPhoto.Organ.AUTO
                place = photo.where_when if keep_location else None
                row = IdentificationPhoto(
                    identification=identification,
                    organ=organ,
                    width=photo.width,
                    height=photo.height,
                    taken_at=photo.where_when.taken_at,
                    latitude=place.latitude if place else None,
                    longitude=place.longitude if place else None,
                    location_kept=keep_location,
                )
                original = photo.original if keep_location else without_gps(photo.original)
                row.file.save("photo.jpg", ContentFile(original), save=False)
                written.append(row.file.name)
                row.thumbnail.save("thumb.jpg", ContentFile(photo.thumbnail), save=False)
                written.append(row.thumbnail.name)
                row.save()
            # robust: a failed enqueue (the database gone just after the commit) is the sweeper's to redo
            transaction.on_commit(lambda: enqueue(identification.pk), robust=True)
            committing = True  # a failure from here on may have committed: it is not retried
    except (OperationalError, InterfaceError) as exc:
        if not committing:
            _delete_files(written)
            raise _LostBeforeCommit() from exc
        stored = _committed(identification)
        if stored:
            logger.warning("the commit reported %s but the upload was stored: keeping it", exc)
            return identification
        if stored is False:
            _delete_files(written)
        raise  # when it cannot be told, the files stay: a stored row without its photos could never run
    except Exception:
        _delete_files(written)
        raise
    return identification


def _committed(identification: Identification) -> bool | None:
    """Return whether the row was stored after all (asked on a new connection); None when that cannot be told."""
    if connection.in_atomic_block:
        return None
    connection.close()
    try:
        return Identification.objects.filter(pk=identification.pk).exists()
    except (OperationalError, InterfaceError):
        return None


def delete_identification(identification: Identification) -> None:
    """Delete the identification and its rows; recognition.signals removes the photo files on commit."""
    with transaction.atomic():
        identification.delete()


def _delete_files(names: Sequence[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def record_feedback(
    identification: Identification, label: str = "", text: str = "", verdict: str = ""
) -> Identification:
    """Keep the user's answer: a confirmed candidate label, the species they typed, or a verdict (none of these,
    not a plant); each answer replaces the one before."""
    identification.feedback_label = label.strip()
    identification.feedback_text = text.strip()
    identification.feedback_verdict = verdict
    identification.feedback_at = timezone.now()
    identification.save(update_fields=["feedback_label", "feedback_text", "feedback_verdict", "feedback_at"])
    return identification


def set_keep_photo_location(user: Any, keep: bool) -> Preferences:
    """Record whether the GPS position of the user's photos is kept; turning it off removes the kept ones."""
    with transaction.atomic():
        preferences, _ = Preferences.objects.select_for_update().get_or_create(user=user)
        preferences.keep_photo_location = keep
        preferences.save(update_fields=["keep_photo_location"])
    if not keep:
        # every photo stored as sent, whether or not its position could be read (it may still be in the file)
        for photo in IdentificationPhoto.objects.filter(identification__owner=user, location_kept=True):
            _forget_location(photo)
    return preferences


def _forget_location(photo: IdentificationPhoto) -> None:
    """Strip the GPS from a photo stored as sent and clear its position; a file that cannot be rewritten is
    logged and left marked, so that the next pass tries again (its position is cleared from the database)."""
    IdentificationPhoto.objects.filter(pk=photo.pk).update(latitude=None, longitude=None)
    old = photo.file.name or ""
    try:
        with photo.file.open("rb") as handle:
            data = handle.read()
        stripped = without_gps(data)
        if stripped != data:
            # the stripped copy is written first: a failed write leaves the original, never no photo
            new = default_storage.save(old, ContentFile(stripped))
            IdentificationPhoto.objects.filter(pk=photo.pk).update(file=new, location_kept=False)
            default_storage.delete(old)
        else:
            IdentificationPhoto.objects.filter(pk=photo.pk).update(location_kept=False)
    except FileNotFoundError:
        IdentificationPhoto.objects.filter(pk=photo.pk).update(location_kept=False)
    except OSError as exc:
        logger.error("could not strip the location from photo %s (%s): it is tried again next time", old, exc)


def set_share_confirmed_photos(user, share: bool) -> Preferences:
    """Record whether the user lets their confirmed or corrected photos train the model."""
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults={"share_confirmed_photos": share})
    return preferences
