"""The most similar reference photos: a real worker ranks each candidate's reference photos by likeness to the
user's photo (pooled features, cosine) and the API lists them best first."""

from __future__ import annotations

import pytest
import requests
from PIL import Image, ImageDraw
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ml import reference_photos
from plantml.predictor import Predictor
from plantml.references import reference_sources, save_reference_features, write_reference_photos

from .conftest import upload, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)
PER_CLASS = 4


def distinct_photo(path, seed: int) -> None:
    """Write a 96 px JPEG of its own colours and stripes, unlike the photo of any other seed."""
    image = Image.new("RGB", (96, 96), ((seed * 67) % 256, (seed * 151) % 256, (seed * 29) % 256))
    draw = ImageDraw.Draw(image)
    for stripe in range(seed % 5 + 1):
        draw.rectangle([stripe * 18, 0, stripe * 18 + 8, 95], fill=((seed * 13) % 256, 255 - (seed * 41) % 256, 90))
    image.save(path, quality=95)


@pytest.fixture
def model_with_features(active_model, tmp_path):
    """The active tiny model with PER_CLASS reference photos per class and their features, as train leaves them."""
    samples = []
    for index, name in enumerate(active_model.class_names):
        (tmp_path / "train" / name).mkdir(parents=True)
        for n in range(PER_CLASS):
            path = tmp_path / "train" / name / f"{n}.jpg"
            distinct_photo(path, index * PER_CLASS + n)
            samples.append((path, index))
    folder = tmp_path / "references"
    write_reference_photos(samples, active_model.num_classes, folder, per_class=PER_CLASS)
    sources = reference_sources(folder)
    predictor = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")
    images = [predictor.open_image(path) for _, _, path in sources]
    features = predictor.outputs(images)[1].numpy()
    save_reference_features(folder, [i for i, _, _ in sources], [n for _, n, _ in sources], features)
    reference_photos.copy_references(folder, active_model)
    return active_model, sources


def test_a_users_photo_of_a_class_gets_that_photo_first_among_the_classes_reference_photos(
    model_with_features, module_worker, user
):
    version, sources = model_with_features
    index, number, path = next(source for source in sources if source[:2] == (1, 3))  # rosa_canina's photo 3
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = api.post("/api/identifications/", {"images": [upload(path.read_bytes())]}, format="multipart")
    assert response.status_code == 202, response.content
    assert wait_until_finished(response.json()["id"]).status == "done"
    body = api.get(f"/api/identifications/{response.json()['id']}/").json()
    rosa = next(candidate for candidate in body["candidates"] if candidate["label"] == version.class_names[index])
    urls = rosa["reference_photos"]
    assert urls[0].endswith(f"/references/{index}/{number}/")
    assert sorted(url.rstrip("/").rsplit("/", 1)[1] for url in urls) == [str(n) for n in range(1, PER_CLASS + 1)]
    others = [candidate for candidate in body["candidates"] if candidate["label"] != rosa["label"]]
    assert all(len(candidate["reference_photos"]) == PER_CLASS for candidate in others)


def test_the_plantnet_api_lists_the_most_similar_reference_photo_first(
    model_with_features, module_worker, user, live_server, settings
):
    settings.RECOGNITION_CONFIDENCE_THRESHOLD = 0.0  # every candidate is a result, whatever the untrained model says
    version, sources = model_with_features
    index, number, path = next(source for source in sources if source[:2] == (2, 2))  # helianthus' photo 2
    key = Token.objects.create(user=user).key
    with open(path, "rb") as photo:
        response = requests.post(
            f"{live_server.url}/v2/identify/all",
            params={"api-key": key, "include-related-images": "true"},
            files=[("images", (path.name, photo, "image/jpeg"))],
            data={"organs": ["auto"]},
            timeout=120,
        )
    assert response.status_code == 200, response.text
    names = [result["species"]["scientificNameWithoutAuthor"] for result in response.json()["results"]]
    result = response.json()["results"][names.index(version.display_names[index])]  # the model has no facts
    assert result["images"][0]["url"]["o"].endswith(f"/references/{index}/{number}/")
