"""Fixtures for recognition tests: users, photos made on the fly, an active tiny model, shared workers."""

from __future__ import annotations

import io
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from bench.worker_process import WorkerProcess
from recognition.tokens import create_token

PASSWORD = "Sturdy-Fern-4821"


def image_bytes(
    fmt: str = "JPEG", mode: str = "RGB", size: tuple[int, int] = (72, 56), color=(180, 40, 60), **save
) -> bytes:
    """Return a real encoded image of the given format and mode."""
    if mode in ("I;16", "I"):
        image = Image.new(mode, size, 40_000)
    elif mode in ("P", "L", "1"):
        image = Image.new(mode, size, 7 if mode == "P" else 128)
    elif mode in ("RGBA", "CMYK"):
        image = Image.new(mode, size, (*color, 200) if mode == "RGBA" else (10, 200, 30, 0))
    else:
        image = Image.new(mode, size, color)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def upload(data: bytes | None = None, name: str = "plant.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    """Return an uploaded file as a browser would send it."""
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)


def photo_of(color: tuple[int, int, int], size: int = 64, name: str = "plant.jpg") -> SimpleUploadedFile:
    """Return a JPEG upload of a simple coloured pattern (different colours give different predictions)."""
    image = Image.new("RGB", (size, size), color)
    for x in range(0, size, 8):
        image.paste((255 - color[0], color[1], 255 - color[2]), (x, 0, x + 4, size))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return upload(buffer.getvalue(), name)


def _key(identification_id: int | str) -> dict:
    """Return the lookup for a primary key or an API ``id`` (the public UUID)."""
    return {"pk": identification_id} if isinstance(identification_id, int) else {"public_id": identification_id}


def wait_until_finished(identification_id: int | str, timeout: float = 90.0):
    """Return the identification once a worker finished it (done or failed)."""
    from recognition.models import Identification

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        identification = Identification.objects.get(**_key(identification_id))
        if identification.is_finished:
            return identification
        time.sleep(0.3)
    raise AssertionError(f"identification {identification_id} still {identification.status} after {timeout:.0f}s")


def stored_files(media_root) -> list:
    """Return every file under the identifications folder of MEDIA_ROOT."""
    from pathlib import Path

    folder = Path(media_root) / "identifications"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("rowan", "rowan@example.org", PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("hazel", "hazel@example.org", PASSWORD)


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def fresh_throttles(settings):
    """Give this test a throttle history of its own: cache keys under a prefix no other test uses.

    Throttle keys name the user id, and ids repeat across tests on SQLite; deleting known keys would miss a
    scope the code under test invented, and cache.clear() on Redis would flush the broker's database too.
    """
    default = settings.CACHES["default"]
    prefix = f"{default.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def api(user, fresh_throttles):
    """A REST API client signed in with a token of ``user``, with a throttle history of its own."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user, 'test')[1]}")
    return client


@pytest.fixture
def active_model(tiny_checkpoint, settings, tmp_path):
    """The tiny checkpoint registered and active (its copy lives in this test's own MODELS_DIR)."""
    from ml import versions

    settings.MODELS_DIR = tmp_path / "models"
    return versions.register_checkpoint(tiny_checkpoint, name=f"tiny-{uuid.uuid4().hex[:8]}", activate=True)


def set_threshold(version, threshold: float) -> None:
    """Store a calibration with this acceptance threshold in a registered model's file; workers reload it.

    0.0 makes every answer *identified*; 1.0 makes every answer of an untrained model *no match*.
    """
    from ml import versions
    from plantml.checkpoint import load_checkpoint, write_payload
    from plantml.open_set import Calibration

    payload = load_checkpoint(version.checkpoint_path)
    payload["spec"]["calibration"] = Calibration(threshold=threshold).to_dict()
    write_payload(version.checkpoint_path, payload)
    versions.checkpoint_rewritten(version)


@pytest.fixture(scope="module")
def module_worker(django_db_setup, tmp_path_factory):
    """One real worker for a whole test module (its tests must use the transactional database)."""
    worker = WorkerProcess(tmp_path_factory.mktemp("worker")).start()
    yield worker
    worker.stop()


SPECIES_FACTS = {
    "rosa_canina": {
        "scientific_name": "Rosa canina",
        "authorship": "L.",
        "family": "Rosaceae",
        "gbif_id": 8395064,
        "common_names": {"en": "dog rose", "zh-hans": "犬蔷薇"},
    },
    "bellis_perennis": {"scientific_name": "Bellis perennis", "authorship": "L.", "family": "Asteraceae"},
}


def with_species_facts(version, folder, facts: dict = SPECIES_FACTS, photo_size: int = 40):
    """Give a registered version species ``facts`` (as `models species` does) and 2 reference photos per class
    (as `train` and registration leave them); return the updated version."""
    import json

    from ml import reference_photos, versions
    from plantml.references import write_reference_photos
    from tests.image_trees import make_image_tree

    (folder / "species.json").write_text(json.dumps(facts), encoding="utf-8")
    version = versions.update_species(version.name, folder / "species.json")
    tree = make_image_tree(folder / "train", dict.fromkeys(version.class_names, 3), size=photo_size)
    samples = [(path, index) for index, name in enumerate(version.class_names) for path in (tree / name).iterdir()]
    write_reference_photos(samples, version.num_classes, folder / "references", per_class=2)
    reference_photos.copy_references(folder / "references", version)
    return version


def with_credited_references(version, folder, index: int = 1):
    """Rewrite the reference photos that ``with_species_facts(version, folder)`` made so that class ``index``'s
    carry an author, licence (CC BY-NC), date and source page, as photos from `dataset gbif` do."""
    from ml import reference_photos
    from plantml.references import write_reference_photos

    tree = folder / "train"
    samples = [(path, i) for i, name in enumerate(version.class_names) for path in sorted((tree / name).iterdir())]
    provenance = {
        path.resolve(): {
            "creator": f"Author {path.stem}",
            "licence": "CC BY-NC",
            "created": "2024-05-04",
            "references": f"https://www.inaturalist.org/photos/{path.stem}",
        }
        for path, label in samples
        if label == index
    }
    write_reference_photos(samples, version.num_classes, folder / "credited", per_class=2, provenance=provenance)
    reference_photos.copy_references(folder / "credited", version)
    return version


@pytest.fixture
def species_model(active_model, tmp_path):
    """The active tiny model with SPECIES_FACTS (helianthus_annuus has none) and 2 reference photos per class."""
    return with_species_facts(active_model, tmp_path)
