"""Chromium switches the interface language for anyone, signed in or not, with a button: the choice is kept for the
next pages, choosing with the arrow keys changes nothing on its own (WCAG 3.2.2), and the control fits a thumb."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP_EN, PHONE_ZH, Screen, open_page
from tests.e2e.pages import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_EN = Screen(390, "en-US")
# each signed-out page, and a link on it that leads to the next page
SIGNED_OUT = [
    ("/", "header a[href='/accounts/login/']"),
    ("/accounts/signup/", "header a[href='/accounts/login/']"),
    ("/accounts/login/", "header a[href='/accounts/signup/']"),
]


def language(page) -> str:
    """Return the language the page is in (its <html lang>)."""
    return page.evaluate("document.documentElement.lang")


@pytest.mark.parametrize("screen", [PHONE_EN, DESKTOP_EN], ids=str)
@pytest.mark.parametrize(("path", "link"), SIGNED_OUT, ids=["landing", "sign-up", "sign-in"])
def test_a_signed_out_visitor_switches_to_chinese_and_the_next_page_stays_chinese(
    browser, live_server, screen, path, link
):
    page = open_page(browser, live_server, screen)
    page.goto(path)
    assert language(page) == "en"
    page.select_option("header select[name=language]", "zh-hans")
    page.get_by_test_id("language-submit").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + path, "the switch must come back to the same page, not the sign-in page"
    assert language(page) == "zh-hans"
    assert page.get_by_test_id("language-submit").inner_text() == "切换"
    page.click(link)
    page.wait_for_load_state()
    assert language(page) == "zh-hans" and "登录" in page.inner_text("header")
    page.context.close()


def test_without_javascript_a_chinese_browser_switches_to_english_on_the_sign_in_page(browser, live_server):
    page = open_page(browser, live_server, PHONE_ZH, javascript=False)
    page.goto("/accounts/login/")
    assert language(page) == "zh-hans"
    page.select_option("header select[name=language]", "en")
    page.get_by_test_id("language-submit").click()
    page.wait_for_load_state()
    assert page.url.endswith("/accounts/login/") and language(page) == "en"
    page.goto("/accounts/signup/")
    assert language(page) == "en" and "Sign up" in page.inner_text("main")
    page.context.close()


@pytest.mark.parametrize("screen", [PHONE_EN, DESKTOP_EN], ids=str)
def test_arrow_down_on_the_language_select_neither_submits_nor_reloads(browser, live_server, screen):
    page = open_page(browser, live_server, screen)
    page.goto("/accounts/login/")
    page.evaluate("window.__samePage = true")
    page.focus("header select[name=language]")
    page.keyboard.press("ArrowDown")
    assert page.input_value("header select[name=language]") == "zh-hans"  # the key did choose the next language...
    page.wait_for_timeout(1500)  # ...and a submit, had one started, would have replaced the page by now
    assert page.evaluate("window.__samePage === true"), "ArrowDown reloaded the page"
    assert language(page) == "en"
    page.keyboard.press("Tab")  # to the button, which switches
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.lang === 'zh-hans'")
    page.context.close()


@pytest.mark.parametrize("screen", [PHONE_ZH, PHONE_EN], ids=str)
def test_on_a_touch_screen_the_language_controls_are_at_least_44_px_and_pass_the_accessibility_check(
    browser, live_server, screen
):
    page = open_page(browser, live_server, screen)
    page.goto("/")
    for selector in ("header select[name=language]", "[data-testid=language-submit]"):
        box = page.locator(selector).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, f"{selector} is {box['width']}x{box['height']} px"
    assert serious_violations(page) == []
    page.context.close()
