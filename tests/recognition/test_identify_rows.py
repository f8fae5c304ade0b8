"""The upload page without JavaScript: one row per photo (a file and its organ), paired by the server, checked by the
same rules as the script's list; and the page says truthfully what organs are for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recognition.models import Identification

from .conftest import image_bytes, photo_of, stored_files, upload

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(client, rows: dict, **more):
    return client.post(reverse("recognition:identify"), {**rows, **more})


def test_the_page_has_one_photo_and_organ_row_per_allowed_photo(user_client, active_model, settings):
    page = user_client.get(reverse("recognition:identify")).content.decode()
    for n in range(1, settings.RECOGNITION_MAX_FILES + 1):
        assert f'name="photo_{n}"' in page and f'name="organ_{n}"' in page
    assert f'name="photo_{settings.RECOGNITION_MAX_FILES + 1}"' not in page


def test_rows_pair_each_photo_with_its_organ_and_skip_empty_rows(user_client, active_model):
    response = _rows(
        user_client,
        {"photo_1": photo_of((200, 40, 40)), "organ_1": "leaf", "organ_2": "fruit", "photo_3": photo_of((40, 40, 200))},
        organ_3="bark",
    )
    identification = Identification.objects.get()
    assert response.status_code == 302
    assert list(identification.photos.order_by("pk").values_list("organ", flat=True)) == ["leaf", "bark"]


def test_a_row_without_an_organ_is_automatic_and_the_script_fields_come_first(user_client, active_model):
    response = _rows(
        user_client, {"images": [photo_of((1, 2, 3))], "organs": ["flower"], "photo_2": photo_of((9, 9, 9))}
    )
    assert response.status_code == 302
    organs = list(Identification.objects.get().photos.order_by("pk").values_list("organ", flat=True))
    assert organs == ["flower", "auto"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({}, "Choose at least one photo"),
        ({"organ_1": "leaf"}, "Choose at least one photo"),
        ({"photo_1": upload(b"text", name="bad.png")}, "bad.png"),
        ({"photo_1": upload(image_bytes(size=(200, 200))[:400])}, "damaged or incomplete"),
        ({"photo_1": upload(), "organ_1": "root"}, "Unknown organ root"),
        ({"photo_1": upload(), "images": [upload() for _ in range(5)]}, "at most 5 photos"),
    ],
)
def test_bad_rows_get_a_clear_400_and_store_nothing(user_client, active_model, media_root, rows, message):
    response = _rows(user_client, rows)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_the_page_does_not_promise_that_organs_change_the_answer(user_client, active_model):
    page = user_client.get(reverse("recognition:identify")).content.decode()
    assert "more reliable" not in page and "organs (leaf, flower, fruit, bark) help" not in page
    assert "does not change the answer" in page


def test_the_organ_note_is_in_chinese_for_a_chinese_browser(user_client, active_model):
    page = user_client.get(reverse("recognition:identify"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "does not change the answer" not in page
    assert "不会改变识别结果" in page
