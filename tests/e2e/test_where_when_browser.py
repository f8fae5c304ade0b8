"""Chromium, phone in Chinese and desktop in English: a photo's date and place on the result and history pages,
with the OpenStreetMap link, only while the account keeps the location of its photos."""

from __future__ import annotations

import re

import pytest

from tests.e2e.pages import serious_violations, sign_up
from tests.exif_photos import exif_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP = "https://www.openstreetmap.org/?mlat=48.858233&mlon=2.294500#map=16/48.858233/2.294500"


def _set_keep_location(page, keep: bool) -> None:
    page.goto("/accounts/")
    box = page.locator("#id_keep_photo_location")
    assert box.is_visible()
    box.set_checked(keep)
    page.locator("[data-testid=preferences] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#id_keep_photo_location").is_checked() == keep
    assert page.locator(".messages").count() == 1


def _upload(page, photo) -> None:
    page.goto("/identify/")
    page.set_input_files("input#id_images", str(photo))
    page.click("#identify-form >> button[type=submit]")
    page.wait_for_url(re.compile(r"/identifications/[0-9a-f-]{36}/$"))


def _assert_large_enough_on_touch(page, locator) -> None:
    if page.screen.phone:
        box = locator.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box


def test_the_date_and_place_of_a_photo_with_the_setting_on_and_off(screen_page, six_class_model, tmp_path):
    page = screen_page
    photo = tmp_path / "field.jpg"
    photo.write_bytes(exif_jpeg())
    sign_up(page, "sylvia", "sylvia@example.org", "Meadow-Sage-4417")

    page.goto("/accounts/")
    assert not page.locator("#id_keep_photo_location").is_checked()  # off by default
    _assert_large_enough_on_touch(page, page.locator("#id_keep_photo_location"))
    _assert_large_enough_on_touch(page, page.locator("[data-testid=preferences] button[type=submit]"))
    assert serious_violations(page) == []
    _set_keep_location(page, True)

    _upload(page, photo)
    shown = page.get_by_test_id("where-when")
    assert "2026" in shown.inner_text() and "48.85823, 2.29450" in shown.inner_text()
    link = page.get_by_test_id("map-link")
    assert link.get_attribute("href") == MAP
    _assert_large_enough_on_touch(page, link)
    assert serious_violations(page) == []
    result_url = page.url

    page.goto("/history/")
    row = page.get_by_test_id("history-row")
    assert row.get_by_test_id("map-link").get_attribute("href") == MAP
    assert "2026" in row.get_by_test_id("taken-at").inner_text()
    _assert_large_enough_on_touch(page, row.get_by_test_id("map-link"))
    assert serious_violations(page) == []

    # off again: the place kept so far is gone from the pages; the date stays
    _set_keep_location(page, False)
    page.goto(result_url)
    assert page.get_by_test_id("map-link").count() == 0 and page.get_by_test_id("taken-at").is_visible()
    _upload(page, photo)
    assert page.get_by_test_id("map-link").count() == 0 and page.get_by_test_id("taken-at").is_visible()
