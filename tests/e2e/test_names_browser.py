"""Chromium shows each species by the common name in the reader's language, the scientific name beside it in
italics (or leading, without a common name), on the result page, its feedback choices, the history and the species
list; searches find it by any of its names; the model's title is read in the reader's language."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import FLOW_SCREENS, open_page, stored_identification
from tests.e2e.pages import serious_violations, sign_up
from tests.recognition.conftest import with_species_facts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FACTS = {
    "bellis_perennis": {
        "scientific_name": "Bellis perennis",
        "authorship": "L.",
        "family": "Asteraceae",
        "common_names": {"en": "common daisy", "zh-hans": "雏菊"},
    },
    "rosa_canina": {"scientific_name": "Rosa canina", "common_names": {"en": "dog rose", "zh-hans": "犬蔷薇"}},
    "taraxacum_officinale": {"scientific_name": "Taraxacum officinale"},  # no common name: the Latin one leads
}
ANSWER = [
    ("bellis_perennis", "Bellis perennis", 0.81),
    ("rosa_canina", "Rosa canina", 0.12),
    ("taraxacum_officinale", "Taraxacum officinale", 0.05),
]
DAISY = {"zh-CN": "雏菊", "en-US": "common daisy"}
ROSE = {"zh-CN": "犬蔷薇", "en-US": "dog rose"}
TITLE = {"zh-CN": "六种园林花卉", "en-US": "Six garden flowers"}


def italic(locator) -> bool:
    """Return True when the element is set in italics."""
    return locator.evaluate("element => getComputedStyle(element).fontStyle") == "italic"


def assert_names(locator, common: str, scientific: str) -> None:
    """Assert that ``locator`` names the species by ``common`` (none when '') then ``scientific`` in italics."""
    latin = locator.get_by_test_id("latin-name")
    assert latin.inner_text() == scientific and italic(latin)
    if common:
        assert locator.get_by_test_id("common-name").inner_text() == common
        assert locator.inner_text().strip().startswith(common), locator.inner_text()
    else:
        assert locator.get_by_test_id("common-name").count() == 0
        assert locator.inner_text().strip().startswith(scientific), locator.inner_text()


def search(page, query: str) -> None:
    """Type ``query`` into the page's search box and send it."""
    page.get_by_role("searchbox").fill(query)
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url(re.compile(r"\?q="))


@pytest.fixture(params=FLOW_SCREENS, ids=str)
def reader(request, browser, live_server, six_class_model, django_user_model, tmp_path):
    """A signed-in reader on the phone in Chinese, then on the desktop in English, with one identification of a
    daisy answered by the six-class model (given common names and a Chinese title)."""
    from ml import versions

    version = with_species_facts(six_class_model, tmp_path, FACTS)
    versions.set_title(version.name, "六种园林花卉", "zh-hans")
    page = open_page(browser, live_server, request.param)
    sign_up(page, "gesner", "gesner@example.org", "Historia-Plantarum-1551")
    owner = django_user_model.objects.get(username="gesner")
    page.identification = stored_identification(owner, [(240, 240, 60)], answer=ANSWER, version=version)
    page.locale = request.param.locale
    yield page
    page.context.close()


def test_the_result_page_and_its_feedback_choices_lead_with_the_readers_common_name(reader):
    page, locale = reader, reader.locale
    page.goto(f"/identifications/{page.identification.public_id}/")
    assert_names(page.get_by_test_id("identified").locator("strong"), DAISY[locale], "Bellis perennis")
    assert f"{DAISY[locale]} (Bellis perennis)" in page.title()
    candidates = page.get_by_test_id("candidate")
    assert_names(candidates.nth(0).get_by_test_id("wikipedia"), DAISY[locale], "Bellis perennis")
    assert_names(candidates.nth(1).get_by_test_id("wikipedia"), ROSE[locale], "Rosa canina")
    assert_names(candidates.nth(2).get_by_test_id("wikipedia"), "", "Taraxacum officinale")
    choices = page.get_by_test_id("feedback-choice")
    assert_names(choices.nth(0), DAISY[locale], "Bellis perennis")
    assert_names(choices.nth(1), ROSE[locale], "Rosa canina")
    assert_names(choices.nth(2), "", "Taraxacum officinale")
    assert TITLE[locale] in page.get_by_test_id("answer-facts").inner_text()

    choices.nth(1).click()  # the reader confirms the rose; their answer reads the same way
    page.locator("#feedback-form button[type=submit]").click()
    assert_names(page.get_by_test_id("feedback").locator("strong"), ROSE[locale], "Rosa canina")
    assert serious_violations(page) == []


def test_the_history_names_the_species_and_finds_it_by_its_chinese_or_english_common_name(reader):
    page, locale, public_id = reader, reader.locale, str(reader.identification.public_id)
    page.goto("/history/")
    row = page.locator(f"[data-testid=history-row][data-id='{public_id}']")
    assert_names(row.locator(".best-name"), DAISY[locale], "Bellis perennis")
    for query in ("雏菊", "common daisy", "Bellis perennis", "bellis_per"):
        search(page, query)
        assert page.get_by_test_id("history-row").count() == 1, query
        assert page.get_by_test_id("history-row").get_attribute("data-id") == public_id
    search(page, "犬蔷薇")  # the second candidate: not what the identification is filed under
    assert page.get_by_test_id("history-row").count() == 0
    assert serious_violations(page) == []


def test_the_species_list_names_and_finds_each_species_by_any_name_under_the_title_in_the_readers_language(reader):
    page, locale = reader, reader.locale
    page.goto("/species/")
    assert TITLE[locale] in page.inner_text("main")
    rows = page.get_by_test_id("species-row")
    assert rows.count() == 6
    for query in ("雏菊", "common daisy", "perennis", "bellis_perennis"):
        search(page, query)
        assert rows.count() == 1, query
        assert_names(rows.first.locator("a"), DAISY[locale], "Bellis perennis")
    search(page, "officinale")
    assert_names(rows.first.locator("a"), "", "Taraxacum officinale")
    assert serious_violations(page) == []
