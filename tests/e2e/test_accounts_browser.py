"""Chromium signs up, logs out, logs in and sees its user name."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_out_log_in_in_chromium(page):
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", "ivy")
    page.fill("input[name=email]", "ivy@example.org")
    page.fill("input[name=password1]", "Climbing-Ivy-909")
    page.fill("input[name=password2]", "Climbing-Ivy-909")
    page.click("form >> button[type=submit]")
    assert page.get_by_test_id("username").inner_text() == "ivy"

    page.click("text=Log out")
    assert page.get_by_test_id("username").count() == 0

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "ivy")
    page.fill("input[name=password]", "Climbing-Ivy-909")
    page.click("main form >> button[type=submit]")
    assert page.get_by_test_id("username").inner_text() == "ivy"
