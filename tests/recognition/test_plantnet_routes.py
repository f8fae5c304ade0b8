"""The /v2/ routes beside identify answer with Pl@ntNet's field names: status, languages, species lists,
quota (from the user's upload throttle) and a JSON 404 for any other /v2/ URL."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from recognition.models import Identification
from recognition.tokens import create_token

pytestmark = pytest.mark.django_db

SPECIES_FIELDS = {
    "id", "scientificNameWithoutAuthor", "scientificNameAuthorship", "scientificName", "genus", "family",
    "gbifId", "powoId", "iucnCategory", "commonNames",
}  # fmt: skip


@pytest.fixture
def key(user) -> str:
    cache.delete_many([f"throttle_{scope}_{user.pk}" for scope in ("user", "uploads")])
    return create_token(user, "test")[1]


def get(client, path: str, key: str | None = None, **params):
    if key:
        params["api-key"] = key
    return client.get(path, params)


def test_status_answers_ok_without_a_key(client):
    response = client.get("/v2/_status")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_languages_are_those_the_active_model_has_common_names_in(client, key, species_model):
    assert get(client, "/v2/languages", key).json() == ["en", "zh-hans"]


def test_languages_without_an_active_model_is_an_empty_list(client, key):
    assert get(client, "/v2/languages", key).json() == []


def test_species_lists_the_active_models_species_with_gbif_ids_and_common_names(client, key, species_model):
    response = get(client, "/v2/species", key, lang="en")
    assert response.status_code == 200
    species = {entry["scientificNameWithoutAuthor"]: entry for entry in response.json()}
    assert set(species) == {"Rosa canina", "Bellis perennis", "helianthus_annuus"}
    assert all(set(entry) == SPECIES_FIELDS for entry in species.values())
    rosa = species["Rosa canina"]
    assert (rosa["id"], rosa["gbifId"], rosa["family"], rosa["genus"]) == ("rosa_canina", 8395064, "Rosaceae", "Rosa")
    assert rosa["scientificName"] == "Rosa canina L." and rosa["commonNames"] == ["dog rose"]
    assert species["Bellis perennis"]["commonNames"] == [] and species["Bellis perennis"]["gbifId"] is None


def test_species_in_a_language_the_facts_lack_have_no_common_names(client, key, species_model):
    response = get(client, "/v2/species", key, lang="fr")
    assert response.status_code == 200
    assert all(entry["commonNames"] == [] for entry in response.json())


def test_species_filter_by_prefix_and_page(client, key, species_model):
    assert [e["id"] for e in get(client, "/v2/species", key, prefix="ro").json()] == ["rosa_canina"]
    first = get(client, "/v2/species", key, pageSize=2, page=1).json()
    second = get(client, "/v2/species", key, pageSize=2, page=2).json()
    assert (len(first), len(second)) == (2, 1)
    assert {e["id"] for e in first + second} == {"rosa_canina", "bellis_perennis", "helianthus_annuus"}


def test_a_bad_page_is_a_400_in_plantnets_shape(client, key, species_model):
    response = get(client, "/v2/species", key, pageSize=0, page=1)
    assert response.status_code == 400 and "pageSize must be a whole number" in response.json()["message"]


def test_project_species_lists_that_models_species(client, key, species_model):
    response = get(client, f"/v2/projects/{species_model.name}/species", key, lang="zh-hans")
    assert response.status_code == 200
    rosa = next(entry for entry in response.json() if entry["id"] == "rosa_canina")
    assert rosa["commonNames"] == ["犬蔷薇"]


def test_species_of_an_unknown_project_is_a_404_in_plantnets_shape(client, key, species_model):
    response = get(client, "/v2/projects/mars-flora/species", key)
    assert response.status_code == 404 and response.json()["error"] == "Not Found"


def test_quota_is_the_upload_rate(client, key, settings):
    settings.RECOGNITION_UPLOAD_RATE = "30/hour"
    assert get(client, "/v2/quota", key).json() == {"identify": 30, "window": 3600}


def test_quota_daily_counts_identifications_in_the_window(client, key, user, settings):
    settings.RECOGNITION_UPLOAD_RATE = "30/hour"
    cache.set(f"throttle_uploads_{user.pk}", [9e12, 9e12])  # two identifications counted, far in the future
    body = get(client, "/v2/quota/daily", key).json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", body["day"])
    assert body["count"] == {"identify": 2} and body["remaining"] == {"identify": 28}
    assert body["quota"] == {"identify": {"count": 2, "remaining": 28}}


def test_quota_history_counts_the_users_identifications_per_day(client, key, user, other_user):
    for owner in (user, user, other_user):
        Identification.objects.create(owner=owner)
    history = get(client, "/v2/quota/history", key).json()
    assert len(history) == 1 and history[0]["quota"] == {"identify": {"count": 2}}


def test_answers_carry_ratelimit_headers(client, key, settings):
    settings.RECOGNITION_UPLOAD_RATE = "30/hour"
    response = get(client, "/v2/projects", key)
    assert response["RateLimit-Policy"] == '"identify";q=30;w=3600'
    assert response["RateLimit"] == '"identify";r=30;t=0'


@pytest.mark.parametrize("path", ["/v2/quota", "/v2/quota/daily", "/v2/species", "/v2/languages"])
def test_routes_need_the_api_key(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.json()["statusCode"] == 401


@pytest.mark.parametrize("path", ["/v2/subscription", "/v2/no/such/route", "/v2/identify", "/v2/"])
def test_any_other_v2_url_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found" and "/v2/projects" in response.json()["message"]


def test_a_method_a_route_does_not_have_is_a_json_405(client, key):
    response = client.delete(f"/v2/projects?api-key={key}")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405 and response.json()["error"] == "Method Not Allowed"


def test_head_on_identify_is_a_405_not_a_fetch(client, key, active_model, settings):
    settings.RECOGNITION_REMOTE_IMAGES = True
    response = client.head(f"/v2/identify/all?api-key={key}&images=http://10.0.0.1/a.jpg")
    assert response.status_code == 405
    assert not Identification.objects.exists()


def test_a_body_of_an_unsupported_type_is_a_json_415(client, key, active_model):
    response = client.post(f"/v2/identify/all?api-key={key}", data=b"{}", content_type="application/json")
    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"


def test_a_post_to_an_unknown_v2_url_is_plantnets_json_404_not_a_csrf_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/v2/identify/no such project/", {"organs": "leaf"})
    assert response.status_code == 404 and response.json()["statusCode"] == 404
