"""The result page in Chromium: the user's photo at the top beside the best candidate, reference photos that open
full size (a keyboard-friendly lightbox, a plain link without JavaScript) and a heading that names the answer."""

from __future__ import annotations

import re

import pytest

from plantml.references import THUMBNAIL_PX
from tests.e2e.conftest import DESKTOP_EN, FLOW_SCREENS, PHONE_ZH, Screen, open_page, stored_identification
from tests.e2e.pages import serious_violations, sign_up
from tests.recognition.conftest import with_species_facts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = [("rosa_canina", "Rosa canina", 0.8), ("bellis_perennis", "Bellis perennis", 0.2)]
PHONES = [Screen(360, "en-US"), Screen(360, "zh-CN")]


@pytest.fixture
def model_with_references(six_class_model, tmp_path):
    """The six-class model with species facts and 2 reference photos per class, each THUMBNAIL_PX square."""
    return with_species_facts(six_class_model, tmp_path, photo_size=2 * THUMBNAIL_PX)


def signed_up(browser, live_server, screen, django_user_model, javascript: bool = True):
    """Return a page signed up as a new user on ``screen``, and that user."""
    page = open_page(browser, live_server, screen, javascript=javascript)
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    return page, django_user_model.objects.get(username="linnaeus")


def open_result(page, identification) -> None:
    """Open the result page and wait until the user's photos have loaded (their height comes from the file)."""
    page.goto(f"/identifications/{identification.public_id}/")
    for image in page.get_by_test_id("your-photos").locator("img").element_handles():
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)


@pytest.mark.parametrize("screen", [*PHONES, DESKTOP_EN], ids=str)
def test_the_users_photo_is_at_the_top_beside_the_best_candidate(
    browser, live_server, screen, model_with_references, django_user_model
):
    page, owner = signed_up(browser, live_server, screen, django_user_model)
    try:
        identification = stored_identification(
            owner, [(200, 40, 60), (40, 60, 200)], answer=ANSWER, version=model_with_references
        )
        open_result(page, identification)
        photo = page.get_by_test_id("your-photos").locator("img").first.bounding_box()
        best = page.get_by_test_id("candidate").first.bounding_box()
        screen_height = page.viewport_size["height"]
        assert photo["y"] + photo["height"] <= screen_height and best["y"] < screen_height, (photo, best)
        assert photo["x"] + photo["width"] <= best["x"], f"not side by side: photo {photo}, best {best}"
        assert photo["y"] < best["y"] + best["height"] and best["y"] < photo["y"] + photo["height"], (photo, best)
        assert photo["width"] >= 100, f"the photo is too small to compare: {photo}"
    finally:
        page.context.close()


@pytest.mark.parametrize("screen", [PHONE_ZH, Screen(360, "en-US"), DESKTOP_EN], ids=str)
def test_the_heading_and_title_name_the_answer(browser, live_server, screen, model_with_references, django_user_model):
    from django.utils import translation

    from recognition.models import Identification

    page, owner = signed_up(browser, live_server, screen, django_user_model)
    try:
        version = model_with_references
        done = stored_identification(owner, [(200, 40, 60)], answer=ANSWER, version=version)
        no_match = stored_identification(
            owner, [(90, 90, 90)], answer=ANSWER, version=version, outcome="no_match", reason="not_a_plant"
        )
        pending = stored_identification(owner, [(20, 160, 40)])
        failed = stored_identification(owner, [(20, 40, 160)])
        Identification.objects.filter(pk=failed.pk).update(status=Identification.Status.FAILED, error="Boom.")
        with translation.override("zh-hans" if screen.locale.startswith("zh") else "en"):
            rose = (
                "犬蔷薇 (Rosa canina)" if screen.locale.startswith("zh") else "dog rose (Rosa canina)"
            )  # reader's name
            expected = {
                done: (rose, f"{rose} (80%) · plantsite"),
                no_match: (str(no_match.no_match_title), f"{no_match.no_match_title} · plantsite"),
                pending: (translation.gettext("Identifying…"), f"{translation.gettext('Identifying…')} · plantsite"),
                failed: (
                    translation.gettext("Identification failed"),
                    f"{translation.gettext('Identification failed')} · plantsite",
                ),
            }
        if screen.locale.startswith("zh"):  # the words really are Chinese, not the English fallback
            assert all(not heading.isascii() for heading, _ in expected.values())
        for identification, (heading, title) in expected.items():
            page.goto(f"/identifications/{identification.public_id}/")
            assert page.get_by_test_id("answer-heading").inner_text() == heading
            assert page.locator("h1").count() == 1 and page.title() == title
            assert identification.short_id not in heading
    finally:
        page.context.close()


@pytest.mark.parametrize("screen", FLOW_SCREENS, ids=str)
def test_a_reference_photo_opens_full_size_and_closes_with_the_keyboard(
    browser, live_server, screen, model_with_references, django_user_model
):
    page, owner = signed_up(browser, live_server, screen, django_user_model)
    try:
        identification = stored_identification(owner, [(200, 40, 60)], answer=ANSWER, version=model_with_references)
        open_result(page, identification)
        link = page.get_by_test_id("candidate").first.get_by_test_id("reference-link").first
        href = link.evaluate("a => a.href")
        thumbnail = link.locator("img").bounding_box()
        lightbox = page.get_by_test_id("lightbox")
        assert lightbox.is_hidden()

        link.focus()
        page.keyboard.press("Enter")
        lightbox.wait_for(state="visible")
        image = lightbox.locator("img")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("img => img.currentSrc") == href
        assert image.evaluate("img => img.naturalWidth") == THUMBNAIL_PX  # the whole file, not a smaller copy
        shown = image.bounding_box()
        assert shown["width"] >= THUMBNAIL_PX and shown["width"] >= 2 * thumbnail["width"], (shown, thumbnail)
        assert shown["x"] >= 0 and shown["x"] + shown["width"] <= page.viewport_size["width"]
        assert page.url.endswith(f"/identifications/{identification.public_id}/")  # still on the result page
        assert page.evaluate("document.activeElement.closest('dialog') !== null")  # focus moved into it
        close = lightbox.get_by_role("button").bounding_box()
        assert close["width"] >= 44 and close["height"] >= 44
        assert serious_violations(page) == []

        page.keyboard.press("Escape")
        lightbox.wait_for(state="hidden")
        assert link.evaluate("a => a === document.activeElement"), "focus did not return to the thumbnail"
    finally:
        page.context.close()


def test_without_javascript_a_reference_photo_is_a_link_to_the_full_size_photo(
    browser, live_server, model_with_references, django_user_model
):
    page, owner = signed_up(browser, live_server, PHONE_ZH, django_user_model, javascript=False)
    try:
        identification = stored_identification(owner, [(200, 40, 60)], answer=ANSWER, version=model_with_references)
        page.goto(f"/identifications/{identification.public_id}/")
        link = page.get_by_test_id("candidate").first.get_by_test_id("reference-link").first
        href = link.get_attribute("href")
        assert href == link.locator("img").get_attribute("src")
        link.click()
        page.wait_for_url(re.compile(re.escape(href) + "$"))
        page.wait_for_function("() => document.images.length === 1 && document.images[0].complete")
        assert page.evaluate("document.images[0].naturalWidth") == THUMBNAIL_PX
    finally:
        page.context.close()
