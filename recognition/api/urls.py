"""API URLs, mounted under /api/ with the namespace ``api``."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from .views import ActiveModelView, IdentificationViewSet, ReferencePhotoView

app_name = "api"
router = SimpleRouter(trailing_slash=True)
router.register("identifications", IdentificationViewSet, basename="identification")

# The schema and the docs are for account holders (session or token), like the rest of the API.
_private = {"permission_classes": [IsAuthenticated]}
urlpatterns = [
    *router.urls,
    path("models/active/", ActiveModelView.as_view(), name="active-model"),
    path(
        "models/<int:pk>/references/<int:index>/<int:number>/",
        ReferencePhotoView.as_view(),
        name="reference-photo",
    ),
    path("schema/", login_not_required(SpectacularAPIView.as_view(**_private)), name="schema"),
    # the split view serves its set-up script as a file: the Content-Security-Policy allows no inline script
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema", **_private)),
        name="docs",
    ),
]
