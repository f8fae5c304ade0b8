"""What a Pl@ntNet identify request asks: its query parameters and the project (model version) it names."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions

from ml import versions
from ml.models import ModelVersion

ALL = "all"
# Pl@ntNet language codes and the site language each one is answered in
LANGUAGES = {"en": "en", "zh": "zh-hans", "zh-hans": "zh-hans", "zh-cn": "zh-hans"}
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


class PlantNetError(exceptions.APIException):
    """An error answered in Pl@ntNet's {statusCode, error, message} shape."""

    def __init__(self, status_code: int, message: str, headers: dict | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}
        super().__init__(message)


@dataclass(frozen=True)
class IdentifyQuery:
    """The query parameters of one /v2/identify request."""

    nb_results: int | None
    lang: str
    no_reject: bool
    include_related_images: bool


def _flag(params, name: str) -> bool:
    value = params.get(name, "false").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise PlantNetError(400, f"{name} must be true or false, got {value!r}")


def parse_query(params) -> IdentifyQuery:
    """Return the validated query parameters, or raise a 400 naming the parameter and its allowed values."""
    nb_results = params.get("nb-results")
    if nb_results is not None:
        try:
            nb_results = int(nb_results)
        except ValueError:
            nb_results = 0
        if nb_results < 1:
            raise PlantNetError(400, f"nb-results must be a whole number of 1 or more, got {params['nb-results']!r}")
    lang = params.get("lang", "en").strip().lower()
    if lang not in LANGUAGES:
        raise PlantNetError(400, f"lang {lang!r} is not available here: use one of {', '.join(LANGUAGES)}")
    return IdentifyQuery(nb_results, lang, _flag(params, "no-reject"), _flag(params, "include-related-images"))


def project_version(project: str) -> ModelVersion:
    """Return the model version a project names: ``all`` is the active one; 404 or 503 in Pl@ntNet's shape."""
    if project == ALL:
        version = versions.active_version()
        if version is None:
            raise PlantNetError(503, versions.NO_ACTIVE_MODEL)
        return version
    version = ModelVersion.objects.filter(name=project).first()
    if version is None:
        raise PlantNetError(
            404, f"Project not found: {project!r} is not a model here; use all or one of GET /v2/projects"
        )
    return version
