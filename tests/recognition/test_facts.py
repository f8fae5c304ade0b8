"""Species facts and reference photos beside each candidate: the result page, the photo view and the REST API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ml import reference_photos, versions
from recognition.models import Identification
from recognition.tokens import create_token

from .conftest import with_credited_references

pytestmark = pytest.mark.django_db


def _done(user, model) -> Identification:
    identification = Identification.objects.create(owner=user, status="done", model_version=model)
    for rank, (label, name, p) in enumerate(
        [
            ("rosa_canina", "Rosa canina", 0.7),
            ("bellis_perennis", "Bellis perennis", 0.2),
            ("helianthus_annuus", "Helianthus annuus", 0.1),
        ],
        start=1,
    ):
        identification.candidates.create(rank=rank, label=label, display_name=name, probability=p)
    return identification


def _page(client, identification, language: str = "en") -> str:
    client.cookies["django_language"] = language
    return client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()


def test_the_result_page_shows_authorship_genus_and_family(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model))
    assert '<span data-testid="scientific-name"><i>Rosa canina</i> L.</span>' in page
    assert "Genus <i>Rosa</i>" in page and "Family Rosaceae" in page and "Family Asteraceae" in page


def test_the_result_page_shows_the_common_name_in_the_users_language(user_client, user, species_model):
    assert '<span data-testid="common-name">dog rose</span>' in _page(user_client, _done(user, species_model))
    assert '<span data-testid="common-name">犬蔷薇</span>' in _page(user_client, _done(user, species_model), "zh-hans")


def test_the_result_page_links_to_gbif_only_with_a_gbif_id(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model))
    assert 'href="https://www.gbif.org/species/8395064"' in page and page.count('data-testid="gbif"') == 1


def test_the_wikipedia_link_searches_the_scientific_name_in_the_users_language(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model), "zh-hans")
    assert 'href="https://zh.wikipedia.org/w/index.php?search=Rosa+canina"' in page


def test_a_class_without_facts_shows_only_its_name(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model))
    assert page.count('data-testid="scientific-name"') == 2  # rosa and bellis; helianthus has no facts


def test_the_result_page_shows_each_candidates_reference_photos(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model))
    for index in range(3):
        for number in (1, 2):
            assert reverse("recognition:reference_photo", args=[species_model.pk, index, number]) in page


def test_a_reference_photo_is_served_to_a_signed_in_user(user_client, species_model):
    response = user_client.get(reverse("recognition:reference_photo", args=[species_model.pk, 1, 2]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == reference_photos.reference_photo(species_model, 1, 2).read_bytes()


def test_a_reference_photo_is_refused_to_anonymous_users(client, species_model):
    response = client.get(reverse("recognition:reference_photo", args=[species_model.pk, 1, 2]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize(("index", "number"), [(1, 3), (9, 1), (1, 0)])
def test_a_reference_photo_that_does_not_exist_is_404(user_client, species_model, index, number):
    response = user_client.get(reverse("recognition:reference_photo", args=[species_model.pk, index, number]))
    assert response.status_code == 404


def test_a_reference_photo_of_a_removed_model_is_404(user_client, species_model, tiny_checkpoint):
    other = versions.register_checkpoint(tiny_checkpoint, name="next", activate=True)
    path = reverse("recognition:reference_photo", args=[species_model.pk, 1, 1])
    versions.remove_version(species_model.name)
    assert other.is_active and user_client.get(path).status_code == 404


def test_the_api_gives_each_candidate_its_species_facts(api, user, species_model):
    identification = _done(user, species_model)
    body = api.get(f"/api/identifications/{identification.public_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["candidates"][0]["species"] == {
        "scientific_name": "Rosa canina",
        "authorship": "L.",
        "genus": "Rosa",
        "family": "Rosaceae",
        "common_name": "犬蔷薇",
        "gbif_id": 8395064,
        "gbif_url": "https://www.gbif.org/species/8395064",
        "wikipedia_url": "https://zh.wikipedia.org/w/index.php?search=Rosa+canina",
    }


def test_the_api_gives_each_candidate_its_reference_photo_urls_that_the_token_opens(api, user, species_model):
    identification = _done(user, species_model)
    urls = api.get(f"/api/identifications/{identification.public_id}/").json()["candidates"][0]["reference_photos"]
    assert urls == [f"http://testserver/api/models/{species_model.pk}/references/1/{n}/" for n in (1, 2)]
    response = api.get(urls[1])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_the_api_reference_photo_refuses_requests_without_credentials(species_model):
    response = APIClient().get(f"/api/models/{species_model.pk}/references/1/1/")
    assert response.status_code in (401, 403) and "message" in response.json()


def test_the_facts_labels_are_translated(user_client, user, species_model):
    page = _page(user_client, _done(user, species_model), "zh-hans")
    assert "属 <i>Rosa</i>" in page and "科 Rosaceae" in page


@pytest.fixture
def credited_model(species_model, tmp_path):
    """species_model whose rosa_canina reference photos (class 1) came with author, licence, date and source."""
    return with_credited_references(species_model, tmp_path)


def test_the_result_page_credits_each_reference_photos_author_and_licence(user_client, user, credited_model):
    page = _page(user_client, _done(user, credited_model))
    assert page.count('data-testid="reference-credit"') == 2  # rosa's two; bellis' photos have no record
    assert page.count('href="https://www.inaturalist.org/photos/rosa_canina_') == 2
    assert page.count(" · CC BY-NC</a>") == 2 and ">Author rosa_canina_" in page


def test_the_api_gives_each_reference_photo_its_author_licence_and_date(api, user, credited_model):
    candidates = api.get(f"/api/identifications/{_done(user, credited_model).public_id}/").json()["candidates"]
    rosa, bellis = candidates[0], candidates[1]
    assert [image["url"] for image in rosa["reference_images"]] == rosa["reference_photos"]
    assert all(image["author"].startswith("Author rosa_canina_") for image in rosa["reference_images"])
    assert {(image["license"], image["date"]) for image in rosa["reference_images"]} == {("CC BY-NC", "2024-05-04")}
    assert {(image["author"], image["license"]) for image in bellis["reference_images"]} == {("", "")}


def test_plantnet_images_carry_author_licence_citation_and_date(user, credited_model):
    from rest_framework.test import APIRequestFactory

    from recognition.api.plantnet_body import reference_images
    from recognition.facts import candidate_facts

    rosa = _done(user, credited_model).candidates.get(label="rosa_canina")
    request = APIRequestFactory().get("/v2/identify/all")
    request.user = user  # the images' URLs are signed for the requesting user
    images = reference_images(candidate_facts(rosa, credited_model, "en"), credited_model, request)
    assert len(images) == 2
    for image in images:
        assert image["author"].startswith("Author rosa_canina_") and image["license"] == "cc-by-nc"
        assert image["citation"].startswith(f"{image['author']}, cc-by-nc")
        assert image["date"]["string"] == "2024-05-04"


HUGE = "9" * 300  # once a 500: the file name built from it is too long for the disk


@pytest.mark.parametrize(("index", "number"), [(HUGE, "1"), ("1", HUGE), (HUGE, HUGE)])
def test_a_huge_class_index_or_photo_number_is_404_on_the_page_and_in_the_api(
    user_client, api, user, species_model, index, number
):
    page = user_client.get(f"/species/{species_model.pk}/references/{index}/{number}.jpg")
    assert page.status_code == 404
    answer = api.get(f"/api/models/{species_model.pk}/references/{index}/{number}/")
    assert answer.status_code == 404 and "no such reference photo" in answer.json()["message"]
    _, key = create_token(user, "pl@ntnet app")
    by_key = APIClient().get(f"/api/models/{species_model.pk}/references/{index}/{number}/", {"api-key": key})
    assert by_key.status_code == 404


def test_a_huge_model_number_is_404(api, species_model):
    assert api.get(f"/api/models/{HUGE}/references/1/1/").status_code == 404


def test_a_malformed_api_key_is_401_on_the_reference_photo_url(species_model):
    response = APIClient().get(f"/api/models/{species_model.pk}/references/1/1/", {"api-key": "\x00x"})
    assert response.status_code == 401 and "/api-token/" in response.json()["message"]
