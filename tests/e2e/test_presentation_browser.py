"""Chromium shows answers honestly with a model trained in this session and a real worker: how sure in words with
whole percentages, a no-match filed in the history under "No match" (never under a species), and the feedback
"none of these" kept with the identification."""

from __future__ import annotations

import re

import pytest

from tests.e2e.pages import serious_violations, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(1500)]

CERTAINTY_WORDS = ("very likely", "likely", "possibly", "unlikely")


def _identify(page, photo) -> str:
    """Upload ``photo``, wait for the worker's answer and return the identification's public id (in its URL)."""
    page.goto("/identify/")
    page.set_input_files("#id_images", str(photo))
    page.click("#identify-button")
    page.locator("#result[data-status=done]").wait_for(timeout=120_000)
    return re.search(r"/identifications/([0-9a-f-]{36})/", page.url).group(1)


def test_an_identified_flower_reads_its_certainty_in_words_with_whole_percentages(
    page, trained_model, active_trained, celery_worker
):
    label, photo = next((label, path) for label, path in trained_model.examples.items() if path is not None)
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    _identify(page, photo)
    verdict = page.get_by_test_id("identified")
    assert verdict.get_attribute("data-certainty") in ("very_likely", "likely", "possibly", "unlikely")
    assert re.match(r"(Very likely|Likely|Possibly|Unlikely): .+ \((\d{1,3}|<1)%\)$", verdict.inner_text()), (
        verdict.inner_text()
    )
    words = page.get_by_test_id("certainty").all_inner_texts()
    assert words and set(words) <= set(CERTAINTY_WORDS)
    percents = page.locator(".candidates .percent").all_inner_texts()
    assert all(re.fullmatch(r".* · (\d{1,3}|<1)%", text) for text in percents), percents
    assert not any(text.endswith(" 0%") for text in percents)
    page.goto("/history/")
    assert page.get_by_test_id("history-certainty").first.inner_text().split(" · ")[0] in CERTAINTY_WORDS
    assert serious_violations(page) == []


def test_a_no_match_is_filed_under_no_match_and_none_of_these_is_kept(
    page, trained_model, active_trained, celery_worker
):
    from recognition.models import Identification

    assert trained_model.nonplant_example is not None, "no held-out photo of no plant was answered 'not a plant'"
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    public_id = _identify(page, trained_model.nonplant_example)
    closest = Identification.objects.get(public_id=public_id).best.display_name
    notice = page.get_by_test_id("no-match")
    count = notice.get_by_test_id("species-count")
    assert f"This model knows {active_trained.num_classes} species" in count.inner_text()

    page.get_by_label("None of these").check()
    page.get_by_role("button", name="Save my answer").click()
    assert page.get_by_test_id("feedback").inner_text() == "Your answer: None of these"
    stored = Identification.objects.get(public_id=public_id)
    assert (stored.feedback_verdict, stored.feedback_label, stored.feedback_text) == ("none_of_these", "", "")
    assert serious_violations(page) == []

    page.goto("/history/")
    row = page.locator(f"[data-testid=history-row][data-id='{public_id}']")
    assert row.get_by_test_id("history-no-match").inner_text() == "No match: not a plant"
    assert closest not in row.inner_text()
    assert "your answer: None of these" in row.inner_text()
    assert serious_violations(page) == []

    page.get_by_role("searchbox").fill(closest)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"\?q="))
    assert page.locator(f"[data-testid=history-row][data-id='{public_id}']").count() == 0

    page.goto(f"/identifications/{public_id}/")
    page.get_by_test_id("species-count").get_by_role("link").click()
    page.get_by_test_id("not-listed").wait_for()
    assert page.get_by_test_id("species").locator("li").count() == active_trained.num_classes
