"""The installable app in Chromium: the service worker keeps the static files and the upload page, so the page opens
without a connection; photos chosen offline wait, listed, and become an identification when the connection returns."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.pages import csp_violations, sign_up
from tests.e2e.test_identify_browser import make_photos

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


WORKER_STATE = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  const state = (worker) => (worker ? worker.state : null);
  return registration && {installing: state(registration.installing), waiting: state(registration.waiting),
                          active: state(registration.active), controlled: !!navigator.serviceWorker.controller};
}"""


def controlled(page) -> None:
    """Wait until the service worker controls the page, then load it again so the worker keeps a copy of it.

    Headless Chromium now and then leaves a first page uncontrolled although the worker activated (seen about
    once in 20 runs on a loaded machine); a browser takes control at the next navigation, so a reload is tried
    before the test fails, and a failure says what state the worker was in.
    """
    for _ in range(3):
        try:
            page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.reload()
    else:
        pytest.fail(f"the service worker never controlled the page: {page.evaluate(WORKER_STATE)}")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def signed_in_and_controlled(page) -> None:
    """Sign a new person up, open the upload page and wait until the service worker controls it."""
    sign_up(page, "linnaeus", "carl@example.org", "Binomial-Names-1753")
    page.goto("/identify/")
    controlled(page)


def queue_offline(page, photos) -> None:
    """Go offline, choose ``photos`` (a path or a list of them) and press Identify: the batch waits on the phone."""
    page.context.set_offline(True)
    page.set_input_files("#id_images", photos)
    page.click("#identify-button")
    page.get_by_test_id("waiting-count").wait_for()


def queue_emptied(page) -> None:
    """Wait until no batch is left in this browser's queue."""
    page.wait_for_function("() => self.plantsiteQueue.list().then(batches => batches.length === 0)")


