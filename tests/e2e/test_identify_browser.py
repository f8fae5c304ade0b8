"""Chromium builds up photos, is refused without losing them, and gets its answer in place through a real worker."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.e2e.pages import sign_up
from tests.recognition.conftest import set_threshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plant_photo(flowers5):
    """A real flowers5 photo; without the data set the test skips (an allowed skip, tests/skips.py), never
    quietly uploading a generated image instead: generated photos are the other tests' make_photos."""
    return sorted((flowers5 / "test").glob("*/*.jpg"))[0]


def make_photos(folder, count: int) -> list:
    """Write ``count`` small distinct JPEG photos into ``folder`` and return their paths."""
    paths = []
    for index in range(count):
        path = folder / f"shot-{index + 1}.jpg"
        Image.new("RGB", (96, 80), (40 * index % 255, 140, 60)).save(path, format="JPEG")
        paths.append(path)
    return paths


def chosen(page):
    return page.get_by_test_id("chosen-photo")


def test_identify_a_real_photo_in_chromium(page, six_class_model, plant_photo, celery_worker):
    set_threshold(six_class_model, 0.0)  # the untrained model's answer counts as identified: candidates shown
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")

    page.click("nav >> text=Identify")
    page.wait_for_load_state()
    page.set_input_files("input#id_images", str(plant_photo))
    chosen(page).locator("select").select_option("flower")
    page.click("#identify-form >> button[type=submit]")

    page.locator("#result[data-status=done]").wait_for(timeout=120_000)
    names = page.locator("a.candidate-name")
    assert 1 <= names.count() <= 5  # the top five, less those under 1%
    for i in range(names.count()):
        href = names.nth(i).get_attribute("href")
        assert href.startswith("https://en.wikipedia.org/w/index.php?search="), href
        assert names.nth(i).inner_text() in href.replace("+", " ")
    best = names.first.inner_text()
    assert page.locator(".photos img").first.evaluate("img => img.naturalWidth") > 0
    assert "Six garden flowers" in page.get_by_test_id("answer-facts").inner_text()

    page.click("main >> text=History")
    row = page.get_by_test_id("history-row")
    assert row.count() == 1 and best in row.inner_text()

    row.locator("text=Delete").click()
    page.click("main form >> button.danger")
    assert page.get_by_test_id("history-row").count() == 0
    assert re.search("deleted", page.locator(".messages").inner_text())


def test_three_camera_shots_add_up_and_one_can_be_removed(screen_page, six_class_model, tmp_path):
    from recognition.models import Identification

    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    if page.screen.phone:
        assert page.locator("button[data-opens=camera-input]").is_visible()
    for shot, organ in zip(make_photos(tmp_path, 3), ["leaf", "flower", "bark"]):
        page.set_input_files("#camera-input", str(shot))
        chosen(page).last.locator("select").select_option(organ)
    assert chosen(page).count() == 3

    chosen(page).nth(1).locator("button.remove").click()
    assert chosen(page).count() == 2
    assert [chosen(page).nth(i).locator("select").input_value() for i in range(2)] == ["leaf", "bark"]

    page.click("#identify-button")
    page.wait_for_url(re.compile(r"/identifications/[0-9a-f-]{36}/$"))
    identification = Identification.objects.get()
    assert list(identification.photos.values_list("organ", flat=True)) == ["leaf", "bark"]


def test_a_sixth_photo_is_refused_beside_it_and_the_five_stay(screen_page, six_class_model, tmp_path):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    photos = make_photos(tmp_path, 6)
    page.set_input_files("#id_images", [str(path) for path in photos[:5]])
    page.set_input_files("#id_images", str(photos[5]))

    assert chosen(page).count() == 6
    assert chosen(page).nth(5).locator(".error").is_visible()
    assert page.locator("#chosen li.refused").count() == 1

    chosen(page).first.locator("button.remove").click()  # room again: the sixth now fits
    assert page.locator("#chosen li.refused").count() == 0 and chosen(page).count() == 5


def test_a_refusal_by_the_server_keeps_every_photo_and_organ(screen_page, six_class_model, tmp_path):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    good = make_photos(tmp_path, 2)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a JPEG")
    page.set_input_files("#id_images", [str(path) for path in good] + [str(broken)])
    chosen(page).first.locator("select").select_option("fruit")

    page.click("#identify-button")
    page.locator("#form-errors p").first.wait_for()
    assert page.url.endswith("/identify/")
    assert chosen(page).count() == 3
    assert chosen(page).first.locator("select").input_value() == "fruit"


def test_identify_without_a_photo_says_what_to_do(screen_page, six_class_model):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    page.click("#identify-button")
    assert page.locator("#form-errors").is_visible()
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert page.url.endswith("/identify/")


def test_the_answer_renders_in_place_announced_and_focused(screen_page, six_class_model, tmp_path, celery_worker):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    page.set_input_files("#id_images", str(make_photos(tmp_path, 1)[0]))
    page.click("#identify-button")
    page.wait_for_url(re.compile(r"/identifications/[0-9a-f-]{36}/$"))
    page.evaluate("window.stillTheSamePage = true")

    page.locator("#result[data-status=done]").wait_for(timeout=120_000)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    page.wait_for_function("() => document.activeElement.hasAttribute('data-answer')")
    answer = page.locator("[data-answer]").inner_text().strip()
    assert page.locator("#result-announcer").inner_text().strip() == answer
    heading = page.locator("h1").inner_text()  # names the answer, and so does the title
    assert answer and heading not in ("", "Identifying…", "正在识别…") and page.title().startswith(heading)


def test_without_javascript_the_plain_form_and_a_refreshing_page_give_the_answer(
    browser, live_server, six_class_model, tmp_path, celery_worker
):
    from tests.e2e.conftest import DESKTOP_EN, open_page

    page = open_page(browser, live_server, DESKTOP_EN, javascript=False)
    try:
        sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
        page.goto("/identify/")
        assert page.locator("#camera-input").is_hidden()
        for row, path in enumerate(make_photos(tmp_path, 2), start=1):
            page.set_input_files(f"#id_photo_{row}", str(path))
            page.select_option(f"#id_organ_{row}", "leaf")
        page.click("#identify-button")
        page.wait_for_url(re.compile(r"/identifications/[0-9a-f-]{36}/$"))
        page.locator("#result[data-status=done]").wait_for(timeout=120_000)  # the page refreshes itself
        assert 1 <= page.locator("a.candidate-name").count() <= 5  # the top five, less those under 1%
    finally:
        page.context.close()


def test_the_species_page_lists_and_searches_what_the_model_knows(screen_page, six_class_model):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    page.get_by_test_id("species-count").get_by_role("link").click()
    species = page.get_by_test_id("species").locator("li")
    assert species.count() == 6
    assert "Six garden flowers" in page.locator("main").inner_text()
    assert re.search(r"\b40\b", species.filter(has_text="Bellis perennis").inner_text())

    page.fill("main input[name=q]", "rosa")
    page.click("main form[role=search] >> button")
    assert species.count() == 1 and "Rosa canina" in species.inner_text()


def test_a_deleted_identification_answers_with_the_sites_translated_404(screen_page, six_class_model):
    page = screen_page
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    response = page.goto("/identifications/999999/")
    assert response.status == 404
    assert page.get_by_test_id("not-found").is_visible()
    assert page.locator("header nav a[href$='/history/']").count() == 1
    if page.screen.locale.startswith("zh"):
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert "Page not found" not in page.title()
