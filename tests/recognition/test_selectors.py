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


@pytest.mark.parametrize("pk", [10**25, 2**63])  # found by Schemathesis: once an overflow error, a 500
def test_a_photo_of_an_identification_number_too_large_for_the_database_is_404(user, pk):
    with pytest.raises(Http404):
        open_own_photo(user, pk, 1, "original")


def _version_with_names():
    from ml.models import ModelVersion

    species = [
        {"scientific_name": "Bellis perennis", "common_names": {"en": "common daisy", "zh-hans": "雏菊"}},
        {"scientific_name": "Rosa canina", "common_names": {"en": "dog rose", "zh-hans": "犬蔷薇"}},
    ]
    return ModelVersion.objects.create(
        name="garden",
        architecture="convnextv2_atto",
        class_names=["bellis_folder", "rosa_folder"],
        display_names=["Bellis", "Rosa"],
        species=species,
        checkpoint_path="/nowhere.pt",
        sha256="0" * 64,
    )


def _labelled(owner, version, *labels: str, outcome: str = "identified", feedback_label: str = ""):
    identification = Identification.objects.create(
        owner=owner, status="done", outcome=outcome, model_version=version, feedback_label=feedback_label
    )
    for rank, label in enumerate(labels, start=1):
        display = label.split("_")[0].capitalize()
        identification.candidates.create(rank=rank, label=label, display_name=display, probability=0.5 / rank)
    return identification


@pytest.mark.parametrize("query", ["雏菊", "COMMON DAISY", "bellis perennis", "bellis_folder", "Bellis"])
def test_species_search_matches_scientific_common_in_every_language_and_folder_names(user, query):
    version = _version_with_names()
    daisy = _labelled(user, version, "bellis_folder", "rosa_folder")
    rose = _labelled(user, version, "rosa_folder", "bellis_folder")
    assert list(search_species(own_identifications(user), query)) == [daisy]
    assert rose in search_species(own_identifications(user), "犬蔷薇")


def test_species_search_by_common_name_finds_a_confirmed_candidate_but_never_a_no_match_by_its_candidates(user):
    version = _version_with_names()
    no_match = _labelled(user, version, "bellis_folder", outcome="no_match")
    confirmed = _labelled(user, version, "rosa_folder", "bellis_folder", feedback_label="bellis_folder")
    assert list(search_species(own_identifications(user), "雏菊")) == [confirmed]
    assert no_match not in search_species(own_identifications(user), "daisy")


def test_species_search_by_a_name_of_another_version_finds_nothing(user):
    from ml.models import ModelVersion

    version = _version_with_names()
    other = ModelVersion.objects.create(
        name="other", architecture="convnextv2_atto", class_names=["bellis_folder"], checkpoint_path="/x.pt", sha256=""
    )
    _labelled(user, other, "bellis_folder")  # the same folder, but this version has no common names
    mine = _labelled(user, version, "bellis_folder")
    assert list(search_species(own_identifications(user), "雏菊")) == [mine]


def test_a_search_naming_most_classes_of_a_large_model_finds_the_best_candidates_of_those_classes(user):
    from ml.models import ModelVersion

    labels = [f"taxon_{i:05d}" for i in range(70_000)]  # more than a bound query may carry
    version = ModelVersion.objects.create(
        name="many", architecture="convnextv2_atto", class_names=labels, checkpoint_path="/x.pt", sha256=""
    )
    second_best = _labelled(user, version, "taxon_00007", "taxon_00008")
    named = _labelled(user, version, "taxon_69999", "taxon_00007")
    unsure = _labelled(user, version, "taxon_00009", outcome="no_match")
    found = set(search_species(own_identifications(user), "taxon_0000"))  # names 10 classes
    assert found == {second_best}
    assert set(search_species(own_identifications(user), "taxon")) == {second_best, named}  # names all of them
    assert unsure not in search_species(own_identifications(user), "taxon")
    assert list(search_species(own_identifications(user), "69999")) == [named]
