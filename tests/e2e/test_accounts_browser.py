"""Chromium goes through an account's whole life: sign up, log in, change and reset the password, delete it all."""

from __future__ import annotations

import re

import pytest

from tests.e2e.pages import log_in, log_out, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_out_log_in_in_chromium(page):
    sign_up(page, "ivy", "ivy@example.org", "Climbing-Ivy-909")
    assert page.get_by_test_id("username").inner_text() == "ivy"

    page.click("text=Log out")
    assert page.get_by_test_id("username").count() == 0

    log_in(page, "ivy", "Climbing-Ivy-909")
    assert page.get_by_test_id("username").inner_text() == "ivy"


def test_password_change_uses_the_sites_own_pages(screen_page):
    page = screen_page
    sign_up(page, "ivy", "ivy@example.org", "Climbing-Ivy-909")
    page.get_by_test_id("username").click()
    page.click("main a[href$='/accounts/password/']")
    assert page.locator("header .brand").count() == 1  # the site's header, not Django admin's
    page.fill("input[name=old_password]", "Climbing-Ivy-909")
    page.fill("input[name=new_password1]", "Evergreen-Hedera-77")
    page.fill("input[name=new_password2]", "Evergreen-Hedera-77")
    page.click("main form >> button[type=submit]")
    assert page.url.endswith("/accounts/password/done/")
    assert page.locator("a[href^='/admin/']").count() == 0

    log_out(page)
    log_in(page, "ivy", "Evergreen-Hedera-77")
    assert page.get_by_test_id("username").inner_text() == "ivy"


def test_password_reset_by_the_link_in_the_console_email(screen_page, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    page = screen_page
    sign_up(page, "ivy", "ivy@example.org", "Climbing-Ivy-909")
    log_out(page)
    page.goto("/accounts/login/")
    page.click("main a[href$='/accounts/password/reset/']")
    page.fill("input[name=email]", "ivy@example.org")
    page.click("main form >> button[type=submit]")
    page.get_by_test_id("reset-sent").wait_for()

    printed = capsys.readouterr().out
    link = re.search(r"https?://\S+/accounts/password/reset/[^/\s]+/[^/\s]+/", printed)
    assert link, f"no reset link in the console e-mail:\n{printed}"
    page.goto(link.group(0))
    page.fill("input[name=new_password1]", "Evergreen-Hedera-77")
    page.fill("input[name=new_password2]", "Evergreen-Hedera-77")
    page.click("main form >> button[type=submit]")
    assert page.url.endswith("/accounts/password/reset/done/")

    log_in(page, "ivy", "Evergreen-Hedera-77")
    assert page.get_by_test_id("username").inner_text() == "ivy"


def test_deleting_the_account_removes_its_identifications_and_photos(screen_page, media_root, django_user_model):
    from recognition.models import Identification
    from tests.e2e.conftest import stored_identification
    from tests.recognition.conftest import stored_files

    page = screen_page
    sign_up(page, "ivy", "ivy@example.org", "Climbing-Ivy-909")
    user = django_user_model.objects.get(username="ivy")
    stored_identification(user, [(200, 30, 30), (30, 90, 200)])
    assert len(stored_files(media_root)) == 4

    page.get_by_test_id("username").click()
    page.click("main a[href$='/accounts/delete/']")
    page.fill("input[name=password]", "not-my-password")
    page.click("main form >> button.danger")
    assert page.locator("main .error").count() == 1 and django_user_model.objects.filter(username="ivy").exists()

    page.fill("input[name=password]", "Climbing-Ivy-909")
    page.click("main form >> button.danger")
    page.locator(".messages").wait_for()
    assert page.get_by_test_id("username").count() == 0
    assert not django_user_model.objects.filter(username="ivy").exists()
    assert Identification.objects.count() == 0
    assert stored_files(media_root) == []
