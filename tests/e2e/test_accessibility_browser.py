"""axe-core finds no serious or critical violation on any page, on the phone and the desktop, in both languages."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.e2e.conftest import ALL_SCREENS, open_page, stored_identification
from tests.e2e.pages import log_out, serious_violations, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/no-such-page/"]


def signed_in_pages(done, pending) -> list[str]:
    return [
        "/",
        "/identify/",
        f"/identifications/{done.pk}/",
        f"/identifications/{pending.pk}/",
        f"/identifications/{done.pk}/delete/",
        "/history/",
        "/species/",
        "/api-token/",
        "/accounts/",
        "/accounts/password/",
        "/accounts/delete/",
        "/identifications/999999/",
    ]


@pytest.mark.parametrize("screen", ALL_SCREENS, ids=str)
def test_every_page_passes_the_accessibility_check(
    browser, live_server, screen, six_class_model, django_user_model, tmp_path
):
    from rest_framework.authtoken.models import Token

    page = open_page(browser, live_server, screen)
    try:
        violations = []
        for url in PUBLIC_PAGES:
            page.goto(url)
            violations += serious_violations(page)

        sign_up(page, "flora", "flora@example.org", "Many-Petals-2024")
        violations += serious_violations(page)  # the start page with its welcome message
        user = django_user_model.objects.get(username="flora")
        Token.objects.create(user=user)
        answer = [("rosa_canina", "Rosa canina", 0.81), ("bellis_perennis", "Bellis perennis", 0.12)]
        done = stored_identification(user, [(200, 30, 30), (30, 90, 200)], answer=answer, version=six_class_model)
        pending = stored_identification(user, [(20, 160, 40)])
        for url in signed_in_pages(done, pending):
            page.goto(url)
            violations += serious_violations(page)

        page.goto("/identify/")  # the list of chosen photos, one of them refused
        photos = []
        for index in range(6):
            path = tmp_path / f"p{index}.jpg"
            Image.new("RGB", (64, 64), (30 * index, 120, 80)).save(path, format="JPEG")
            photos.append(str(path))
        page.set_input_files("#id_images", photos)
        violations += serious_violations(page)
        log_out(page)
    finally:
        page.context.close()
    assert violations == [], "\n".join(violations)
