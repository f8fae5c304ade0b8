"""manage.py export-feedback: consenting users' confirmed photos as an ImageFolder plus provenance."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from plantml.data import scan_image_folder
from plantml.training import recipes
from recognition import services
from recognition.feedback_export import PROVENANCE_COLUMNS, PROVENANCE_FILE
from recognition.models import Identification
from recognition.validators import prepare_uploads

from .conftest import photo_of

pytestmark = pytest.mark.django_db


def answered(
    owner, model_version, *, photos: int = 1, label: str = "", species: str = "", verdict: str = ""
) -> Identification:
    """Return a finished identification of ``owner`` with the given feedback (no worker: nothing commits here)."""
    uploads = [photo_of((40 * i + 60, 120, 200 - 30 * i)) for i in range(photos)]
    identification = services.create_identification(owner, prepare_uploads(uploads))
    identification.candidates.create(rank=1, label="rosa_canina", display_name="Rosa canina", probability=0.7)
    identification.candidates.create(rank=2, label="bellis_perennis", display_name="Bellis perennis", probability=0.2)
    Identification.objects.filter(pk=identification.pk).update(
        status="done", finished=timezone.now(), model_version=model_version
    )
    identification.refresh_from_db()
    if label or species or verdict:
        services.record_feedback(identification, label=label, text=species, verdict=verdict)
    return identification


def export(*args: str) -> str:
    out = StringIO()
    call_command("export-feedback", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def consenting(user):
    services.set_share_confirmed_photos(user, True)
    return user


def test_only_consenting_users_photos_are_exported(consenting, other_user, active_model, tmp_path, media_root):
    mine = answered(consenting, active_model, label="rosa_canina")
    answered(other_user, active_model, label="rosa_canina")  # never agreed
    export("--output", str(tmp_path / "out"))
    rows = list(csv.DictReader((tmp_path / "out" / PROVENANCE_FILE).open()))
    assert [int(row["identification_id"]) for row in rows] == [mine.pk]
    assert sorted(p.name for p in (tmp_path / "out" / "rosa_canina").iterdir()) == [
        f"identification{mine.pk}-photo{mine.photos.get().pk}.jpg"
    ]


def test_withdrawn_consent_exports_nothing(consenting, active_model, tmp_path, media_root):
    answered(consenting, active_model, label="rosa_canina")
    services.set_share_confirmed_photos(consenting, False)
    assert "exported 0 photos" in export("--output", str(tmp_path / "out"))
    assert list(csv.reader((tmp_path / "out" / PROVENANCE_FILE).open())) == [PROVENANCE_COLUMNS]


def test_corrections_map_to_known_classes_by_name_or_make_a_new_class(consenting, active_model, tmp_path, media_root):
    answered(consenting, active_model, species="bellis perennis")  # a display name of the model, other case
    answered(consenting, active_model, species="Helianthus_annuus")  # a class name
    answered(consenting, active_model, species="Rosa rugosa")  # unknown: a class of its own
    answered(consenting, active_model)  # no feedback: not exported
    export("--output", str(tmp_path / "out"))
    samples, classes, _ = scan_image_folder(tmp_path / "out")
    assert classes == ["bellis_perennis", "helianthus_annuus", "rosa_rugosa"]
    assert len(samples) == 3


def test_none_of_these_and_not_a_plant_are_never_exported_as_classes(consenting, active_model, tmp_path, media_root):
    answered(consenting, active_model, verdict="none_of_these")
    answered(consenting, active_model, verdict="not_a_plant")
    named = answered(consenting, active_model, species="Rosa rugosa", verdict="none_of_these")
    export("--output", str(tmp_path / "out"))
    _, classes, _ = scan_image_folder(tmp_path / "out")
    assert classes == ["rosa_rugosa"]
    rows = list(csv.DictReader((tmp_path / "out" / PROVENANCE_FILE).open()))
    assert [int(row["identification_id"]) for row in rows] == [named.pk]


def test_provenance_records_model_original_answer_and_feedback(consenting, active_model, tmp_path, media_root):
    identification = answered(consenting, active_model, photos=2, species="Rosa rugosa")
    export("--output", str(tmp_path / "out"))
    rows = list(csv.DictReader((tmp_path / "out" / PROVENANCE_FILE).open()))
    assert len(rows) == 2
    row = rows[0]
    assert row["class"] == "rosa_rugosa" and row["file"].startswith("rosa_rugosa/")
    assert row["model_version"] == active_model.name
    assert (row["original_top1"], float(row["original_probability"])) == ("rosa_canina", 0.7)
    assert row["feedback"] == "Rosa rugosa"
    assert (
        dt.datetime.fromisoformat(row["feedback_date"]) == Identification.objects.get(pk=identification.pk).feedback_at
    )


def test_min_agreement_leaves_out_classes_named_too_rarely(consenting, active_model, tmp_path, media_root):
    answered(consenting, active_model, label="rosa_canina")
    answered(consenting, active_model, label="rosa_canina")
    answered(consenting, active_model, species="Rosa rugosa")
    output = export("--output", str(tmp_path / "out"), "--min-agreement", "2")
    assert "left out rosa_rugosa: 1 identification(s), fewer than --min-agreement 2" in output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["rosa_canina"]


def test_since_keeps_only_recent_feedback(consenting, active_model, tmp_path, media_root):
    old = answered(consenting, active_model, label="rosa_canina")
    Identification.objects.filter(pk=old.pk).update(feedback_at=timezone.now() - dt.timedelta(days=10))
    recent = answered(consenting, active_model, label="bellis_perennis")
    since = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    export("--output", str(tmp_path / "out"), "--since", since)
    rows = list(csv.DictReader((tmp_path / "out" / PROVENANCE_FILE).open()))
    assert [int(row["identification_id"]) for row in rows] == [recent.pk]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "--since 'last week' is not a date: use YYYY-MM-DD"),
        (["--min-agreement", "0"], "--min-agreement must be 1 or more"),
    ],
)
def test_bad_options_name_the_fix(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        export("--output", str(tmp_path / "out"), *args)


def test_a_non_empty_output_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty folder: choose a new --output folder"):
        export("--output", str(tmp_path / "out"))
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_a_second_training_run_learns_from_the_exported_feedback(
    consenting, active_model, split_tree, tmp_path, media_root, settings
):
    from ml.models import ModelVersion

    answered(consenting, active_model, photos=2, species="Rosa rugosa")
    answered(consenting, active_model, label="rosa_canina")
    export("--output", str(tmp_path / "feedback"))
    out = StringIO()
    options = recipes.tiny(data=split_tree, extra_data=[tmp_path / "feedback"], output=tmp_path / "run-2")
    call_command("train", **options, name="with-feedback", stdout=out)
    version = ModelVersion.objects.get(name="with-feedback")
    assert version.class_names == ["bellis", "rosa", "viola", "rosa_canina", "rosa_rugosa"]
    assert (version.metrics["split"], version.metrics["num_samples"]) == ("test", 9)  # --data's test split only


def test_a_kept_location_is_not_exported_for_training(consenting, active_model, tmp_path, media_root):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import ExifTags, Image

    from tests.exif_photos import exif_jpeg

    services.set_keep_photo_location(consenting, True)  # consent to storing the place, not to sharing it
    upload = SimpleUploadedFile("field.jpg", exif_jpeg(), content_type="image/jpeg")
    identification = services.create_identification(consenting, prepare_uploads([upload]))
    identification.candidates.create(rank=1, label="rosa_canina", display_name="Rosa canina", probability=0.7)
    Identification.objects.filter(pk=identification.pk).update(status="done", model_version=active_model)
    identification.refresh_from_db()
    services.record_feedback(identification, label="rosa_canina", text="", verdict="")
    assert identification.photos.get().latitude is not None
    export("--output", str(tmp_path / "out"))
    (exported,) = (tmp_path / "out" / "rosa_canina").iterdir()
    exif = Image.open(io.BytesIO(exported.read_bytes())).getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and exif[ExifTags.Base.Orientation] == 6
