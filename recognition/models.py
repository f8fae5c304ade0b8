"""Identifications: the photos of one plant, their status and the ranked answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from .certainty import Certainty, certainty_of, whole_percent
from .where_when import openstreetmap_url


def _photo_path(instance: IdentificationPhoto, filename: str) -> str:
    # An unguessable name: the files are only ever served through an owner-checked view.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"identifications/{uuid.uuid4().hex}.{suffix}"


class Identification(models.Model):
    """One request to name a plant from 1-5 photos, answered asynchronously by a worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Outcome(models.TextChoices):
        IDENTIFIED = "identified", _("Identified")
        NO_MATCH = "no_match", _("No match")

    class Reason(models.TextChoices):
        NONE = "", _("None")
        NOT_A_PLANT = "not_a_plant", _("This does not look like a plant")
        UNKNOWN_SPECIES = "unknown_species", _("Not a species this model knows")

    class Verdict(models.TextChoices):
        """Feedback that names no species: the answer was wrong, and why."""

        NONE = "", _("None")
        NONE_OF_THESE = "none_of_these", _("None of these")
        NOT_A_PLANT = "not_a_plant", _("Not a plant")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identifications")
    # what the pages' URLs carry: random, so that they tell nothing of how many identifications there are
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client_key = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("The key the uploading device gave this upload: the same key again is the same upload."),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    queued = models.DateTimeField(
        null=True, blank=True, help_text=_("When its task was last handed to the broker; empty until that succeeds.")
    )
    worker = models.CharField(max_length=200, blank=True, help_text=_("The worker process running it."))
    started = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveSmallIntegerField(
        default=0,
        help_text=_(
            "Claims by a worker that never reported back (it died while running this); given back ones uncount."
        ),
    )
    finished = models.DateTimeField(null=True, blank=True)
    model_version = models.ForeignKey("ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL)
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Worker time: reading photos and predicting.")
    )
    outcome = models.CharField(
        max_length=12, choices=Outcome.choices, blank=True, help_text=_("Set when done: identified or no match.")
    )
    reason = models.CharField(
        max_length=16, choices=Reason.choices, blank=True, help_text=_("Why there was no match ('' when identified).")
    )
    feedback_label = models.CharField(max_length=200, blank=True, help_text=_("A candidate label the user confirmed."))
    feedback_text = models.CharField(max_length=200, blank=True, help_text=_("The species name the user gave."))
    feedback_verdict = models.CharField(
        max_length=16,
        choices=Verdict.choices,
        blank=True,
        help_text=_("The user said none of the candidates is right, or that it is not a plant."),
    )
    feedback_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            # a phone that sends a waiting batch again (its answer was lost) must not start a second identification
            models.UniqueConstraint(
                fields=["owner", "client_key"],
                condition=models.Q(client_key__isnull=False),
                name="identification_owner_client_key",
            )
        ]

    def __str__(self) -> str:
        return f"identification {self.pk} ({self.status})"

    @property
    def short_id(self) -> str:
        """Return the first 8 hex digits of the public id: what pages name the identification by."""
        return self.public_id.hex[:8]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def wait_seconds(self) -> float | None:
        """Return the seconds from upload to answer, as the user waited them (None until finished)."""
        if self.finished is None:
            return None
        return max((self.finished - self.created).total_seconds(), 0.0)

    @property
    def best(self) -> Candidate | None:
        """Return the top-ranked candidate (uses prefetched candidates when present)."""
        candidates = list(self.candidates.all())
        return candidates[0] if candidates else None

    @property
    def is_confident(self) -> bool:
        """Return True when the model named a species it knows (the outcome is *identified*)."""
        return self.status == self.Status.DONE and self.outcome == self.Outcome.IDENTIFIED

    @property
    def no_match_title(self) -> str:
        """Return how a no-match is filed and listed: 'No match: <reason>', never a species name."""
        titles: dict[str, object] = {
            self.Reason.NOT_A_PLANT: _("No match: not a plant"),
            self.Reason.UNKNOWN_SPECIES: _("No match: not a species this model knows"),
        }
        return str(titles.get(self.reason, _("No match")))

    @property
    def taken_at(self) -> datetime | None:
        """Return when the earliest of its photos was taken (their EXIF date), or None when none says."""
        return min((p.taken_at for p in self.photos.all() if p.taken_at is not None), default=None)

    @property
    def place(self) -> IdentificationPhoto | None:
        """Return the first photo with a kept GPS position (its ``latitude``, ``longitude``, ``map_url``), or None."""
        return next((p for p in self.photos.all() if p.latitude is not None and p.longitude is not None), None)

    @property
    def feedback(self) -> str:
        """Return the species the user named or confirmed, or ''."""
        if self.feedback_text:
            return self.feedback_text
        if self.feedback_label:
            match = next((c for c in self.candidates.all() if c.label == self.feedback_label), None)
            return match.display_name if match else self.feedback_label
        return ""


