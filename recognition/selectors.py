"""The queries that pages and API share; each one sees only what its user owns."""

from __future__ import annotations

from django.core.files import File
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from ml.models import ModelVersion

from .facts import matching_labels
from .models import Candidate, Identification, IdentificationPhoto, Preferences


def own_identifications(user) -> QuerySet[Identification]:
    """Return the user's identifications with their candidates and photos prefetched; nobody sees anyone else's."""
    return Identification.objects.filter(owner=user).prefetch_related(
        Prefetch("candidates", queryset=Candidate.objects.order_by("rank")), "photos"
    )


def search_species(queryset: QuerySet[Identification], query: str) -> QuerySet[Identification]:
    """Return the identifications whose species matches ``query``: the best candidate of an identified one, or the
    user's feedback, by folder, display, scientific or common name (any language). A no-match is filed under no
    species name, so its closest candidates never match."""
    if not query:
        return queryset
    named = Q(candidates__rank=1) & (
        Q(candidates__display_name__icontains=query) | Q(candidates__label__icontains=query)
    )
    answered = Q(feedback_text__icontains=query) | Q(feedback_label__icontains=query)
    # The other names live in each model version's JSON, per class: find the classes they name in the versions
    # these identifications used (a few), then match best candidates by label, on any database.
    used = queryset.order_by().exclude(model_version=None).values_list("model_version", flat=True).distinct()
    for version in ModelVersion.objects.filter(pk__in=used).only("pk", "class_names", "display_names", "species"):
        labels = matching_labels(version, query)
        if not labels:
            continue
        best = Candidate.objects.filter(rank=1, identification__model_version=version)
        others = sorted(set(version.class_names) - set(labels))
        if len(others) < len(labels):
            # a short query names most of a large model's classes: say which it does not name, so that the
            # query carries at most half the classes' labels (databases that bind parameters cap them)
            best = best.exclude(label__in=others)
            answered |= Q(model_version=version) & ~Q(feedback_label__in=others) & ~Q(feedback_label="")
        else:
            best = best.filter(label__in=labels)
            answered |= Q(model_version=version, feedback_label__in=labels)
        named |= Q(pk__in=best.values("identification"))
    best_named = Q(outcome=Identification.Outcome.IDENTIFIED) & named
    return queryset.filter(best_named | answered).distinct()


def open_own_photo(user, pk: int, photo_pk: int, kind: str) -> File:
    """Return the opened file ``kind`` ('original' or 'thumbnail') of a photo owned by ``user``; Http404 otherwise."""
    # identification__pk, not identification_id: Django answers "none" for a number too large for the column
    # on a primary key, but passes it to the database on a foreign key (an overflow error, a 500)
    item = get_object_or_404(IdentificationPhoto, pk=photo_pk, identification__pk=pk, identification__owner=user)
    field = {"original": item.file, "thumbnail": item.thumbnail}.get(kind)
    if field is None or not field.name:
        raise Http404
    try:
        return field.open("rb")
    except FileNotFoundError:
        raise Http404 from None


def shares_confirmed_photos(user) -> bool:
    """Return True when the user agreed that their confirmed photos may improve the model (off by default)."""
    return Preferences.objects.filter(user=user, share_confirmed_photos=True).exists()


def outcome_of(identification: Identification) -> str:
    """Return the outcome of a finished identification ('identified' or 'no_match'), else its status."""
    if identification.status != Identification.Status.DONE:
        return identification.status
    return identification.outcome or Identification.Outcome.NO_MATCH
