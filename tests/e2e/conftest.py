"""Browser fixtures: a phone and a desktop, English and Chinese, with or without JavaScript; an active model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.e2e.pages import CSP_LISTENER

CLASSES = [
    "bellis_perennis",
    "taraxacum_officinale",
    "rosa_canina",
    "helianthus_annuus",
    "tulipa_gesneriana",
    "iris_germanica",
]


@dataclass(frozen=True)
class Screen:
    """A viewport and a browser language: the 390 x 844 phone (touch) or a 1280 px desktop."""

    width: int
    locale: str

    @property
    def phone(self) -> bool:
        return self.width < 600

    def __str__(self) -> str:
        return f"{self.width}px-{self.locale}"


PHONE_ZH = Screen(390, "zh-CN")
DESKTOP_EN = Screen(1280, "en-US")
# Flows run once per width and once per language; the accessibility check runs on all four.
FLOW_SCREENS = [PHONE_ZH, DESKTOP_EN]
ALL_SCREENS = [PHONE_ZH, Screen(390, "en-US"), Screen(1280, "zh-CN"), DESKTOP_EN]


def open_page(browser, live_server, screen: Screen, javascript: bool = True):
    """Return a page in a new context for ``screen``; close it with ``page.context.close()``."""
    context = browser.new_context(
        base_url=live_server.url,
        locale=screen.locale,
        viewport={"width": screen.width, "height": 844 if screen.phone else 900},
        is_mobile=screen.phone,
        has_touch=screen.phone,
        java_script_enabled=javascript,
    )
    context.add_init_script(CSP_LISTENER)  # for tests.e2e.pages.csp_violations
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture(params=FLOW_SCREENS, ids=str)
def screen_page(request, browser, live_server):
    """A page on the phone in Chinese, then on the desktop in English."""
    page = open_page(browser, live_server, request.param)
    page.screen = request.param
    yield page
    page.context.close()


@pytest.fixture
def six_class_model(settings, tmp_path):
    """An untrained 6-class convnextv2_atto checkpoint, registered and active, with a title and photo counts."""
    import torch

    from ml import versions
    from plantml.checkpoint import ModelSpec, save_checkpoint
    from tests.conftest import random_head

    torch.manual_seed(0)
    names = [name.replace("_", " ").capitalize() for name in CLASSES]
    spec = ModelSpec(architecture="convnextv2_atto", class_names=CLASSES, display_names=names, input_size=64)
    path = save_checkpoint(tmp_path / "six.pt", random_head(spec.build_model()), spec)
    settings.MODELS_DIR = tmp_path / "models"
    return versions.register_checkpoint(
        path,
        name=f"six-{uuid.uuid4().hex[:8]}",
        title="Six garden flowers",
        activate=True,
        metrics={"train_counts": [40, 31, 25, 12, 7, 3]},
    )


def stored_identification(
    owner, colors, *, answer: list[tuple[str, str, float]] = (), version=None, outcome="identified", reason=""
):
    """Store an identification with real photos (nothing queued); with ``answer`` it is done with those candidates
    and ``outcome`` (``reason``)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from recognition.models import Candidate, Identification, IdentificationPhoto
    from tests.recognition.conftest import photo_of

    done = bool(answer)
    identification = Identification.objects.create(
        owner=owner,
        status=Identification.Status.DONE if done else Identification.Status.PENDING,
        model_version=version,
        finished=timezone.now() if done else None,
        outcome=outcome if done else "",
        reason=reason if done else "",
    )
    for color in colors:
        photo = IdentificationPhoto(identification=identification, organ="leaf", width=64, height=64)
        data = photo_of(color).read()
        photo.file.save("photo.jpg", ContentFile(data), save=False)
        photo.thumbnail.save("thumb.jpg", ContentFile(data), save=False)
        photo.save()
    for rank, (label, name, probability) in enumerate(answer, start=1):
        Candidate.objects.create(
            identification=identification, rank=rank, label=label, display_name=name, probability=probability
        )
    return identification