def wait_for_rows(model, count: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while model.objects.count() != count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert model.objects.count() == count


def test_the_worker_keeps_the_static_files_and_the_upload_page_opens_offline(screen_page, six_class_model):
    page = screen_page
    signed_in_and_controlled(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then(registration => registration.scope)")
    assert scope == page.evaluate("location.origin") + "/"  # the whole site, from /sw.js
    scripts = page.eval_on_selector_all("script[src]", "scripts => scripts.map(s => new URL(s.src).pathname)")
    styles = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => new URL(l.href).pathname)")
    assert any(path.endswith("identify.js") for path in scripts)
    kept = page.evaluate(
        """async (paths) => {
          const names = await caches.keys();
          const found = await Promise.all(paths.map(async p => !!(await caches.match(p))));
          return {names, missing: paths.filter((p, i) => !found[i])};
        }""",
        scripts + styles,
    )
    assert any(name.startswith("plantsite-assets-") for name in kept["names"]), kept
    assert kept["missing"] == [], kept

    page.context.set_offline(True)
    page.reload()  # no connection: the worker answers with its copy of the page and files
    assert page.locator("#identify-form").is_visible()
    assert page.evaluate("navigator.onLine") is False
    assert page.evaluate("typeof self.plantsiteQueue") == "object"  # the scripts came from the cache
    page.context.set_offline(False)


def test_photos_chosen_offline_wait_and_are_sent_when_the_connection_returns(screen_page, six_class_model, tmp_path):
    from recognition.models import Identification

    page = screen_page
    signed_in_and_controlled(page)

    page.context.set_offline(True)
    page.set_input_files("#id_images", [str(path) for path in make_photos(tmp_path, 2)])
    page.get_by_test_id("chosen-photo").nth(0).locator("select").select_option("leaf")
    page.get_by_test_id("chosen-photo").nth(1).locator("select").select_option("flower")
    page.click("#identify-button")

    waiting = page.get_by_test_id("waiting-count")
    waiting.wait_for()
    assert re.search(r"\b2\b", waiting.inner_text()), waiting.inner_text()
    assert page.get_by_test_id("waiting-batch").locator("img").count() == 2
    assert page.get_by_test_id("chosen-photo").count() == 0
    assert page.evaluate("document.activeElement.id") == "waiting-title"
    time.sleep(1)  # nothing leaves while offline, whoever tries
    assert not Identification.objects.exists()

    page.context.set_offline(False)
    sent = page.get_by_test_id("sent-batch").locator("a")
    sent.wait_for()
    wait_for_rows(Identification, 1)
    identification = Identification.objects.get()
    assert list(identification.photos.order_by("pk").values_list("organ", flat=True)) == ["leaf", "flower"]
    assert sent.get_attribute("href").endswith(f"/identifications/{identification.public_id}/")
    assert waiting.is_hidden() and page.get_by_test_id("waiting-batch").count() == 0
    assert page.evaluate("self.plantsiteQueue.list().then(batches => batches.length)") == 0
    assert csp_violations(page) == []

    sent.click()
    page.wait_for_url(re.compile(rf"/identifications/{identification.public_id}/$"))


def test_photos_left_waiting_are_sent_at_the_next_visit(screen_page, six_class_model, tmp_path):
    from recognition.models import Identification

    page = screen_page
    signed_in_and_controlled(page)
    context = page.context
    queue_offline(page, str(make_photos(tmp_path, 1)[0]))
    page.close()  # the tab is closed before the connection returns

    context.set_offline(False)
    later = context.new_page()
    later.goto("/history/")
    wait_for_rows(Identification, 1)
    assert Identification.objects.get().photos.count() == 1
    queue_emptied(later)


def stored_batches(page) -> list[dict]:
    """Return the batches kept in this browser's IndexedDB, without their photos."""
    return page.evaluate(
        "self.plantsiteQueue.list().then(batches => batches.map(b => ({user: b.user, state: b.state,"
        " key: b.key, errors: b.errors || []})))"
    )


def test_a_batch_the_server_refuses_stays_listed_with_its_reason_until_dismissed(
    screen_page, six_class_model, tmp_path
):
    from recognition.models import Identification

    page = screen_page
    signed_in_and_controlled(page)
    broken = tmp_path / "broken.jpg"  # a JPEG by its name and type, which the server cannot read
    broken.write_bytes(b"these bytes are no photo at all")

    queue_offline(page, str(broken))
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", stored_batches(page)[0]["key"]
    )

    page.context.set_offline(False)  # sent when the connection returns, and refused
    refused = page.get_by_test_id("refused-batch")
    refused.wait_for()
    assert refused.locator(".error").inner_text().strip() != ""
    assert refused.locator("img").count() == 1
    assert not Identification.objects.exists()
    [kept] = stored_batches(page)  # the photo is still on the phone, marked refused with the server's reason
    assert kept["state"] == "refused" and kept["errors"], kept
    assert page.get_by_test_id("waiting-batch").count() == 0

    page.reload()  # no page has to be open when it is refused: the next one shows it, and no one sends it again
    refused.wait_for()
    time.sleep(1)
    assert not Identification.objects.exists() and len(stored_batches(page)) == 1
    dismiss = refused.get_by_test_id("refused-dismiss")
    if page.screen.phone:  # a finger's target on a touch screen
        box = dismiss.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    assert csp_violations(page) == []
    dismiss.click()
    queue_emptied(page)
    refused.wait_for(state="detached")
    assert page.locator("#waiting").is_hidden()
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"  # focus stays in the form, not lost


