"""The shared queries: own identifications only, species search on the best answer, owner-checked photos."""

from __future__ import annotations

import pytest
from django.http import Http404

from recognition import services
from recognition.models import Identification
from recognition.selectors import open_own_photo, own_identifications, search_species
from recognition.validators import prepare_uploads

from .conftest import upload

pytestmark = pytest.mark.django_db


def _answered(owner, *names: str, feedback: str = "", outcome: str = "identified") -> Identification:
    identification = Identification.objects.create(owner=owner, status="done", outcome=outcome, feedback_text=feedback)
    for rank, name in enumerate(names, start=1):
        identification.candidates.create(rank=rank, label=name.lower(), display_name=name, probability=0.5 / rank)
    return identification


def test_own_identifications_hold_only_the_users_rows_with_ranked_candidates(user, other_user):
    mine = _answered(user, "Rosa canina", "Bellis perennis")
    _answered(other_user, "Rosa canina")
    (found,) = own_identifications(user)
    assert found == mine and [c.rank for c in found.candidates.all()] == [1, 2]


def test_species_search_matches_the_best_candidate_or_the_feedback_only(user):
    best = _answered(user, "Rosa canina", "Bellis perennis")
    second = _answered(user, "Bellis perennis", "Rosa canina")
    corrected = _answered(user, "Bellis perennis", feedback="Rosa rugosa")
    assert set(search_species(own_identifications(user), "rosa")) == {best, corrected}
    assert second not in search_species(own_identifications(user), "ROSA")
    assert search_species(own_identifications(user), "").count() == 3


def test_an_own_photo_opens_and_anyone_elses_is_404(user, other_user, media_root):
    identification = services.create_identification(user, prepare_uploads([upload()]))
    photo = identification.photos.get()
    with open_own_photo(user, identification.pk, photo.pk, "thumbnail") as handle:
        assert handle.read(2) == b"\xff\xd8"  # a JPEG
    for owner, kind in ((other_user, "original"), (user, "exif")):
        with pytest.raises(Http404):
            open_own_photo(owner, identification.pk, photo.pk, kind)


def test_species_search_never_finds_a_no_match_by_its_closest_candidate(user):
    no_match = _answered(user, "Bellis perennis", outcome="no_match")
    corrected = _answered(user, "Bellis perennis", outcome="no_match", feedback="Bellis perennis")
    assert list(search_species(own_identifications(user), "bellis")) == [corrected]
    assert no_match in own_identifications(user)
