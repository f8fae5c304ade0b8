"""The species page: what a model knows, sorted, searchable, with its training photo counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ml.models import ModelVersion
from recognition.species_list import species_of

pytestmark = pytest.mark.django_db


def _version(**fields) -> ModelVersion:
    defaults = {
        "name": "herbs",
        "architecture": "convnextv2_atto",
        "class_names": ["lonicera_japonica", "taraxacum_mongolicum", "bellis_perennis"],
        "display_names": ["金银花", "蒲公英", "Bellis perennis"],
        "checkpoint_path": "/nowhere.pt",
        "sha256": "0" * 64,
        "metrics": {"train_counts": [12, 7, 30]},
    }
    return ModelVersion.objects.create(**{**defaults, **fields})


def test_species_are_sorted_by_name_with_their_training_photo_counts():
    rows = species_of(_version())
    assert [(row.name, row.train_photos) for row in rows] == [("Bellis perennis", 30), ("蒲公英", 7), ("金银花", 12)]


def test_search_matches_the_display_name_or_the_folder_label_ignoring_case():
    version = _version()
    assert [row.name for row in species_of(version, "金银")] == ["金银花"]
    assert [row.name for row in species_of(version, "TARAXACUM")] == ["蒲公英"]


def _named_version() -> ModelVersion:
    species = [
        {"scientific_name": "Lonicera japonica", "common_names": {"en": "Japanese honeysuckle", "zh-hans": "金银花"}},
        {"scientific_name": "Taraxacum mongolicum", "common_names": {"zh-hans": "蒲公英"}},
        {"scientific_name": "Bellis perennis", "common_names": {"en": "common daisy", "zh-hans": "雏菊"}},
    ]
    return _version(display_names=["Lonicera", "Taraxacum", "Bellis"], species=species)


def test_the_common_name_in_the_readers_language_leads_else_the_scientific_name():
    version = _named_version()
    rows = species_of(version, language="en")
    assert [(row.names.common, row.names.scientific) for row in rows] == [
        ("common daisy", "Bellis perennis"),
        ("Japanese honeysuckle", "Lonicera japonica"),
        ("", "Taraxacum mongolicum"),
    ]
    assert [row.name for row in species_of(version, language="zh-hans")] == ["蒲公英", "金银花", "雏菊"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("雏菊", "bellis_perennis"),
        ("Common Daisy", "bellis_perennis"),
        ("mongolicum", "taraxacum_mongolicum"),
        ("LONICERA_J", "lonicera_japonica"),
        ("honeysuckle", "lonicera_japonica"),
    ],
)
def test_search_matches_scientific_common_in_every_language_and_folder_names(query, found):
    version = _named_version()
    assert [row.label for row in species_of(version, query, language="zh-hans")] == [found]


def test_without_recorded_counts_the_count_is_unknown():
    assert {row.train_photos for row in species_of(_version(metrics={}))} == {None}


def test_the_page_lists_the_active_models_species(user_client):
    _version(is_active=True, title="Herbal medicine")
    page = user_client.get(reverse("recognition:species"), {"q": "bellis"}).content.decode()
    assert "Bellis perennis" in page and "金银花" not in page and "Herbal medicine" in page


def test_the_page_says_so_when_no_model_is_active(user_client):
    response = user_client.get(reverse("recognition:species"))
    assert response.status_code == 200 and "No model is active" in response.content.decode()


def test_the_page_of_an_unknown_model_is_404(user_client):
    assert user_client.get(reverse("recognition:species_of_model", args=[999])).status_code == 404
