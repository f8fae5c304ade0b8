"""Chromium shows both outcomes of a model trained in this session: a flower identified with its calibrated
probability and reference photos, a photo of no plant answered "no match: not a plant" with candidates collapsed."""

from __future__ import annotations

import pytest

from tests.e2e.pages import serious_violations, sign_up
from tests.trained_model import MIN_NOT_A_PLANT

BROWSER_NONPLANTS = 4  # the first held-out photos of no plant, in folder order

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(1500)]


def _identify(page, photo) -> None:
    page.goto("/identify/")
    page.set_input_files("#id_images", str(photo))
    page.click("#identify-button")
    page.locator("#result[data-status=done]").wait_for(timeout=120_000)


def test_a_known_flower_is_identified_with_reference_photos(page, trained_model, active_trained, celery_worker):
    label, photo = next((label, path) for label, path in trained_model.examples.items() if path is not None)
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    _identify(page, photo)
    verdict = page.get_by_test_id("identified")
    assert verdict.is_visible() and label in verdict.inner_text()
    first = page.get_by_test_id("candidate").first
    references = first.get_by_test_id("references").locator("img")
    assert references.count() >= 1
    references.first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=references.first.element_handle())
    assert page.get_by_test_id("no-match").count() == 0
    assert serious_violations(page) == []


def test_a_photo_of_no_plant_is_no_match_with_the_candidates_collapsed(
    page, trained_model, active_trained, celery_worker
):
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    photos = trained_model.nonplants[:BROWSER_NONPLANTS]  # chosen by folder, not by what the model answers
    not_a_plant = 0
    for photo in photos:
        _identify(page, photo)
        notice = page.get_by_test_id("no-match")
        if notice.count() == 0 or notice.get_attribute("data-reason") != "not_a_plant":
            continue
        not_a_plant += 1
        assert "does not look like a plant" in notice.inner_text()
        candidates = page.get_by_test_id("collapsed-candidates").get_by_test_id("candidate")
        assert candidates.count() >= 1 and not candidates.first.is_visible()
        page.get_by_text("Show the closest candidates anyway").click()
        assert candidates.first.is_visible()
        assert serious_violations(page) == []
    assert not_a_plant >= MIN_NOT_A_PLANT * len(photos), f"{not_a_plant} of {len(photos)} shown as not a plant"
