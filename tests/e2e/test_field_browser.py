"""The upload page in the field, in Chromium: the keyboard opens the photo picker, a browser without JavaScript gets
one row per photo with its organ, and a phone is not told to drop photos."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import DESKTOP_EN, Screen, open_page
from tests.e2e.pages import sign_up
from tests.e2e.test_identify_browser import make_photos

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_EN = Screen(390, "en-US")

# Where the focus is: the element, whether a person can see it (at least 2 x 2 px, not transparent) and its text.
FOCUSED = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const seen = box.width >= 2 && box.height >= 2 && getComputedStyle(el).opacity !== "0";
  return {tag: el.tagName, id: el.id, text: el.innerText.trim().slice(0, 40), seen, width: box.width, height: box.height};
}"""


def tab_to(page, text: str, limit: int = 40) -> list[dict]:
    """Press Tab from the top of the page until the focus is on a control reading ``text``; return every stop."""
    page.locator("body").focus()
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["text"] == text:
            return stops
    raise AssertionError(
        f"Tab never reached a control reading {text!r}: stops {[stop['id'] or stop['text'] for stop in stops]}"
    )


@pytest.mark.parametrize("screen", [DESKTOP_EN, PHONE_EN], ids=str)
@pytest.mark.parametrize("key", ["Enter", "Space"])
def test_the_visible_choose_photos_control_opens_the_picker_with_enter_and_space(
    browser, live_server, six_class_model, tmp_path, screen, key
):
    page = open_page(browser, live_server, screen)
    try:
        sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
        # listening turns on Chromium's file chooser interception, which takes effect a moment later
        page.on("filechooser", lambda chooser: None)
        page.goto("/identify/")
        stops = tab_to(page, "Choose photos")
        unseen = [stop for stop in stops if not stop["seen"]]
        assert not unseen, f"Tab stops nobody can see: {unseen}"
        if screen.phone:
            assert stops[-1]["width"] >= 44 and stops[-1]["height"] >= 44, stops[-1]
        with page.expect_file_chooser(timeout=5_000) as chooser:
            page.keyboard.press(key)
        assert chooser.value.is_multiple()
        chooser.value.set_files([str(path) for path in make_photos(tmp_path, 2)])
        assert page.get_by_test_id("chosen-photo").count() == 2
    finally:
        page.context.close()


@pytest.fixture
def no_script_page(browser, live_server, six_class_model):
    page = open_page(browser, live_server, DESKTOP_EN, javascript=False)
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    yield page
    page.context.close()


def test_without_javascript_five_rows_each_pair_a_photo_with_its_organ(no_script_page, tmp_path):
    from recognition.models import Identification

    page = no_script_page
    rows = page.get_by_test_id("photo-row")
    assert rows.count() == 5
    for index in range(5):
        assert rows.nth(index).locator("input[type=file]").count() == 1
        assert rows.nth(index).locator("input[type=file]").get_attribute("multiple") is None
        assert rows.nth(index).locator("select").count() == 1
        assert rows.nth(index).is_visible()
    assert page.locator("#dropzone").is_hidden()  # no second picker beside the rows

    first, second = make_photos(tmp_path, 2)
    rows.nth(0).locator("input[type=file]").set_input_files(str(first))
    rows.nth(0).locator("select").select_option("leaf")
    rows.nth(1).locator("select").select_option("fruit")  # an organ without a photo is no photo
    rows.nth(2).locator("input[type=file]").set_input_files(str(second))
    rows.nth(2).locator("select").select_option("bark")
    page.click("#identify-button")

    page.wait_for_url(re.compile(r"/identifications/[0-9a-f-]{36}/$"))
    identification = Identification.objects.get()
    assert list(identification.photos.order_by("pk").values_list("organ", flat=True)) == ["leaf", "bark"]


def test_without_javascript_a_refusal_says_why_on_the_rows(no_script_page, tmp_path):
    page = no_script_page
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a JPEG")
    page.get_by_test_id("photo-row").nth(0).locator("input[type=file]").set_input_files(str(broken))
    page.click("#identify-button")
    assert "broken.jpg" in page.locator("#form-errors").inner_text()
    assert page.get_by_test_id("photo-row").count() == 5


@pytest.mark.parametrize("screen", [PHONE_EN, DESKTOP_EN], ids=str)
def test_drop_photos_here_is_shown_only_where_there_is_a_mouse(browser, live_server, six_class_model, screen):
    page = open_page(browser, live_server, screen)
    try:
        sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
        page.goto("/identify/")
        assert page.evaluate("matchMedia('(pointer: coarse)').matches") is screen.phone
        hint = page.get_by_text("Drop photos here")
        assert hint.is_hidden() if screen.phone else hint.is_visible()
        assert page.get_by_role("button", name="Choose photos").is_visible()
    finally:
        page.context.close()
