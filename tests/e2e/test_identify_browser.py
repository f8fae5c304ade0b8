"""Chromium signs up, identifies a real photo through a real worker, finds it in history and deletes it."""

from __future__ import annotations

import re
import uuid

import pytest
from PIL import Image

from tests.e2e.pages import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLASSES = [
    "bellis_perennis",
    "taraxacum_officinale",
    "rosa_canina",
    "helianthus_annuus",
    "tulipa_gesneriana",
    "iris_germanica",
]


@pytest.fixture
def six_class_model(settings, tmp_path):
    """An untrained 6-class convnextv2_atto checkpoint, registered and active."""
    import torch

    from ml import registry
    from plantml.checkpoint import ModelSpec, save_checkpoint
    from tests.conftest import random_head

    torch.manual_seed(0)
    names = [name.replace("_", " ").capitalize() for name in CLASSES]
    spec = ModelSpec(architecture="convnextv2_atto", class_names=CLASSES, display_names=names, input_size=64)
    path = save_checkpoint(tmp_path / "six.pt", random_head(spec.build_model()), spec)
    settings.MODELS_DIR = tmp_path / "models"
    return registry.register_checkpoint(path, name=f"six-{uuid.uuid4().hex[:8]}", activate=True)


@pytest.fixture
def plant_photo(tmp_path):
    """A real flowers5 photo when the data set is present, else a generated image."""
    from tests.conftest import DATASETS

    photos = sorted((DATASETS / "flowers5" / "test").glob("*/*.jpg"))
    if photos:
        return photos[0]
    path = tmp_path / "generated.jpg"
    image = Image.new("RGB", (160, 120), (240, 200, 40))
    image.paste((40, 140, 40), (60, 40, 100, 120))
    image.save(path, format="JPEG")
    return path


def test_identify_a_photo_in_chromium(page, six_class_model, plant_photo, celery_worker):
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")

    page.click("nav >> text=Identify")
    page.wait_for_load_state()
    page.set_input_files("input#id_images", str(plant_photo))
    page.locator("#chosen select[name=organs]").select_option("flower")
    page.click("#identify-form >> button[type=submit]")

    result = page.locator("#identification")
    result.and_(page.locator("[data-status=done]")).wait_for(timeout=120_000)
    names = page.locator("a.candidate-name")
    assert names.count() == 5
    for i in range(5):
        href = names.nth(i).get_attribute("href")
        assert href.startswith("https://en.wikipedia.org/w/index.php?search="), href
        assert names.nth(i).inner_text() in href.replace("+", " ")
    best = names.first.inner_text()
    assert page.locator(".photos img").first.evaluate("img => img.naturalWidth") > 0

    page.click("main >> text=History")
    row = page.get_by_test_id("history-row")
    assert row.count() == 1 and best in row.inner_text()

    row.locator("text=Delete").click()
    page.click("main form >> button.danger")
    assert page.get_by_test_id("history-row").count() == 0
    assert re.search("deleted", page.locator(".messages").inner_text())
