"""API representations of identifications, their photos and candidates, and the active model."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ml.models import ModelVersion

from .. import certainty as scale
from ..facts import CandidateFacts, candidate_facts
from ..models import Candidate, Identification, IdentificationPhoto
from ..validators import clean_organs, prepare_uploads, validate_feedback


class SpeciesFactsSerializer(serializers.Serializer):
    """A candidate's species facts in the request's language; empty strings (null id) where the model has none."""

    scientific_name = serializers.CharField()
    authorship = serializers.CharField()
    genus = serializers.CharField()
    family = serializers.CharField()
    common_name = serializers.CharField(help_text="in the request's language (Accept-Language), '' when unknown")
    gbif_id = serializers.IntegerField(allow_null=True)
    gbif_url = serializers.CharField(help_text="https://www.gbif.org/species/<id>, '' without a GBIF id")
    wikipedia_url = serializers.CharField(help_text="a Wikipedia search in the request's language")


def reference_photo_urls(facts: CandidateFacts, version: ModelVersion | None, request) -> list[str]:
    """Return the API URLs of the reference photos in ``facts`` (absolute when there is a request)."""
    paths = [
        reverse("api:reference-photo", args=[version.pk, facts.class_index, number])
        for number in facts.reference_numbers
    ]
    return [request.build_absolute_uri(path) if request else path for path in paths]


class ReferenceImageSerializer(serializers.Serializer):
    """A reference photo with its credit; author, license and date are '' where the training data had none."""

    url = serializers.URLField()
    author = serializers.CharField()
    license = serializers.CharField(help_text="a short name: CC BY, CC BY-NC, CC0, ...")
    date = serializers.CharField(help_text="when the photo was taken, as its source gives it")
    source_url = serializers.CharField(help_text="the page the photo comes from")


class CandidateSerializer(serializers.ModelSerializer):
    certainty = serializers.ChoiceField(
        choices=scale.KEYS,
        source="certainty.key",
        read_only=True,
        help_text=f"the calibrated probability in words: very_likely (>= {scale.VERY_LIKELY}), likely "
        f"(>= {scale.LIKELY}), possibly (>= {scale.POSSIBLY}) or unlikely",
    )
    species = serializers.SerializerMethodField()
    reference_photos = serializers.SerializerMethodField()
    reference_images = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields = [
            "rank",
            "label",
            "display_name",
            "probability",
            "certainty",
            "species",
            "reference_photos",
            "reference_images",
        ]

    def facts(self, candidate: Candidate) -> CandidateFacts:
        """Return the candidate's facts, worked out once per candidate and request."""
        known = self.__dict__.setdefault("_facts", {})
        if candidate.pk not in known:
            known[candidate.pk] = candidate_facts(candidate, candidate.identification.model_version, get_language())
        return known[candidate.pk]

    @extend_schema_field(SpeciesFactsSerializer)
    def get_species(self, candidate: Candidate) -> dict[str, Any]:
        return SpeciesFactsSerializer(self.facts(candidate)).data

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_reference_photos(self, candidate: Candidate) -> list[str]:
        """Training photos of the species (JPEG thumbnails) to compare with."""
        version = candidate.identification.model_version
        return reference_photo_urls(self.facts(candidate), version, self.context.get("request"))

    @extend_schema_field(ReferenceImageSerializer(many=True))
    def get_reference_images(self, candidate: Candidate) -> list[dict]:
        """The reference photos (as ``reference_photos``) with their author, licence, date and source."""
        facts = self.facts(candidate)
        urls = reference_photo_urls(facts, candidate.identification.model_version, self.context.get("request"))
        return [
            {
                "url": url,
                "author": photo.author,
                "license": photo.licence,
                "date": photo.date,
                "source_url": photo.source_url,
            }
            for url, photo in zip(urls, facts.reference_photos)
        ]


TAKEN_AT_HELP = "when the photo was taken (its EXIF date), null when the photo does not say"
POSITION_HELP = "WGS 84 degrees from the photo's EXIF GPS; null unless its owner keeps the location of their photos"
MAP_HELP = "the place on OpenStreetMap; null without a kept position"


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    taken_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=TAKEN_AT_HELP)
    latitude = serializers.FloatField(read_only=True, allow_null=True, help_text=POSITION_HELP)
    longitude = serializers.FloatField(read_only=True, allow_null=True, help_text=POSITION_HELP)
    map_url = serializers.URLField(read_only=True, allow_null=True, help_text=MAP_HELP)

    class Meta:
        model = IdentificationPhoto
        fields = [
            "id",
            "organ",
            "width",
            "height",
            "url",
            "thumbnail_url",
            "taken_at",
            "latitude",
            "longitude",
            "map_url",
        ]

    def to_representation(self, instance: IdentificationPhoto) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["map_url"] = data["map_url"] or None
        return data

    def _url(self, photo: IdentificationPhoto, kind: str) -> str:
        path = reverse("api:identification-photo", args=[photo.identification.public_id, photo.pk, kind])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(serializers.URLField())
    def get_url(self, photo: IdentificationPhoto) -> str:
        return self._url(photo, "original")

    @extend_schema_field(serializers.URLField())
    def get_thumbnail_url(self, photo: IdentificationPhoto) -> str:
        return self._url(photo, "thumbnail")


