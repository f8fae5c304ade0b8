"""Chromium reads each candidate's species facts and sees its reference photos beside it, in English and Chinese."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP_EN, PHONE_ZH, open_page, stored_identification
from tests.e2e.pages import serious_violations, sign_up
from tests.recognition.conftest import with_credited_references, with_species_facts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = [("rosa_canina", "Rosa canina", 0.8), ("bellis_perennis", "Bellis perennis", 0.2)]


@pytest.fixture
def model_with_facts(six_class_model, tmp_path):
    """The six-class model after `models species`, with 2 reference photos per class beside it."""
    return with_species_facts(six_class_model, tmp_path, photo_size=120)


def result_page(browser, live_server, screen, version, django_user_model, username: str):
    """Sign up in Chromium, store a done identification answered by ``version`` and open its result page."""
    page = open_page(browser, live_server, screen)
    sign_up(page, username, f"{username}@example.org", "Binomial-Names-1753")
    owner = django_user_model.objects.get(username=username)
    identification = stored_identification(owner, [(200, 40, 60)], answer=ANSWER, version=version)
    page.goto(f"/identifications/{identification.public_id}/")
    return page


def test_the_result_page_shows_facts_links_and_loaded_reference_photos(
    browser, live_server, model_with_facts, django_user_model
):
    page = result_page(browser, live_server, DESKTOP_EN, model_with_facts, django_user_model, "linnaeus")
    rosa = page.get_by_test_id("candidate").first
    assert rosa.get_by_test_id("common-name").inner_text() == "dog rose"
    assert rosa.get_by_test_id("scientific-name").inner_text() == "Rosa canina L."
    assert "Rosaceae" in rosa.get_by_test_id("family").inner_text()
    assert rosa.get_by_test_id("gbif").get_attribute("href") == "https://www.gbif.org/species/8395064"
    assert rosa.get_by_test_id("wikipedia").get_attribute("href").startswith("https://en.wikipedia.org/")
    photos = page.locator("[data-testid=references] img")
    assert photos.count() == 4
    for index in range(4):
        photos.nth(index).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photos.nth(index).element_handle())
    page.context.close()


def test_a_chinese_reader_gets_the_chinese_common_name_and_wikipedia(
    browser, live_server, model_with_facts, django_user_model
):
    page = result_page(browser, live_server, PHONE_ZH, model_with_facts, django_user_model, "lishizhen")
    rosa = page.get_by_test_id("candidate").first
    assert rosa.get_by_test_id("common-name").inner_text() == "犬蔷薇"
    assert rosa.get_by_test_id("wikipedia").get_attribute("href").startswith("https://zh.wikipedia.org/")
    page.context.close()


def test_the_result_page_with_facts_passes_the_accessibility_check(
    browser, live_server, model_with_facts, django_user_model
):
    page = result_page(browser, live_server, PHONE_ZH, model_with_facts, django_user_model, "bauhin")
    assert serious_violations(page) == []
    page.context.close()


def test_credited_reference_photos_show_their_author_and_licence_and_pass_the_accessibility_check(
    browser, live_server, six_class_model, django_user_model, tmp_path
):
    rosa_index = six_class_model.class_names.index("rosa_canina")
    version = with_credited_references(
        with_species_facts(six_class_model, tmp_path, photo_size=120), tmp_path, rosa_index
    )
    page = result_page(browser, live_server, DESKTOP_EN, version, django_user_model, "gerard")
    credits = page.get_by_test_id("candidate").first.get_by_test_id("reference-credit")
    assert credits.count() == 2 and all(text.endswith(" · CC BY-NC") for text in credits.all_inner_texts())
    assert serious_violations(page) == []
    page.context.close()
