"""The Pl@ntNet-compatible URLs, mounted under /v2/ like Pl@ntNet's (no trailing slash needed)."""

from django.urls import re_path

from .plantnet_views import ProjectsView
from .plantnet_waits import BoundedIdentifyView

app_name = "plantnet"
urlpatterns = [
    re_path(r"^identify/(?P<project>[-\w]+)/?$", BoundedIdentifyView.as_view(), name="identify"),
    re_path(r"^projects/?$", ProjectsView.as_view(), name="projects"),
]
