"""History downloads: CSV and JSON from the history page and the API, only the user's own identifications."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recognition import services
from recognition.models import Identification
from recognition.tokens import create_token
from recognition.validators import prepare_uploads

from .conftest import photo_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user, other_user, media_root, settings):
    # in a test transaction nothing commits, so nothing is queued: the rows are answered by hand below
    confident = services.create_identification(user, prepare_uploads([photo_of((200, 30, 40))]), ["flower"])
    unsure = services.create_identification(user, prepare_uploads([photo_of((30, 30, 200))]))
    services.create_identification(other_user, prepare_uploads([photo_of((30, 200, 30))]))
    for identification, probability, outcome in ((confident, 0.9, "identified"), (unsure, 0.3, "no_match")):
        identification.candidates.create(
            rank=1, label="rosa_canina", display_name="Rosa canina", probability=probability
        )
        identification.candidates.create(rank=2, label="bellis", display_name="Bellis perennis", probability=0.05)
        Identification.objects.filter(pk=identification.pk).update(
            status="done",
            finished=timezone.now(),
            outcome=outcome,
            reason="" if outcome == "identified" else "not_a_plant",
        )
    services.record_feedback(confident, label="rosa_canina")
    services.record_feedback(unsure, verdict="none_of_these")
    return confident, unsure


def test_history_page_offers_both_downloads(user_client, history):
    html = user_client.get("/history/").content.decode()
    assert 'href="/history/export/csv/"' in html and 'href="/history/export/json/"' in html


def test_csv_from_the_history_page_has_one_row_per_own_identification(user_client, history):
    confident, unsure = history
    response = user_client.get("/history/export/csv/")
    assert response["Content-Disposition"] == 'attachment; filename="plantsite-history.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["id"] for row in rows] == [str(unsure.public_id), str(confident.public_id)]
    by_id = {row["id"]: row for row in rows}
    assert (
        by_id[str(confident.public_id)]["outcome"] == "identified"
        and by_id[str(unsure.public_id)]["outcome"] == "no_match"
    )
    assert (
        by_id[str(confident.public_id)]["candidate_1"] == "Rosa canina"
        and float(by_id[str(confident.public_id)]["probability_1"]) == 0.9
    )
    assert by_id[str(confident.public_id)]["feedback"] == "Rosa canina"
    photo = confident.photos.get()
    assert (
        by_id[str(confident.public_id)]["photos"]
        == f"http://testserver/identifications/{confident.public_id}/photos/{photo.pk}/original/"
    )


def test_json_from_the_api_lists_photos_candidates_and_feedback(user, history):
    confident, _ = history
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user, 'test')[1]}")
    response = api.get("/api/identifications/export/json/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    records = {r["id"]: r for r in json.loads(response.content)["identifications"]}
    assert len(records) == 2
    record = records[str(confident.public_id)]
    assert record["outcome"] == "identified" and record["feedback"] == "Rosa canina"
    assert record["candidates"][0] == {
        "label": "rosa_canina",
        "name": "Rosa canina",
        "probability": 0.9,
        "certainty": "very_likely",
    }
    photo = confident.photos.get()
    assert record["photos"] == [
        f"http://testserver/api/identifications/{confident.public_id}/photos/{photo.pk}/original/"
    ]


def test_the_photo_urls_in_an_export_open_for_their_owner(user_client, history):
    records = json.loads(user_client.get("/history/export/json/").content)["identifications"]
    response = user_client.get(records[0]["photos"][0])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_the_search_narrows_the_export(user_client, history):
    history[0].candidates.filter(rank=1).update(display_name="Viola odorata", label="viola")
    rows = list(csv.DictReader(io.StringIO(user_client.get("/history/export/csv/?q=viola").content.decode())))
    assert [row["id"] for row in rows] == [str(history[0].public_id)]


def test_an_unknown_format_is_a_404(user_client, history):
    assert user_client.get("/history/export/xml/").status_code == 404


def test_csv_carries_the_reason_the_certainty_and_the_feedback_verdict(user_client, history):
    confident, unsure = history
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(user_client.get("/history/export/csv/").content.decode()))}
    assert (rows[str(unsure.public_id)]["reason"], rows[str(confident.public_id)]["reason"]) == ("not_a_plant", "")
    assert (rows[str(confident.public_id)]["certainty_1"], rows[str(unsure.public_id)]["certainty_1"]) == (
        "very_likely",
        "possibly",
    )
    assert (
        rows[str(unsure.public_id)]["feedback_verdict"] == "none_of_these"
        and rows[str(unsure.public_id)]["feedback"] == ""
    )


def test_json_carries_the_reason_and_the_feedback_verdict(user_client, history):
    _, unsure = history
    records = {r["id"]: r for r in json.loads(user_client.get("/history/export/json/").content)["identifications"]}
    assert records[str(unsure.public_id)]["reason"] == "not_a_plant"
    assert records[str(unsure.public_id)]["feedback_verdict"] == "none_of_these"


def test_a_species_search_of_the_export_leaves_out_no_matches(user_client, history):
    confident, _ = history
    records = json.loads(user_client.get("/history/export/json/", {"q": "rosa"}).content)["identifications"]
    assert [r["id"] for r in records] == [str(confident.public_id)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_api_download_refuses_a_nul_in_species_with_a_400(user, fmt):
    # PostgreSQL refuses a NUL in a query with an error: once a 500 here
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user, 'test')[1]}")
    response = api.get(f"/api/identifications/export/{fmt}/", {"species": "rosa\x00"})
    assert response.status_code == 400 and "NUL" in response.json()["message"]


def test_the_api_download_keeps_only_the_status_asked_for(user, history):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user, 'test')[1]}")
    done = api.get("/api/identifications/export/json/", {"status": "done"})
    failed = api.get("/api/identifications/export/json/", {"status": "failed"})
    assert len(json.loads(done.content)["identifications"]) == 2
    assert json.loads(failed.content)["identifications"] == []
