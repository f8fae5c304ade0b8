"""Every page passes axe-core (no serious or critical violation) on phone and desktop in both languages, and fits 360 px."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.e2e.conftest import ALL_SCREENS, DESKTOP_EN, Screen, open_page, stored_identification
from tests.e2e.pages import csp_violations, log_out, serious_violations, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/no-such-page/"]


def signed_in_pages(done, pending, no_match) -> list[str]:
    return [
        "/",
        "/identify/",
        f"/identifications/{done.public_id}/",
        f"/identifications/{pending.public_id}/",
        f"/identifications/{no_match.public_id}/",
        f"/identifications/{done.public_id}/delete/",
        "/history/",
        "/species/",
        "/api-token/",
        "/accounts/",
        "/accounts/password/",
        "/accounts/delete/",
        "/identifications/00000000-0000-4000-8000-000000000000/",
    ]


def visit_every_page(browser, live_server, screen, model, user_model, folder, check) -> list[str]:
    """Open every page (signed out, signed in, with photos chosen) on ``screen``; return what ``check`` found."""
    from recognition.tokens import create_token

    page = open_page(browser, live_server, screen)
    problems = []
    try:
        for url in PUBLIC_PAGES:
            page.goto(url)
            problems += check(page)

        sign_up(page, "flora", "flora@example.org", "Many-Petals-2024")
        problems += check(page)  # the start page with its welcome message
        user = user_model.objects.get(username="flora")
        create_token(user, "garden camera")
        answer = [("rosa_canina", "Rosa canina", 0.81), ("bellis_perennis", "Bellis perennis", 0.12)]
        done = stored_identification(user, [(200, 30, 30), (30, 90, 200)], answer=answer, version=model)
        pending = stored_identification(user, [(20, 160, 40)])
        no_match = stored_identification(
            user, [(90, 90, 90)], answer=answer, version=model, outcome="no_match", reason="unknown_species"
        )
        no_match.feedback_verdict, no_match.feedback_at = "none_of_these", no_match.finished
        no_match.save()
        for url in signed_in_pages(done, pending, no_match):
            page.goto(url)
            problems += check(page)

        page.goto("/identify/")  # the list of chosen photos, one of them refused
        photos = []
        for index in range(6):
            path = folder / f"p{index}.jpg"
            Image.new("RGB", (64, 64), (30 * index, 120, 80)).save(path, format="JPEG")
            photos.append(str(path))
        page.set_input_files("#id_images", photos)
        problems += check(page)
        log_out(page)
    finally:
        page.context.close()
    return problems


def horizontal_overflow(page) -> list[str]:
    """Return a line when the page is wider than the screen (a sideways scroll on a phone)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.evaluate("window.innerWidth")
    return [f"{page.url}: {width} px wide on a {screen} px screen"] if width > screen else []


@pytest.mark.parametrize("screen", ALL_SCREENS, ids=str)
def test_every_page_passes_the_accessibility_check(
    browser, live_server, screen, six_class_model, django_user_model, tmp_path
):
    violations = visit_every_page(
        browser, live_server, screen, six_class_model, django_user_model, tmp_path, serious_violations
    )
    assert violations == [], "\n".join(violations)


@pytest.mark.parametrize("screen", [Screen(360, "zh-CN"), Screen(360, "en-US")], ids=str)
def test_every_page_fits_a_360_px_phone(browser, live_server, screen, six_class_model, django_user_model, tmp_path):
    overflows = visit_every_page(
        browser, live_server, screen, six_class_model, django_user_model, tmp_path, horizontal_overflow
    )
    assert overflows == [], "\n".join(overflows)


def test_no_page_breaks_its_content_security_policy(browser, live_server, six_class_model, django_user_model, tmp_path):
    refused = visit_every_page(
        browser, live_server, DESKTOP_EN, six_class_model, django_user_model, tmp_path, csp_violations
    )
    assert refused == [], "\n".join(refused)