class IdentificationPhoto(models.Model):
    """One normalised photo (RGB JPEG, upright) and its thumbnail."""

    class Organ(models.TextChoices):
        AUTO = "auto", _("Automatic")
        LEAF = "leaf", _("Leaf")
        FLOWER = "flower", _("Flower")
        FRUIT = "fruit", _("Fruit")
        BARK = "bark", _("Bark")
        WHOLE = "whole", _("Whole plant")

    identification = models.ForeignKey(Identification, on_delete=models.CASCADE, related_name="photos")
    file = models.ImageField(upload_to=_photo_path)
    thumbnail = models.ImageField(upload_to=_photo_path)
    organ = models.CharField(max_length=10, choices=Organ.choices, default=Organ.AUTO)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # from the photo's EXIF; the position only when its owner keeps the location of their photos
    taken_at = models.DateTimeField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # stored as sent, GPS included (the owner kept locations then): what turning the setting off must strip
    location_kept = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"photo {self.pk} of identification {self.identification_id}"

    @property
    def map_url(self) -> str:
        """Return the OpenStreetMap page of where the photo was taken, or '' without a kept position."""
        if self.latitude is None or self.longitude is None:
            return ""
        return openstreetmap_url(self.latitude, self.longitude)


class Candidate(models.Model):
    """One ranked answer of an identification (rank 1 is the best)."""

    identification = models.ForeignKey(Identification, on_delete=models.CASCADE, related_name="candidates")
    rank = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, db_index=True)
    probability = models.FloatField()
    # numbers of the class's reference photos most like the user's photos, best first ([] when unknown)
    similar_references = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["rank"]
        constraints = [models.UniqueConstraint(fields=["identification", "rank"], name="one_candidate_per_rank")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.display_name} ({self.percent_label})"

    @property
    def percent(self) -> int:
        """Return the probability as a whole percentage (never 65.5)."""
        return whole_percent(self.probability)

    @property
    def percent_label(self) -> str:
        """Return the percentage as people read it: '66%', or '<1%' for a best candidate below half a percent."""
        return f"{self.percent}%" if self.percent else "<1%"

    @property
    def certainty(self) -> Certainty:
        """Return how sure the model is of this candidate, in words (recognition.certainty)."""
        return certainty_of(self.probability)


class Preferences(models.Model):
    """One user's choices about their identifications (a missing row means every default)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    share_confirmed_photos = models.BooleanField(
        default=False,
        verbose_name=_("Let confirmed photos improve the model"),
        help_text=_("Photos you confirm or correct may be exported to train the next model version."),
    )
    keep_photo_location = models.BooleanField(
        default=False,
        verbose_name=_("Keep the location of my photos"),
        help_text=_("When off, the GPS position is removed from the photos you upload and is not stored."),
    )

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class ApiToken(AbstractAuthToken):  # type: ignore[misc]  # knox has no type information
    """A named API token of a user; only its hash (and its first 15 characters, to find it) is stored."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key[:8]}…, {self.user})"
