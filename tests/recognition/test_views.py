"""The pages: upload -> real worker -> result, history, feedback, delete, token, and their messages."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse

from recognition.models import Candidate, Identification

from .conftest import image_bytes, photo_of, stored_files, upload, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def _identify(client, *files, organs=()):
    return client.post(reverse("recognition:identify"), {"images": list(files), "organs": list(organs)})


def test_upload_is_answered_by_a_worker_with_sorted_predictions(user_client, active_model, module_worker, settings):
    response = _identify(user_client, photo_of((200, 40, 40)), organs=["flower"])
    identification = Identification.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "recognition:detail", args=[identification.public_id]
    )

    identification = wait_until_finished(identification.pk)
    assert identification.status == "done", identification.error
    probabilities = [c.probability for c in identification.candidates.all()]
    assert len(probabilities) == min(settings.RECOGNITION_TOP_K, active_model.num_classes)
    assert probabilities == sorted(probabilities, reverse=True)
    assert identification.model_version == active_model
    assert identification.duration_ms is not None and identification.started <= identification.finished
    assert identification.photos.get().organ == "flower"

    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert 'data-status="done"' in page
    assert "https://en.wikipedia.org/w/index.php?search=" in page
    assert active_model.name in page


def test_upload_page_shows_the_form_with_an_active_model(user_client, active_model):
    page = user_client.get(reverse("recognition:identify")).content.decode()
    assert 'name="images"' in page and "multiple" in page and 'capture="environment"' in page


def test_without_an_active_model_the_page_says_so_and_refuses_uploads(user_client, media_root):
    from ml.versions import NO_ACTIVE_MODEL

    page = user_client.get(reverse("recognition:identify"))
    assert "no model is active" in page.content.decode()
    assert "manage.py train" in page.content.decode()
    assert 'name="images"' not in page.content.decode()
    response = _identify(user_client, upload())
    assert response.status_code == 503
    assert NO_ACTIVE_MODEL.split(":")[0] in response.content.decode()
    assert not Identification.objects.exists() and not stored_files(media_root)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Choose at least one photo"),
        ([upload() for _ in range(6)], "at most 5 photos"),
        ([upload(b"", name="e.jpg")], "is empty"),
        ([upload(b"GIF89a but not really", name="x.gif")], "not an image"),
        ([upload(image_bytes(size=(200, 200))[:400])], "damaged or incomplete"),
        ([upload(), upload(b"text", name="bad.png")], "bad.png"),
        ([upload(image_bytes("PNG", size=(1, 6000)), name="strip.png")], "1 x 6000 pixels"),
    ],
)
def test_bad_uploads_show_their_message_and_store_nothing(user_client, active_model, media_root, files, message):
    response = _identify(user_client, *files)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Identification.objects.exists()
    assert not stored_files(media_root)


def test_unknown_organ_is_refused(user_client, active_model, media_root):
    response = _identify(user_client, upload(), organs=["root"])
    assert response.status_code == 400 and "Unknown organ root" in response.content.decode()
    assert not Identification.objects.exists() and not stored_files(media_root)


def _done(
    user,
    model,
    probabilities,
    names=("Bellis perennis", "Rosa canina", "Helianthus annuus"),
    outcome="identified",
    reason="",
):
    identification = Identification.objects.create(
        owner=user, status="done", model_version=model, duration_ms=12, outcome=outcome, reason=reason
    )
    for rank, (p, name) in enumerate(zip(probabilities, names), start=1):
        Candidate.objects.create(
            identification=identification,
            rank=rank,
            label=name.lower().replace(" ", "_"),
            display_name=name,
            probability=p,
        )
    return identification


def test_an_identified_result_names_the_best_match_with_its_certainty_in_words(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "Possibly: <strong>Bellis perennis</strong> (50%)" in page
    assert "No match" not in page


def test_the_result_page_is_named_by_a_random_public_id_not_the_row_number(user_client, user, active_model):
    first, second = _done(user, active_model, [0.5, 0.3, 0.2]), _done(user, active_model, [0.5, 0.3, 0.2])
    url = reverse("recognition:detail", args=[second.public_id])
    assert url == f"/identifications/{second.public_id}/"
    assert second.public_id.int - first.public_id.int != 1  # nothing to count from
    page = user_client.get(url).content.decode()
    assert f"#{second.public_id.hex[:8]}" in page and f"#{second.pk}<" not in page


@pytest.mark.parametrize("rest", ["", "delete/", "status/"])
def test_an_old_numbered_url_redirects_its_owner_to_the_public_id(user_client, user, active_model, rest):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    response = user_client.get(f"/identifications/{identification.pk}/{rest}")
    assert response.status_code == 302
    assert response["Location"] == f"/identifications/{identification.public_id}/{rest}"


def test_an_old_numbered_url_of_someone_else_or_of_nothing_is_a_404(user_client, other_user, active_model):
    theirs = _done(other_user, active_model, [0.5, 0.3, 0.2])
    assert user_client.get(f"/identifications/{theirs.pk}/").status_code == 404
    assert user_client.get("/identifications/" + "9" * 300 + "/").status_code == 404


def test_the_candidate_bars_need_no_style_attribute(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert 'width="50%"' in page and " style=" not in page


def test_percentages_are_whole_and_candidates_below_one_percent_are_not_listed(user_client, user, active_model):
    names = ("Bellis perennis", "Rosa canina", "Helianthus annuus", "Tulipa gesneriana")
    identification = _done(user, active_model, [0.655, 0.34, 0.0049, 0.0001], names=names)
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "Likely: <strong>Bellis perennis</strong> (66%)" in page
    assert "65.5" not in page and "34%" in page
    listed = page[page.index('data-testid="candidates"') : page.index("</ol>")]
    assert "Rosa canina" in listed and "Helianthus annuus" not in listed and "Tulipa" not in listed
    assert "0%" not in listed


def test_each_listed_candidate_carries_its_certainty_words(user_client, user, active_model):
    identification = _done(user, active_model, [0.93, 0.05, 0.02])
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    words = re.findall(r'data-testid="certainty">([^<]+)<', page)
    assert words == ["very likely", "unlikely", "unlikely"]
    assert "Very likely: <strong>Bellis perennis</strong> (93%)" in page


def test_the_certainty_words_are_in_chinese_for_a_chinese_browser(user_client, user, active_model):
    identification = _done(user, active_model, [0.93, 0.05, 0.02])
    url = reverse("recognition:detail", args=[identification.public_id])
    page = user_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.findall(r'data-testid="certainty">([^<]+)<', page)[0] == "很可能"
    assert "very likely" not in page.lower()


def test_an_unknown_species_says_so_and_collapses_the_candidates(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2], outcome="no_match", reason="unknown_species")
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "No match: this does not look like a species this model knows." in page
    collapsed = page[page.index('<details class="candidates-collapsed"') : page.index("</details>")]
    assert collapsed.count('class="candidate-name"') == 3


def test_a_photo_of_no_plant_says_it_does_not_look_like_a_plant(user_client, user, active_model):
    identification = _done(user, active_model, [0.4, 0.3, 0.3], outcome="no_match", reason="not_a_plant")
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "No match: this does not look like a plant." in page
    assert "Most likely" not in page


def test_wikipedia_links_follow_the_language(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    user_client.cookies["django_language"] = "zh-hans"
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "https://zh.wikipedia.org/w/index.php?search=Bellis+perennis" in page


def test_history_lists_newest_first_and_searches_by_species(user_client, user, active_model):
    older = _done(user, active_model, [0.7, 0.2, 0.1])
    newer = _done(user, active_model, [0.6, 0.3, 0.1], names=("Rosa canina", "Bellis perennis", "Helianthus annuus"))
    page = user_client.get(reverse("recognition:history")).content.decode()
    assert page.index(f'data-id="{newer.public_id}"') < page.index(f'data-id="{older.public_id}"')
    found = user_client.get(reverse("recognition:history"), {"q": "bellis"}).content.decode()
    assert f'data-id="{older.public_id}"' in found and f'data-id="{newer.public_id}"' not in found


def test_history_is_paginated(user_client, user, active_model, settings):
    settings.RECOGNITION_PAGE_SIZE = 2
    for _ in range(3):
        _done(user, active_model, [0.7, 0.2, 0.1])
    first = user_client.get(reverse("recognition:history")).content.decode()
    second = user_client.get(reverse("recognition:history"), {"page": 2}).content.decode()
    assert first.count('data-testid="history-row"') == 2 and second.count('data-testid="history-row"') == 1


def test_feedback_confirms_a_candidate_or_keeps_a_typed_species(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    url = reverse("recognition:feedback", args=[identification.public_id])
    user_client.post(url, {"label": "rosa_canina"})
    identification.refresh_from_db()
    assert identification.feedback == "Rosa canina"
    user_client.post(url, {"species": "Malus sylvestris"})
    identification.refresh_from_db()
    assert identification.feedback == "Malus sylvestris"
    assert "Malus sylvestris" in user_client.get(reverse("recognition:history")).content.decode()


def test_feedback_with_an_unknown_label_is_refused(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    response = user_client.post(
        reverse("recognition:feedback", args=[identification.public_id]), {"label": "quercus"}, follow=True
    )
    assert "not one of this result" in response.content.decode()
    identification.refresh_from_db()
    assert identification.feedback == ""


def test_delete_asks_first_then_removes_rows_and_files(user_client, active_model, module_worker):
    _identify(user_client, photo_of((20, 160, 60)), photo_of((90, 60, 160)))
    identification = wait_until_finished(Identification.objects.get().pk)
    paths = [p.file.path for p in identification.photos.all()] + [p.thumbnail.path for p in identification.photos.all()]
    url = reverse("recognition:delete", args=[identification.public_id])
    assert "Delete this identification?" in user_client.get(url).content.decode()
    assert Identification.objects.exists()
    assert user_client.post(url).status_code == 302
    assert not Identification.objects.exists()
    assert not any(os.path.exists(path) for path in paths)


def test_photos_are_served_to_their_owner(user_client, user, active_model, media_root):
    _identify(user_client, upload(image_bytes(size=(90, 60))))
    photo = Identification.objects.get().photos.get()
    response = user_client.get(
        reverse("recognition:photo", args=[photo.identification.public_id, photo.pk, "original"])
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    assert len(photo.file.name.split("/")[-1]) >= 32  # an unguessable name


def test_the_upload_script_gets_the_result_address_as_json(user_client, active_model, module_worker):
    response = user_client.post(
        reverse("recognition:identify"), {"images": [photo_of((20, 160, 40))]}, HTTP_ACCEPT="application/json"
    )
    identification = Identification.objects.get()
    assert response.status_code == 201
    assert response.json() == {"url": reverse("recognition:detail", args=[identification.public_id])}
    wait_until_finished(identification.pk)  # the worker is done before the test database is emptied


def test_a_refusal_answers_the_upload_script_with_the_reasons_as_json(user_client, active_model, media_root):
    response = user_client.post(
        reverse("recognition:identify"),
        {"images": [upload(b"not an image at all")]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(isinstance(error, str) and error for error in errors)
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_the_result_page_shows_the_models_title_and_the_whole_wait(user, user_client, active_model):
    from datetime import timedelta

    active_model.title = "Garden flowers, spring"
    active_model.save()
    identification = Identification.objects.create(owner=user, status="done", model_version=active_model)
    Identification.objects.filter(pk=identification.pk).update(
        finished=identification.created + timedelta(seconds=4.8), duration_ms=77
    )
    Candidate.objects.create(identification=identification, rank=1, label="rosa", display_name="Rosa", probability=0.9)
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert "Garden flowers, spring" in page and active_model.name not in page
    assert "Answered 4.8 s after the upload" in page and "77 ms" not in page


def test_every_no_match_says_how_many_species_the_model_knows_with_a_link(user_client, user, active_model):
    for reason in ("unknown_species", "not_a_plant"):
        identification = _done(user, active_model, [0.5, 0.3, 0.2], outcome="no_match", reason=reason)
        page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
        notice = page[page.index('data-testid="no-match"') : page.index("</div>", page.index('data-testid="no-match"'))]
        species_url = reverse("recognition:species_of_model", args=[active_model.pk])
        assert f'href="{species_url}"' in notice
        assert f"This model knows {active_model.num_classes} species" in notice


def test_the_upload_form_says_how_many_species_the_model_knows(user_client, active_model):
    page = user_client.get(reverse("recognition:identify")).content.decode()
    count = page[page.index('data-testid="species-count"') :]
    assert f"This model knows {active_model.num_classes} species" in count.split("</p>")[0]
    assert reverse("recognition:species_of_model", args=[active_model.pk]) in count.split("</p>")[0]


def test_a_no_match_is_listed_in_the_history_by_its_reason_not_a_species(user_client, user, active_model):
    identification = _done(user, active_model, [0.413, 0.3, 0.2], outcome="no_match", reason="not_a_plant")
    page = user_client.get(reverse("recognition:history")).content.decode()
    row = page[page.index(f'data-id="{identification.public_id}"') : page.index("</li>")]
    assert "No match: not a plant" in row
    assert "Bellis" not in row and "41%" not in row and "41.3" not in row


def test_an_identified_row_in_the_history_carries_its_certainty_words(user_client, user, active_model):
    identification = _done(user, active_model, [0.913, 0.05, 0.03])
    page = user_client.get(reverse("recognition:history")).content.decode()
    row = page[page.index(f'data-id="{identification.public_id}"') : page.index("</li>")]
    assert "Bellis perennis" in row and "very likely · 91%" in row


def test_a_history_search_for_a_species_does_not_find_no_matches(user_client, user, active_model):
    identified = _done(user, active_model, [0.9, 0.05, 0.05])
    no_match = _done(user, active_model, [0.9, 0.05, 0.05], outcome="no_match", reason="unknown_species")
    found = user_client.get(reverse("recognition:history"), {"q": "Bellis"}).content.decode()
    assert f'data-id="{identified.public_id}"' in found and f'data-id="{no_match.public_id}"' not in found


@pytest.mark.parametrize("verdict", ["none_of_these", "not_a_plant"])
def test_feedback_can_say_none_of_the_candidates_or_not_a_plant(user_client, user, active_model, verdict):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    user_client.post(reverse("recognition:feedback", args=[identification.public_id]), {"label": verdict})
    identification.refresh_from_db()
    assert identification.feedback_verdict == verdict
    assert identification.feedback_label == "" and identification.feedback == ""
    assert identification.feedback_at is not None


def test_the_result_page_offers_none_of_these_and_not_a_plant_and_shows_the_kept_one(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2], outcome="no_match", reason="unknown_species")
    url = reverse("recognition:detail", args=[identification.public_id])
    page = user_client.get(url).content.decode()
    assert 'name="label" value="none_of_these"' in page and 'name="label" value="not_a_plant"' in page
    user_client.post(reverse("recognition:feedback", args=[identification.public_id]), {"label": "none_of_these"})
    page = user_client.get(url).content.decode()
    assert "Your answer: <strong>None of these</strong>" in page
    assert 'value="none_of_these" data-testid="verdict-none_of_these" checked' in page


def test_not_a_plant_with_a_typed_species_is_refused_and_keeps_the_earlier_answer(user_client, user, active_model):
    identification = _done(user, active_model, [0.5, 0.3, 0.2])
    url = reverse("recognition:feedback", args=[identification.public_id])
    user_client.post(url, {"label": "rosa_canina"})
    response = user_client.post(url, {"label": "not_a_plant", "species": "Rosa rugosa"}, follow=True)
    assert "You said it is not a plant" in response.content.decode()
    identification.refresh_from_db()
    assert identification.feedback == "Rosa canina" and identification.feedback_verdict == ""


def test_the_species_page_says_what_happens_to_a_plant_that_is_not_listed(user_client, active_model):
    page = user_client.get(reverse("recognition:species")).content.decode()
    not_listed = page[
        page.index('data-testid="not-listed"') : page.index("</p>", page.index('data-testid="not-listed"'))
    ]
    assert "cannot name a plant that is not in this list" in not_listed
    assert "No match: not a species this model knows" in not_listed