def test_a_refused_batch_can_go_back_into_the_form(screen_page, six_class_model, tmp_path):
    page = screen_page
    signed_in_and_controlled(page)
    page.context.set_offline(True)
    # an organ this server does not know (a newer page's, say) is refused as a whole batch
    page.set_input_files("#id_images", str(make_photos(tmp_path, 1)[0]))
    page.eval_on_selector(
        "[data-testid=chosen-photo] select",
        "s => { s.add(new Option('root', 'root')); s.value = 'root'; s.dispatchEvent(new Event('change')); }",
    )
    page.click("#identify-button")
    page.get_by_test_id("waiting-count").wait_for()
    page.context.set_offline(False)
    refused = page.get_by_test_id("refused-batch")
    refused.wait_for()
    assert "root" in refused.inner_text()

    refused.get_by_test_id("refused-restore").click()
    page.get_by_test_id("chosen-photo").wait_for()
    refused.wait_for(state="detached")
    assert page.get_by_test_id("chosen-photo").count() == 1
    assert page.evaluate("document.activeElement.dataset.opens") == "id_images"
    queue_emptied(page)


def test_another_person_signed_in_on_the_same_phone_sees_and_sends_nothing_of_the_first(
    screen_page, six_class_model, tmp_path
):
    from django.contrib.auth import get_user_model

    from plantsite.pwa import PAGES_CACHE
    from recognition.models import Identification

    page = screen_page
    context = page.context
    signed_in_and_controlled(page)
    first_name = "linnaeus"
    queue_offline(page, str(make_photos(tmp_path, 1)[0]))
    kept_pages = """async (name) => {
      const cache = await caches.open(name);
      const pages = await Promise.all((await cache.keys()).map(async r => (await cache.match(r)).text()));
      return pages;
    }"""
    assert any(first_name in text for text in page.evaluate(kept_pages, PAGES_CACHE))
    page.close()
    context.clear_cookies()  # the first session ran out: nobody pressed "Log out"
    context.set_offline(False)

    later = context.new_page()
    sign_up(later, "candolle", "augustin@example.org", "Prodromus-Systematis-1824")
    # the second person has not opened the upload page yet: offline, the first one's copy would be shown
    deadline = time.monotonic() + 10
    while any(first_name in text for text in later.evaluate(kept_pages, PAGES_CACHE)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(first_name in text for text in later.evaluate(kept_pages, PAGES_CACHE))
    later.goto("/identify/")
    later.get_by_test_id("username").wait_for()
    assert later.get_by_test_id("waiting-batch").count() == 0 and later.locator("#waiting").is_hidden()
    time.sleep(2)  # the page, and the worker's Background Sync, had their chance to send it as the second person
    assert not Identification.objects.exists()
    first = get_user_model().objects.get(username=first_name)
    assert [batch["user"] for batch in stored_batches(later)] == [str(first.pk)]  # still waiting for its owner


def test_an_upload_whose_answer_was_lost_is_kept_and_sent_again_without_a_second_identification(
    screen_page, six_class_model, tmp_path
):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recognition import services
    from recognition.models import Identification
    from recognition.validators import prepare_uploads

    page = screen_page
    signed_in_and_controlled(page)
    photo = make_photos(tmp_path, 1)[0]
    keys = []

    def store_then_lose_the_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        # the server stores the upload under the page's key; the answer never reaches the page
        key = re.search(rb'name="client_key"\r\n\r\n([0-9a-f-]{36})', route.request.post_data_buffer).group(1)
        keys.append(key.decode())
        owner = get_user_model().objects.get(username="linnaeus")
        upload = SimpleUploadedFile("shot.jpg", photo.read_bytes(), content_type="image/jpeg")
        services.create_identification(owner, prepare_uploads([upload]), client_key=keys[0])
        route.abort("connectionreset")

    page.route("**/identify/", store_then_lose_the_answer)
    page.set_input_files("#id_images", str(photo))
    page.click("#identify-button")
    # for the page the photos never left: it keeps them, with the same key, and sends them (Background Sync, or
    # the next visit); the server knows the key and answers with the identification it stored
    page.locator("[data-testid=waiting-batch], [data-testid=sent-batch]").first.wait_for()
    assert len(keys) == 1
    page.unroute("**/identify/")
    page.reload()
    queue_emptied(page)
    time.sleep(1)
    stored = Identification.objects.get()
    assert [str(stored.client_key)] == keys
