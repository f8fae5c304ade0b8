"""The Pl@ntNet-compatible API, replayed as public clients send it, through a live server and a real worker.

The clients: Pl@ntNet's own Python example (``requests`` with ``files=[('images', ...)]`` and
``data={'organs': [...]}``, the key in ``?api-key=``) and the curl call of their documentation
(``-F images=@... -F organs=...``). Responses are read with the field names those clients use.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests
from django.core.cache import cache

from ml import versions
from recognition.models import Identification
from recognition.tokens import create_token
from recognition.waits import wait_slot

from .conftest import image_bytes, photo_of, set_threshold

pytestmark = pytest.mark.django_db(transaction=True)


def jpeg(color: tuple[int, int, int]) -> bytes:
    return photo_of(color).read()


@pytest.fixture
def key(user) -> str:
    cache.delete_many([f"throttle_{scope}_{user.pk}" for scope in ("user", "uploads")])
    return create_token(user, "test")[1]


@pytest.fixture
def photos(tmp_path):
    """Two photo files on disk, as a client would read them."""
    paths = []
    for index, color in enumerate(((220, 40, 40), (40, 190, 60))):
        path = tmp_path / f"image_{index + 1}.jpeg"
        path.write_bytes(jpeg(color))
        paths.append(path)
    return paths


def python_client(base_url: str, key: str, paths, organs, project: str = "all", **params):
    """Send the request the way Pl@ntNet's Python example does; return the response."""
    query = "&".join(f"{name}={value}" for name, value in params.items())
    endpoint = f"{base_url}/v2/identify/{project}?api-key={key}" + (f"&{query}" if query else "")
    handles = [open(path, "rb") for path in paths]
    try:
        files = [("images", (str(path), handle)) for path, handle in zip(paths, handles)]
        prepared = requests.Request("POST", url=endpoint, files=files, data={"organs": organs}).prepare()
        return requests.Session().send(prepared, timeout=120)
    finally:
        for handle in handles:
            handle.close()


