"""Chromium signs up, logs out, logs in and sees its user name."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_out_log_in_in_chromium(page):
    sign_up(page, "ivy", "ivy@example.org", "Climbing-Ivy-909")
    assert page.get_by_test_id("username").inner_text() == "ivy"

    page.click("text=Log out")
    assert page.get_by_test_id("username").count() == 0

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "ivy")
    page.fill("input[name=password]", "Climbing-Ivy-909")
    page.click("main form >> button[type=submit]")
    assert page.get_by_test_id("username").inner_text() == "ivy"
