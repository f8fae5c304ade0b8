"""The OpenAPI description of the Pl@ntNet-compatible /v2/ views (so that /api/schema/ covers them too)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from ..validators import PLANTNET_ORGANS
from .plantnet_query import LANGUAGES

ERROR = OpenApiResponse(
    inline_serializer(
        "PlantNetError",
        {
            "statusCode": serializers.IntegerField(),
            "error": serializers.CharField(),
            "message": serializers.CharField(),
        },
    ),
    description="Pl@ntNet's error shape: its message says what to change",
)
# Field names with hyphens, as Pl@ntNet spells its query parameters.
QUERY = inline_serializer(
    "PlantNetIdentifyQuery",
    {
        "nb-results": serializers.IntegerField(min_value=1, required=False, help_text="at most this many results"),
        "lang": serializers.ChoiceField(choices=list(LANGUAGES), required=False, help_text="language of the names"),
        "no-reject": serializers.BooleanField(required=False, help_text="answer even when it is not a plant"),
        "include-related-images": serializers.BooleanField(required=False, help_text="reference photos per result"),
    },
)
REQUEST = inline_serializer(
    "PlantNetIdentifyRequest",
    {
        "images": serializers.ListField(child=serializers.FileField(), help_text="1-5 photos of one plant"),
        "organs": serializers.ListField(
            child=serializers.ChoiceField(choices=list(PLANTNET_ORGANS)),
            required=False,
            help_text="one per image, in order (none: auto)",
        ),
    },
)
PROJECTS_LIST = inline_serializer(
    "PlantNetProject",
    {
        "id": serializers.CharField(),
        "title": serializers.CharField(),
        "description": serializers.CharField(),
        "speciesCount": serializers.IntegerField(),
    },
    many=True,
)

identify_schema = extend_schema(
    operation_id="plantnet_identify",
    summary="Pl@ntNet's identify request, answered with Pl@ntNet's JSON (waits for the worker)",
    parameters=[QUERY],
    request={"multipart/form-data": REQUEST},
    responses={200: OpenApiTypes.OBJECT, **{code: ERROR for code in (400, 401, 404, 413, 415, 429, 503, 504)}},
    tags=["Pl@ntNet"],
)
projects_schema = extend_schema(
    operation_id="plantnet_projects",
    summary="The projects (model versions) an identify request may name; all is the active model",
    responses={200: PROJECTS_LIST, 401: ERROR},
    tags=["Pl@ntNet"],
)
