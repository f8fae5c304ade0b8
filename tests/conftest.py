"""Fixtures shared by every test package: real workers, real browsers, real data when present."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.image_trees import make_image_tree
from tests.skips import ALLOWED_SKIPS, unexpected
from tests.workers import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("PLANTSITE_DATASETS", ROOT.parent / "shared" / "datasets"))
CHROMIUM = os.environ.get("PLANTSITE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("PLANTSITE_CI") == "1"  # set by .ci/run: only the skips in tests/skips.py are allowed


def pytest_sessionfinish(session, exitstatus) -> None:
    """In CI, list every skip with its reason and fail the run when one is not in tests/skips.py."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not IN_CI or reporter is None:
        return
    reasons = [str(report.longrepr[2]) for report in reporter.stats.get("skipped", []) if report.longrepr]
    for reason in sorted(set(reasons)):
        allowed = next((why for prefix, why in ALLOWED_SKIPS.items() if prefix in reason), None)
        reporter.write_line(f"skip: {reason} -> {'allowed: ' + allowed if allowed else 'NOT ALLOWED'}")
    if unexpected(reasons):
        reporter.write_line("CI allows only the skips listed in tests/skips.py: fix the environment", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _broker_reachable() -> None:
    """Fail early, with the fix, when the suite runs without a Redis."""
    from django.conf import settings

    from plantsite.broker import broker_is_reachable

    if not broker_is_reachable(settings.CELERY_BROKER_URL):
        pytest.exit(
            f"no Redis answers at {settings.CELERY_BROKER_URL}: run `make test`, which starts an embedded one, "
            "or set REDIS_URL to a running Redis",
            returncode=3,
        )


@pytest.fixture
def celery_worker(transactional_db, tmp_path_factory):
    """A real Celery worker subprocess consuming this test run's queue; stopped afterwards."""
    worker = WorkerProcess(tmp_path_factory.mktemp("worker")).start()
    yield worker
    worker.stop()


@pytest.fixture
def media_root(settings, tmp_path):
    """A fresh MEDIA_ROOT for tests that check which files were (not) stored; in-process only."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(scope="session")
def flowers5() -> Path:
    """The shared flowers5 photo set; tests that need it skip when it is absent."""
    path = DATASETS / "flowers5"
    if not (path / "train").is_dir():
        pytest.skip(f"real photos not found at {path} (see ../shared/datasets/README.md)")
    return path


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright; skips with the reason when unavailable."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: make install-dev")
    # Playwright's sync API runs an event loop in this thread; the ORM calls that
    # the live server fixtures make from it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page; ``page.base_url`` is the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """An untrained convnextv2_atto checkpoint (3 classes, 64 px): a real model, fast on a CPU."""
    import torch

    from plantml.checkpoint import ModelSpec, save_checkpoint

    torch.manual_seed(0)
    spec = ModelSpec(
        architecture="convnextv2_atto",
        class_names=["bellis_perennis", "rosa_canina", "helianthus_annuus"],
        display_names=["Bellis perennis", "Rosa canina", "Helianthus annuus"],
        input_size=64,
    )
    return save_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "tiny.pt", random_head(spec.build_model()), spec, metrics={"top1": 0.0}
    )


def random_head(model):
    """Give a new (zero-initialised) classifier random weights, so predictions depend on the image."""
    import torch

    from plantml.modeling import classifier_name

    for parameter in model.get_submodule(classifier_name(model)).parameters():
        torch.nn.init.normal_(parameter, std=0.5)
    return model


@pytest.fixture(scope="session")
def image_tree(tmp_path_factory) -> Path:
    """A flat ImageFolder tree of 3 classes (12, 8, 6 images): no train/val/test sub-folders."""
    return make_image_tree(tmp_path_factory.mktemp("flat"), {"bellis": 12, "rosa": 8, "viola": 6})


@pytest.fixture(scope="session")
def split_tree(tmp_path_factory) -> Path:
    """A PlantNet-style tree with train/ val/ test/ sub-folders, 3 classes, a few images each."""
    root = tmp_path_factory.mktemp("split")
    counts = {"train": 8, "val": 3, "test": 3}
    for seed, (split, n) in enumerate(counts.items()):
        make_image_tree(root / split, {"bellis": n, "rosa": n, "viola": n}, seed=seed)
    return root


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """A lite0 head trained once per session with a plant probe: flowers5 and non-plant photos when present,
    else generated colours and noise (tests/trained_model.py)."""
    from tests import trained_model as t

    root = tmp_path_factory.mktemp("trained")
    if (DATASETS / "flowers5" / "train").is_dir() and (DATASETS / "nonplant").is_dir():
        data, min_top1, source = (
            t.flowers5_subset(DATASETS / "flowers5", root / "data"),
            t.FLOWERS5_MIN_TOP1,
            "flowers5",
        )
        reject, nonplants = t.nonplant_halves(DATASETS / "nonplant", root / "reject")
    else:
        data, min_top1, source = t.generated_tree(root / "data"), t.GENERATED_MIN_TOP1, "generated"
        reject, nonplants = t.generated_nonplants(root / "reject")
    checkpoint = t.train_head(data, root / "run", reject_data=reject)
    top1, examples, accepted, nonplant = t.score_held_out(checkpoint, t.held_out_photos(data), nonplants)
    return t.TrainedModel(checkpoint, top1, min_top1, examples, source, accepted, nonplant)


@pytest.fixture
def active_trained(trained_model, settings, tmp_path):
    """The trained checkpoint registered and active in this test's database."""
    import uuid

    from ml import versions

    settings.MODELS_DIR = tmp_path / "models"
    return versions.register_checkpoint(trained_model.checkpoint, name=f"trained-{uuid.uuid4().hex[:8]}", activate=True)
