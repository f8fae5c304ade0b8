"""REST API: identifications (own only), feedback and the active model."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from ml import versions

from .. import services
from ..client_keys import already_uploaded, parse_client_key
from ..history_export import history_download
from ..models import Identification
from ..responses import photo_response, reference_photo_response
from ..selectors import own_identifications, search_species
from ..throttles import UploadRateThrottle
from .plantnet_auth import ApiKeyAuthentication
from .serializers import (
    FeedbackSerializer,
    IdentificationCreateSerializer,
    IdentificationFilterSerializer,
    IdentificationSerializer,
    ModelVersionSerializer,
    PhotoSerializer,
)
from .signed_urls import SignedUrlAuthentication

MESSAGE = inline_serializer("Message", {"message": serializers.CharField()})


class NoActiveModel(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "no_active_model"
    default_detail = versions.NO_ACTIVE_MODEL


class OldAddress(Exception):
    """An identification asked for by its old numeric id: the caller is sent to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class ModelUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "model_unavailable"


@method_decorator(login_not_required, name="dispatch")
class IdentificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Your identifications: start one with photos, read, filter, delete, give feedback."""

    serializer_class = IdentificationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "pk"
    # the public UUID; a number is an address from before public ids, sent on to the UUID for its owner
    lookup_value_regex = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9]{1,18}"
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Identification.objects.none()
        queryset = own_identifications(self.request.user).select_related("model_version").prefetch_related("photos")
        if self.action not in ("list", "export"):
            return queryset
        filters = IdentificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if filters.validated_data.get("status"):
            queryset = queryset.filter(status=filters.validated_data["status"])
        return search_species(queryset, filters.validated_data.get("species", "").strip())

    def get_object(self) -> Identification:
        """Return the caller's identification by public id; raise ``OldAddress`` for their old numeric address."""
        key = self.kwargs[self.lookup_url_kwarg]
        if key.isdigit() and len(key) <= 18:  # 32 digits are a UUID without hyphens, and too big for an id
            old = get_object_or_404(own_identifications(self.request.user).only("public_id"), pk=int(key))
            prefix = reverse("api:identification-list")  # the number follows it: swap only that path segment
            rest = self.request.path.removeprefix(prefix).removeprefix(key)
            query = self.request.META.get("QUERY_STRING", "")
            path = f"{prefix}{old.public_id}{rest}" + (f"?{query}" if query else "")
            raise OldAddress(self.request.build_absolute_uri(path))
        identification: Identification = super().get_object()
        return identification

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, OldAddress):  # 308 keeps the method and body, so an old DELETE or POST still works
            return Response(
                {"message": "This address moved: identifications are addressed by their public id."},
                status=status.HTTP_308_PERMANENT_REDIRECT,
                headers={"Location": exc.location},
            )
        return super().handle_exception(exc)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action != "create" or self._repeated_upload() is not None:  # a repeat starts nothing: not counted
            return throttles
        return [*throttles, UploadRateThrottle()]

    def _repeated_upload(self) -> Identification | None:
        """Return the caller's identification started with this upload's ``client_key`` (None: a new upload)."""
        data = self.request.data
        try:
            key = parse_client_key(data.get("client_key") if hasattr(data, "get") else None)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"client_key": exc.messages}) from None
        return already_uploaded(self.request.user, key)

    @extend_schema(
        parameters=[IdentificationFilterSerializer],
        responses={200: IdentificationSerializer(many=True), 400: MESSAGE, 404: MESSAGE},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": IdentificationCreateSerializer},
        responses={
            202: inline_serializer(
                "Accepted",
                {"id": serializers.UUIDField(), "status": serializers.CharField(), "url": serializers.URLField()},
            ),
            400: MESSAGE,
            503: MESSAGE,
        },
    )
    def create(self, request, *args, **kwargs):
        """Upload 1-5 photos of one plant; answers 202 at once, poll ``url`` until status is done or failed."""
        try:
            versions.serving_version()
        except versions.RegistryError as exc:
            raise ModelUnavailable(str(exc)) from None
        identification = self._repeated_upload()
        if identification is None:
            serializer = IdentificationCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            identification = services.create_identification(
                request.user, data["photos"], data["organs"], client_key=data["client_key"]
            )
        url = reverse("api:identification-detail", args=[identification.public_id], request=request)
        return Response(
            {"id": str(identification.public_id), "status": identification.status, "url": url},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )

    @extend_schema(responses={200: IdentificationSerializer, 404: MESSAGE})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses={204: None, 404: MESSAGE})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Identification) -> None:
        services.delete_identification(instance)

    @extend_schema(request=FeedbackSerializer, responses={200: IdentificationSerializer, 400: MESSAGE, 404: MESSAGE})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """Confirm a candidate (``label``), give the correct species (``species``) or say ``verdict``:
        'none_of_these' or 'not_a_plant'."""
        identification = self.get_object()
        labels = [c.label for c in identification.candidates.all()]
        serializer = FeedbackSerializer(data=request.data, context={"labels": labels})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.record_feedback(identification, data["label"], data["species"], data["verdict"])
        if serializer.validated_data["share"] is not None:
            services.set_share_confirmed_photos(request.user, serializer.validated_data["share"])
        return Response(self.get_serializer(self.get_queryset().get(pk=identification.pk)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["csv", "json"]),
            IdentificationFilterSerializer,
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            400: MESSAGE,
            404: MESSAGE,
        },
    )
    @action(detail=False, methods=["get"], url_path=r"export/(?P<fmt>csv|json)")
    def export(self, request, fmt=None):
        """Download your whole history (or the ``species`` and ``status`` matches) as CSV or JSON."""
        queryset = self.get_queryset()
        serializer = PhotoSerializer(context={"request": request})
        return history_download(queryset, fmt, lambda photo: serializer.get_url(photo))

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: MESSAGE})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"photos/(?P<photo_pk>[0-9]+)/(?P<kind>original|thumbnail)",
        authentication_classes=[*APIView.authentication_classes, SignedUrlAuthentication],
    )
    def photo(self, request, pk=None, photo_pk=None, kind=None):
        """One of your photos (normalised JPEG) or its thumbnail."""
        return photo_response(request.user, self.get_object().pk, int(photo_pk), kind)


@method_decorator(login_not_required, name="dispatch")
class ActiveModelView(APIView):
    """The model that answers new identifications."""

    @extend_schema(responses={200: ModelVersionSerializer, 503: MESSAGE})
    def get(self, request):
        version = versions.active_version()
        if version is None:
            raise NoActiveModel()
        return Response(ModelVersionSerializer(version).data)


@method_decorator(login_not_required, name="dispatch")
class ReferencePhotoView(APIView):
    """A training photo of a model's class, to compare a candidate with (token, session, Pl@ntNet ``api-key`` or the
    ``sig`` of a signed URL)."""

    authentication_classes = [*APIView.authentication_classes, ApiKeyAuthentication, SignedUrlAuthentication]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: MESSAGE})
    def get(self, request, pk: int, index: int, number: int):
        return reference_photo_response(pk, index, number)