def curl_client(base_url: str, key: str, path, organ: str, **params) -> tuple[int, dict]:
    """Send the documentation's curl request; return (status, parsed JSON)."""
    query = "".join(f"&{name}={value}" for name, value in params.items())
    command = [
        "curl",
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        "POST",
        "-H",
        "accept: application/json",
        "-F",
        f"images=@{path}",
        "-F",
        f"organs={organ}",
        f"{base_url}/v2/identify/all?include-related-images=false&no-reject=false&lang=en&api-key={key}{query}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    body, _, code = output.rpartition("\n")
    return int(code), json.loads(body)


def test_a_python_client_request_gets_plantnets_response_shape(
    live_server, key, user, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 0.0)  # whatever the tiny model answers counts as identified
    response = python_client(live_server.url, key, photos, ["flower", "leaf"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["query"]["project"] == "all"
    assert result["query"]["organs"] == ["flower", "leaf"]
    assert len(result["query"]["images"]) == 2
    assert result["query"]["includeRelatedImages"] is False and result["query"]["noReject"] is False
    assert result["language"] == "en"
    assert result["preferedReferential"] == "all"
    assert result["version"] == active_model.name
    assert isinstance(result["remainingIdentificationRequests"], int)
    assert [organ["organ"] for organ in result["predictedOrgans"]] == ["flower", "leaf"]
    identification = Identification.objects.get(owner=user)
    candidates = list(identification.candidates.all())
    assert [r["species"]["scientificNameWithoutAuthor"] for r in result["results"]] == [
        c.display_name for c in candidates
    ]
    assert [r["score"] for r in result["results"]] == pytest.approx([c.probability for c in candidates], abs=1e-5)
    assert result["bestMatch"] == result["results"][0]["species"]["scientificName"]
    species = result["results"][0]["species"]
    assert species["genus"]["scientificNameWithoutAuthor"] == species["scientificNameWithoutAuthor"].split()[0]
    assert set(species["family"]) == {"scientificNameWithoutAuthor", "scientificNameAuthorship", "scientificName"}
    assert species["commonNames"] == []
    assert "images" not in result["results"][0]


def test_the_identification_is_kept_in_the_users_history(live_server, key, user, photos, active_model, module_worker):
    response = python_client(live_server.url, key, photos[:1], ["flower"], **{"no-reject": "true"})
    assert response.status_code == 200, response.text
    identification = Identification.objects.get(owner=user)
    assert identification.status == "done"
    assert [photo.organ for photo in identification.photos.all()] == ["flower"]
    assert response.headers["Location"].endswith(f"/api/identifications/{identification.public_id}/")


def set_nothing_is_a_plant(version) -> None:
    """Give a registered model a 'not a plant' probe that finds no plant in any photo (P(plant) ~ 0)."""
    import timm

    from plantml.checkpoint import load_checkpoint, write_payload
    from plantml.open_set import Calibration, PlantProbe

    payload = load_checkpoint(version.checkpoint_path)
    features = timm.create_model(version.architecture, pretrained=False, num_classes=0).num_features
    probe = PlantProbe(weight=[0.0] * features, bias=-20.0)
    payload["spec"]["calibration"] = Calibration(threshold=0.5, plant_probe=probe).to_dict()
    write_payload(version.checkpoint_path, payload)
    versions.checkpoint_rewritten(version)


def test_not_a_plant_answers_404_species_not_found_to_curl(
    live_server, key, photos, active_model, module_worker, settings
):
    set_nothing_is_a_plant(active_model)
    code, body = curl_client(live_server.url, key, photos[0], "leaf")
    assert (code, body) == (404, {"statusCode": 404, "error": "Not Found", "message": "Species not found"})
    assert Identification.objects.get().reason == "not_a_plant"


def test_a_plant_of_a_species_the_model_does_not_know_is_answered_with_its_low_scores(
    live_server, key, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 1.0)  # the untrained model never reaches it: every plant is "no match"
    code, body = curl_client(live_server.url, key, photos[0], "leaf")
    assert code == 200, body
    assert Identification.objects.get().outcome == "no_match"
    assert len(body["results"]) == active_model.num_classes
    assert all(result["score"] < 1.0 for result in body["results"])


def test_no_reject_answers_200_with_the_candidates_even_without_a_match(
    live_server, key, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 1.0)
    response = python_client(live_server.url, key, photos[:1], ["auto"], **{"no-reject": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["query"]["noReject"] is True
    assert len(response.json()["results"]) == active_model.num_classes  # 3 classes, fewer than RECOGNITION_TOP_K


def test_nb_results_and_related_images_shape_the_results(
    live_server, key, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 0.0)
    params = {"nb-results": 2, "include-related-images": "true", "lang": "zh"}
    response = python_client(live_server.url, key, photos[:1], ["flower"], **params)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["results"]) == 2
    assert all(item["images"] == [] for item in result["results"])
    assert result["language"] == "zh" and result["query"]["includeRelatedImages"] is True


def test_a_named_project_is_answered_by_that_model(
    live_server, key, photos, active_model, tiny_checkpoint, module_worker, settings
):
    other = versions.register_checkpoint(tiny_checkpoint, name="second-opinion", activate=False)
    set_threshold(other, 0.0)
    response = python_client(live_server.url, key, photos[:1], ["flower"], project=other.name)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == other.name
    assert Identification.objects.get().model_version == other


def test_past_the_wait_bound_the_answer_is_504_with_the_identifications_url(
    live_server, key, photos, active_model, settings
):
    # no wait at all: the module's worker (started by earlier tests) cannot answer between queueing and the check
    settings.RECOGNITION_PLANTNET_WAIT_SECONDS = 0
    response = python_client(live_server.url, key, photos[:1], ["flower"])
    assert response.status_code == 504
    identification = Identification.objects.get()
    assert response.json()["statusCode"] == 504
    assert f"/api/identifications/{identification.public_id}/" in response.json()["message"]
    assert response.headers["Location"].endswith(f"/api/identifications/{identification.public_id}/")


@pytest.mark.parametrize(
    ("query", "organs", "status", "message"),
    [
        ("", ["flower", "leaf"], 401, "Missing API key"),
        ("api-key=wrong", ["flower", "leaf"], 401, "Invalid API key"),
        ("nb-results=0", ["flower", "leaf"], 400, "nb-results must be a whole number of 1 or more"),
        ("lang=not+a+language", ["flower", "leaf"], 400, "lang 'not a language' is not a language code"),
        ("no-reject=maybe", ["flower", "leaf"], 400, "no-reject must be true or false"),
        ("", ["flower", "stem"], 400, "Unknown organ stem"),
        ("", ["flower"], 400, "send one organ per image"),
        ("", ["habit", "other"], 400, "habit and other only go beside"),
    ],
)
def test_bad_requests_get_plantnets_error_shape(live_server, key, photos, active_model, query, organs, status, message):
    if "api-key" not in query and status != 401:
        query = f"api-key={key}&{query}"
    endpoint = f"{live_server.url}/v2/identify/all?{query}"
    files = [("images", (path.name, path.read_bytes(), "image/jpeg")) for path in photos]
    response = requests.post(endpoint, files=files, data={"organs": organs}, timeout=60)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status and body["error"] == ("Unauthorized" if status == 401 else "Bad Request")
    assert message in body["message"]
    assert not Identification.objects.exists()


def test_a_file_that_is_not_an_image_is_a_400_naming_it(live_server, key, active_model):
    files = [("images", ("notes.txt", b"not a photo", "text/plain"))]
    response = requests.post(f"{live_server.url}/v2/identify/all?api-key={key}", files=files, timeout=60)
    assert response.status_code == 400
    assert "notes.txt is not an image" in response.json()["message"]


def test_a_one_by_six_thousand_png_is_a_400_that_names_the_shape(live_server, key, active_model):
    files = [("images", ("strip.png", image_bytes("PNG", size=(1, 6000)), "image/png"))]
    response = requests.post(f"{live_server.url}/v2/identify/all?api-key={key}", files=files, timeout=60)
    assert response.status_code == 400
    assert "1 x 6000 pixels" in response.json()["message"]
    assert not Identification.objects.exists()


def test_a_request_beyond_the_users_waiting_bound_is_a_429_at_once_storing_nothing(
    live_server, key, user, active_model, settings
):
    settings.RECOGNITION_PLANTNET_WAITS_PER_USER = 1
    settings.RECOGNITION_PLANTNET_WAIT_SECONDS = 12
    files = [("images", ("leaf.jpg", jpeg((200, 30, 40)), "image/jpeg"))]
    with wait_slot(user.pk, 12):  # one request of this user already waits for the worker
        started = time.monotonic()
        response = requests.post(f"{live_server.url}/v2/identify/all?api-key={key}", files=files, timeout=60)
        took = time.monotonic() - started
    assert response.status_code == 429 and took < 5
    assert response.json()["error"] == "Too Many Requests" and "waiting" in response.json()["message"]
    assert response.headers["Retry-After"] == "12"
    assert not Identification.objects.exists()


def test_once_the_waiting_request_is_answered_the_next_one_is_taken(live_server, key, user, active_model, settings):
    settings.RECOGNITION_PLANTNET_WAITS_PER_USER = 1
    settings.RECOGNITION_PLANTNET_WAIT_SECONDS = 1  # no worker needed: a 504 is an answer that took the slot
    files = [("images", ("leaf.jpg", jpeg((200, 30, 40)), "image/jpeg"))]
    with wait_slot(user.pk, 12):
        pass
    statuses = [
        requests.post(f"{live_server.url}/v2/identify/all?api-key={key}", files=files, timeout=60).status_code
        for _ in range(2)
    ]
    assert 429 not in statuses and Identification.objects.count() == 2


def test_an_unknown_project_is_a_404_pointing_at_the_project_list(live_server, key, photos, active_model):
    response = python_client(live_server.url, key, photos[:1], ["flower"], project="mars-flora")
    assert response.status_code == 404
    assert "GET /v2/projects" in response.json()["message"]


def test_over_the_total_size_limit_is_a_413(live_server, key, photos, active_model, settings):
    settings.RECOGNITION_PLANTNET_MAX_REQUEST_BYTES = 1000  # the photos are a few kB together
    response = python_client(live_server.url, key, photos, ["flower", "leaf"])
    assert response.status_code == 413
    assert response.json()["error"] == "Request Entity Too Large"
    assert not Identification.objects.exists()


def test_over_the_quota_is_a_429(live_server, key, photos, active_model, settings):
    settings.RECOGNITION_UPLOAD_RATE = "1/hour"
    settings.RECOGNITION_PLANTNET_WAIT_SECONDS = 0.1  # the first one need not be answered
    python_client(live_server.url, key, photos[:1], ["flower"])
    response = python_client(live_server.url, key, photos[:1], ["flower"])
    assert response.status_code == 429
    assert response.json()["statusCode"] == 429 and response.json()["error"] == "Too Many Requests"
    assert Identification.objects.count() == 1


def test_remaining_requests_count_down_with_the_upload_throttle(
    live_server, key, photos, active_model, module_worker, settings
):
    settings.RECOGNITION_UPLOAD_RATE = "10/hour"
    set_threshold(active_model, 0.0)
    first = python_client(live_server.url, key, photos[:1], ["flower"]).json()
    second = python_client(live_server.url, key, photos[:1], ["flower"]).json()
    assert (first["remainingIdentificationRequests"], second["remainingIdentificationRequests"]) == (9, 8)


def test_projects_lists_all_and_every_model_with_its_species_count(live_server, key, active_model, tiny_checkpoint):
    versions.register_checkpoint(tiny_checkpoint, name="second-opinion", activate=False)
    response = requests.get(f"{live_server.url}/v2/projects?api-key={key}", timeout=30)
    assert response.status_code == 200
    projects = {project["id"]: project for project in response.json()}
    assert set(projects) == {"all", active_model.name, "second-opinion"}
    assert all(set(p) == {"id", "title", "description", "speciesCount"} for p in projects.values())
    assert projects["all"]["speciesCount"] == 3


def test_projects_without_a_key_is_a_401(live_server):
    response = requests.get(f"{live_server.url}/v2/projects", timeout=30)
    assert response.status_code == 401 and response.json()["error"] == "Unauthorized"


def test_without_an_active_model_all_is_a_503_in_plantnets_shape(live_server, key, photos):
    response = python_client(live_server.url, key, photos[:1], ["flower"])
    assert response.status_code == 503
    assert response.json()["error"] == "Service Unavailable"


def test_results_carry_the_models_species_facts_and_gbif_id(
    live_server, key, photos, species_model, module_worker, settings
):
    settings.RECOGNITION_CONFIDENCE_THRESHOLD = 0.0
    response = python_client(live_server.url, key, photos[:1], ["flower"], lang="zh")
    assert response.status_code == 200, response.text
    rosa = next(r for r in response.json()["results"] if r["species"]["scientificNameWithoutAuthor"] == "Rosa canina")
    assert rosa["species"]["scientificName"] == "Rosa canina L." and rosa["species"]["scientificNameAuthorship"] == "L."
    assert rosa["species"]["genus"]["scientificName"] == "Rosa"
    assert rosa["species"]["family"]["scientificName"] == "Rosaceae"
    assert rosa["species"]["commonNames"] == ["犬蔷薇"]
    assert rosa["gbif"] == {"id": "8395064"}


def test_related_images_open_without_a_key_and_not_for_another_image_nor_after_expiry(
    live_server, key, photos, species_model, module_worker, settings
):
    settings.RECOGNITION_CONFIDENCE_THRESHOLD = 0.0
    response = python_client(live_server.url, key, photos[:1], ["flower"], **{"include-related-images": "true"})
    assert response.status_code == 200, response.text
    images = response.json()["results"][0]["images"]
    assert len(images) == 2
    assert set(images[0]) == {"organ", "author", "license", "date", "citation", "url"}
    assert set(images[0]["url"]) == {"o", "m", "s"}
    first, second = images[0]["url"]["o"], images[1]["url"]["o"]
    assert "api-key" not in first and key not in first
    photo = requests.get(first, timeout=30)  # as an <img src> would: no key
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    other_photo = second.split("?")[0] + "?" + first.split("?")[1]  # the first one's signature on the second
    assert requests.get(other_photo, timeout=30).status_code == 401  # a failed credential, as a bad token
    settings.RECOGNITION_IMAGE_URL_SECONDS = 1
    time.sleep(2.1)
    expired = requests.get(first, timeout=30)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


def test_query_images_are_the_users_photos_opened_without_a_key(
    live_server, key, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 0.0)
    response = python_client(live_server.url, key, photos[:1], ["flower"])
    image = response.json()["query"]["images"][0]
    assert response.json()["predictedOrgans"][0]["image"] == image
    photo = requests.get(image, timeout=30)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"


def test_lang_fr_answers_scientific_names_without_common_names_the_facts_lack(
    live_server, key, photos, species_model, module_worker, settings
):
    settings.RECOGNITION_CONFIDENCE_THRESHOLD = 0.0
    response = python_client(live_server.url, key, photos[:1], ["flower"], lang="fr")
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "fr"
    rosa = next(r for r in response.json()["results"] if r["species"]["scientificNameWithoutAuthor"] == "Rosa canina")
    assert rosa["species"]["scientificName"] == "Rosa canina L." and rosa["species"]["commonNames"] == []


def test_lang_en_answers_the_english_common_name(live_server, key, photos, species_model, module_worker, settings):
    settings.RECOGNITION_CONFIDENCE_THRESHOLD = 0.0
    response = python_client(live_server.url, key, photos[:1], ["flower"], lang="en")
    rosa = next(r for r in response.json()["results"] if r["species"]["scientificNameWithoutAuthor"] == "Rosa canina")
    assert rosa["species"]["commonNames"] == ["dog rose"]


def test_organs_in_the_query_string_are_used_when_the_form_has_none(
    live_server, key, photos, active_model, module_worker, settings
):
    set_threshold(active_model, 0.0)
    endpoint = f"{live_server.url}/v2/identify/all?api-key={key}&organs=flower&organs=leaf"
    files = [("images", (path.name, path.read_bytes(), "image/jpeg")) for path in photos]
    response = requests.post(endpoint, files=files, timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["query"]["organs"] == ["flower", "leaf"]
    assert [photo.organ for photo in Identification.objects.get().photos.order_by("pk")] == ["flower", "leaf"]


def test_refused_requests_do_not_use_up_the_quota(live_server, key, photos, active_model, module_worker, settings):
    settings.RECOGNITION_UPLOAD_RATE = "10/hour"
    set_threshold(active_model, 0.0)
    refused = python_client(live_server.url, key, photos, ["flower"])  # one organ for two images: a 400
    assert refused.status_code == 400
    daily = requests.get(f"{live_server.url}/v2/quota/daily?api-key={key}", timeout=30).json()
    assert daily["count"] == {"identify": 0}
    accepted = python_client(live_server.url, key, photos[:1], ["flower"])
    assert accepted.json()["remainingIdentificationRequests"] == 9
    assert accepted.headers["RateLimit"].startswith('"identify";r=9;')
    assert accepted.headers["RateLimit-Policy"] == '"identify";q=10;w=3600'


def test_get_identify_is_a_json_405_saying_how_to_turn_remote_images_on(live_server, key, active_model):
    url = f"{live_server.url}/v2/identify/all?api-key={key}&images=https://example.org/a.jpg&organs=leaf"
    response = requests.get(url, timeout=30)
    assert response.status_code == 405
    assert (
        response.json()["error"] == "Method Not Allowed" and "RECOGNITION_REMOTE_IMAGES" in response.json()["message"]
    )


@pytest.fixture
def image_server(photos):
    """A local HTTP server that serves the first photo at /flower.jpg."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (photos[0].parent / "flower.jpg").write_bytes(photos[0].read_bytes())
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(photos[0].parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_get_identify_fetches_the_photo_from_its_url_when_remote_images_are_on(
    live_server, key, active_model, module_worker, settings, image_server
):
    settings.RECOGNITION_REMOTE_IMAGES = True
    settings.RECOGNITION_REMOTE_IMAGE_PRIVATE_HOSTS = ["127.0.0.1"]  # this test's own server
    set_threshold(active_model, 0.0)
    url = f"{live_server.url}/v2/identify/all"
    params = {"api-key": key, "images": f"{image_server}/flower.jpg", "organs": "flower"}
    response = requests.get(url, params=params, timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["query"]["organs"] == ["flower"] and response.json()["results"]
    assert response.json()["predictedOrgans"][0]["filename"] == "flower.jpg"


def test_get_identify_refuses_a_private_address(live_server, key, active_model, settings, image_server):
    settings.RECOGNITION_REMOTE_IMAGES = True  # and no host allowed to be private, as by default
    params = {"api-key": key, "images": f"{image_server}/flower.jpg"}
    response = requests.get(f"{live_server.url}/v2/identify/all", params=params, timeout=60)
    assert response.status_code == 400
    assert "private or local address" in response.json()["message"]
    assert not Identification.objects.exists()
