"""The Pl@ntNet-compatible URLs, mounted under /v2/ like Pl@ntNet's (no trailing slash needed)."""

from django.urls import re_path

from .plantnet_routes import (
    LanguagesView,
    ProjectSpeciesView,
    QuotaDailyView,
    QuotaHistoryView,
    QuotaView,
    SpeciesView,
    StatusView,
    openapi_schema,
    unknown_route,
)
from .plantnet_views import ProjectsView
from .plantnet_waits import BoundedIdentifyView

app_name = "plantnet"
urlpatterns = [
    re_path(r"^identify/(?P<project>[-\w]+)/?$", BoundedIdentifyView.as_view(), name="identify"),
    re_path(r"^projects/?$", ProjectsView.as_view(), name="projects"),
    re_path(r"^projects/(?P<project>[-\w]+)/species/?$", ProjectSpeciesView.as_view(), name="project-species"),
    re_path(r"^species/?$", SpeciesView.as_view(), name="species"),
    re_path(r"^languages/?$", LanguagesView.as_view(), name="languages"),
    re_path(r"^_status/?$", StatusView.as_view(), name="status"),
    re_path(r"^quota/?$", QuotaView.as_view(), name="quota"),
    re_path(r"^quota/daily/?$", QuotaDailyView.as_view(), name="quota-daily"),
    re_path(r"^quota/history/?$", QuotaHistoryView.as_view(), name="quota-history"),
    re_path(r"^openapi.json$", openapi_schema, name="openapi"),
    # Last: every other /v2/ URL is Pl@ntNet's JSON 404, not the site's page.
    re_path(r"^(?P<path>.*)$", unknown_route, name="unknown"),
]
