"""The species page: what a model version knows, searchable, with its number of training photos."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from ml import versions
from ml.models import ModelVersion

from .facts import SpeciesNames, matching_labels, names_at
from .responses import reference_photo_response

PAGE_SIZE = 100


@dataclass(frozen=True)
class Species:
    """One class of a model: its names for the reader, its folder label and its training photos (None: unknown)."""

    names: SpeciesNames
    label: str
    train_photos: int | None

    @property
    def name(self) -> str:
        """Return the name that leads (the common name in the reader's language, else the scientific one)."""
        return self.names.lead


def species_of(version: ModelVersion, query: str = "", language: str | None = None) -> list[Species]:
    """Return the version's species sorted by the name that leads in ``language``; with ``query``, those with a
    folder, display, scientific or common name (any language) that contains it."""
    counts = (version.metrics or {}).get("train_counts") or []
    wanted = set(matching_labels(version, query)) if query else set(version.class_names)
    rows = [
        Species(
            names=names_at(
                version, index, version.display_names[index] if index < len(version.display_names) else "", language
            ),
            label=label,
            train_photos=counts[index] if index < len(counts) else None,
        )
        for index, label in enumerate(version.class_names)
        if label in wanted
    ]
    return sorted(rows, key=lambda row: row.name.casefold())


def species(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """List the species of model version ``pk`` (the active one by default), searchable with ``q``."""
    version = get_object_or_404(ModelVersion, pk=pk) if pk is not None else versions.active_version()
    if version is None:
        return render(request, "recognition/species.html", {"no_model": versions.NO_ACTIVE_MODEL})
    query = request.GET.get("q", "").strip()[:200]
    rows = species_of(version, query, get_language())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"version": version, "page": page, "query": query, "total": version.num_classes}
    return render(request, "recognition/species.html", context)


def reference_photo(request: HttpRequest, pk: int, index: int, number: int) -> FileResponse:
    """Serve a reference photo of class ``index`` of model version ``pk`` to a signed-in user (404 when missing)."""
    return reference_photo_response(pk, index, number)