class IdentificationSerializer(serializers.ModelSerializer):
    """An identification as the API returns it: ``outcome`` and ``reason`` once done, calibrated probabilities."""

    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The identification's public id.")
    url = serializers.HyperlinkedIdentityField(
        view_name="api:identification-detail", lookup_field="public_id", lookup_url_kwarg="pk"
    )
    model_version = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    candidates = CandidateSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    confident = serializers.BooleanField(
        source="is_confident", read_only=True, help_text="True when the outcome is 'identified' (kept for old clients)."
    )
    outcome = serializers.ChoiceField(
        choices=["identified", "no_match", ""],
        read_only=True,
        help_text="'identified' (a species the model knows) or 'no_match'; '' until the identification is done.",
    )
    reason = serializers.ChoiceField(
        choices=["not_a_plant", "unknown_species", ""],
        read_only=True,
        help_text="Why there was no match: 'not_a_plant' or 'unknown_species'; '' when identified or not done.",
    )
    feedback = serializers.CharField(read_only=True)
    taken_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="when the earliest of its photos was taken; null when none says"
    )
    latitude = serializers.FloatField(
        source="place.latitude",
        read_only=True,
        allow_null=True,
        help_text=f"of the first photo with one: {POSITION_HELP}",
    )
    longitude = serializers.FloatField(
        source="place.longitude",
        read_only=True,
        allow_null=True,
        help_text=f"of the first photo with one: {POSITION_HELP}",
    )
    map_url = serializers.URLField(source="place.map_url", read_only=True, allow_null=True, help_text=MAP_HELP)

    class Meta:
        model = Identification
        fields = [
            "id",
            "url",
            "status",
            "error",
            "created",
            "started",
            "finished",
            "duration_ms",
            "model_version",
            "outcome",
            "reason",
            "confident",
            "candidates",
            "photos",
            "feedback",
            "feedback_label",
            "feedback_text",
            "feedback_verdict",
            "taken_at",
            "latitude",
            "longitude",
            "map_url",
        ]
        read_only_fields = fields


class IdentificationCreateSerializer(serializers.Serializer):
    """Multipart upload: ``images`` (1-5 files) and optional ``organs`` (one per image, or one for all)."""

    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        min_length=1,
        error_messages={"required": "Choose at least one photo of the plant (the images field)."},
    )
    organs = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, default=list)
    client_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="your UUID for this upload: sending it again (the answer was lost) returns the identification "
        "it started instead of starting another, and is not counted against the upload rate",
    )

    def validate(self, attrs):
        try:
            photos = prepare_uploads(attrs.get("images") or [])
            organs = clean_organs(attrs.get("organs") or [], len(photos))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"images": exc.messages}) from None
        return {"photos": photos, "organs": organs, "client_key": attrs.get("client_key")}


class IdentificationFilterSerializer(serializers.Serializer):
    """The list's query parameters (a NUL character is refused here, before any database sees it)."""

    status = serializers.ChoiceField(
        choices=Identification.Status.choices,
        required=False,
        error_messages={
            "invalid_choice": f"unknown status {{input!r}}: use one of {', '.join(Identification.Status.values)}"
        },
    )
    species = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="part of the best candidate's or the feedback's name: scientific, common (any language), "
        "display or folder name",
        validators=[RegexValidator(r"^[^\x00]*$", "species may not contain NUL characters")],
    )


class FeedbackSerializer(serializers.Serializer[None]):  # validates input only: no instance
    """``label`` (one of ``context["labels"]``), ``species`` (free text) or ``verdict``; optional ``share``."""

    label = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    species = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    verdict = serializers.ChoiceField(
        choices=[v for v in Identification.Verdict.values if v],
        required=False,
        allow_blank=True,
        default="",
        help_text="'none_of_these' (no candidate is right; a typed species may go with it) or 'not_a_plant'",
        error_messages={"invalid_choice": "Unknown answer {input!r}: use none_of_these or not_a_plant."},
    )
    share = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="let confirmed photos improve the model (your consent, off by default); left out = unchanged",
    )

    def validate(self, attrs):
        label, species, verdict = attrs["label"].strip(), attrs["species"].strip(), attrs["verdict"]
        try:
            validate_feedback(label, species, self.context.get("labels", []), verdict)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"label": exc.messages}) from None
        return {"label": label, "species": species, "verdict": verdict, "share": attrs.get("share")}


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "name",
            "architecture",
            "num_classes",
            "class_names",
            "display_names",
            "input_size",
            "metrics",
            "created",
        ]
