"""On a 360 px touch screen every control of every page a user can reach is at least 44 x 44 CSS px (WCAG 2.5.5),
in English and in Chinese; the failure lists each control that is too small with its size."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Screen
from tests.e2e.test_accessibility_browser import visit_every_page
from tests.recognition.conftest import with_species_facts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_TARGET_PX = 44

# Every rendered control. A radio, checkbox or file input counts with the labels that click it: WCAG measures
# the hit area, and the label is where a finger lands (a file input hides behind its button-like label).
# No exemption: inline links in sentences are made 44 px too, so nothing here is skipped for being inline. A
# control hidden from both the keyboard and assistive technology (aria-hidden, tabindex -1) is not a target.
MEASURE_TARGETS = """
(min) => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  const rendered = (el) => el.checkVisibility({ visibilityProperty: true });
  const describe = (el) => {
    const text = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim();
    const kind = el.tagName.toLowerCase() + (el.type && el.tagName === "INPUT" ? "[" + el.type + "]" : "");
    return kind + " \\"" + text.replace(/\\s+/g, " ").slice(0, 40) + "\\"";
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!rendered(el)) continue;
    // a file input opened by its button, out of the tab order and the accessibility tree: the button is measured
    if (el.getAttribute("aria-hidden") === "true" && el.tabIndex < 0) continue;
    const areas = [el, ...(el.labels ? Array.from(el.labels) : [])].filter(rendered)
      .map((node) => node.getBoundingClientRect());
    if (areas.some((box) => box.width >= min && box.height >= min)) continue;
    const biggest = areas.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
    small.push(describe(el) + " is " + biggest.width.toFixed(0) + " x " + biggest.height.toFixed(0) + " px");
  }
  return small;
}
"""


def small_targets(page) -> list[str]:
    """Return one line per rendered control of the page smaller than 44 x 44 px (with its labels)."""
    assert page.evaluate("matchMedia('(pointer: coarse)').matches"), "the page is not on a touch screen"
    return [f"{page.url}: {line}" for line in page.evaluate(MEASURE_TARGETS, MIN_TARGET_PX)]


@pytest.mark.parametrize("screen", [Screen(360, "en-US"), Screen(360, "zh-CN")], ids=str)
def test_every_control_is_at_least_44_px_on_a_touch_screen(
    browser, live_server, screen, six_class_model, django_user_model, tmp_path
):
    model = with_species_facts(six_class_model, tmp_path, photo_size=120)  # reference photos and GBIF links
    (tmp_path / "chosen").mkdir()
    small = visit_every_page(browser, live_server, screen, model, django_user_model, tmp_path / "chosen", small_targets)
    assert small == [], f"{len(small)} controls under {MIN_TARGET_PX} x {MIN_TARGET_PX} px:\n" + "\n".join(small)
