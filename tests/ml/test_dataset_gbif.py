"""manage.py dataset gbif: a Darwin Core Archive served from 127.0.0.1 made into an ImageFolder, provenance
and species file; resumed after a SIGKILL; trained into a model whose reference photos credit their authors."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from ml import reference_photos
from ml.models import ModelVersion
from plantml.datasets.downloads import PARTIAL, done_files
from tests.gbif_archive import DC, DWC, GBIF, PhotoServer, Route, photo_bytes, write_archive

ROOT = Path(__file__).resolve().parents[2]
ROSA = {
    GBIF + "speciesKey": "8395064",
    GBIF + "taxonKey": "8395064",
    GBIF + "species": "Rosa canina",
    DWC + "scientificName": "Rosa canina L.",
    DWC + "genus": "Rosa",
    DWC + "family": "Rosaceae",
    DC + "license": "CC_BY_4_0",
}
BELLIS = {
    GBIF + "speciesKey": "3117424",
    GBIF + "taxonKey": "3117424",
    GBIF + "species": "Bellis perennis",
    DWC + "scientificName": "Bellis perennis L.",
    DWC + "genus": "Bellis",
    DWC + "family": "Asteraceae",
    DC + "license": "CC_BY_4_0",
}
GENUS_ONLY = {GBIF + "taxonKey": "3000", DWC + "scientificName": "Rosa L.", DWC + "genus": "Rosa"}
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
# media ids (<occurrence>_<n>) by what they are
ROSA_GOOD = {"1001_1", "1001_2", "1002_1", "1003_1", "1004_1", "1005_1"}
BELLIS_GOOD = {"2001_1", "2002_1", "2003_1", "2004_1", "2004_2"}
DUPLICATE = "1006_1"  # the same bytes as 1001_1
NO_DERIVATIVES = "1006_2"
FLAKY = "1004_1"  # 500, then the photo
BROKEN = "2005_1"
SILENT = "2006_1"  # answers only after the timeout
SOUND = "2006_2"
GENUS = "3001_1"
FAST = ["--timeout", "0.5", "--retries", "2", "--backoff", "0.05", "--rate", "1000"]


def scenario(server: PhotoServer, pause: float = 0.0) -> tuple[list[dict], list[dict]]:
    """Fill ``server``'s routes and return (occurrence rows, media rows) of the two-species archive."""
    occurrences = [{**ROSA, GBIF + "gbifID": str(n)} for n in range(1001, 1007)]
    occurrences += [{**BELLIS, GBIF + "gbifID": str(n)} for n in range(2001, 2007)]
    occurrences.append({**GENUS_ONLY, GBIF + "gbifID": "3001"})
    licences = {
        "1001_2": "http://creativecommons.org/publicdomain/zero/1.0/",
        "1002_1": "CC BY-NC 4.0",
        "1003_1": "",  # the occurrence's licence (CC_BY_4_0) applies
        NO_DERIVATIVES: "http://creativecommons.org/licenses/by-nd/4.0/",
    }
    ids = sorted(ROSA_GOOD | BELLIS_GOOD | {DUPLICATE, NO_DERIVATIVES, BROKEN, SILENT, GENUS})
    bodies = {media_id: photo_bytes(seed) for seed, media_id in enumerate(ids)}
    bodies[DUPLICATE], bodies[BROKEN] = bodies["1001_1"], b"not a jpeg at all"
    media = []
    for media_id in ids:
        server.routes[f"/p/{media_id}.jpg"] = Route(
            body=bodies[media_id],
            failures=1 if media_id == FLAKY else 0,
            hang=3.0 if media_id == SILENT else 0.0,
            pause=pause,
        )
        media.append(
            {
                GBIF + "gbifID": media_id.split("_")[0],
                DC + "identifier": server.url(f"/p/{media_id}.jpg"),
                DC + "type": "StillImage",
                DC + "format": "image/jpeg",
                DC + "license": licences.get(media_id, CC_BY),
                DC + "creator": f"Author of {media_id}",
                DC + "rightsHolder": f"Holder of {media_id}",
                DC + "created": "2024-05-04T10:00:00Z",
                DC + "references": f"https://www.inaturalist.org/photos/{media_id}",
            }
        )
    media.append({GBIF + "gbifID": "2006", DC + "identifier": server.url("/s.mp3"), DC + "type": "Sound"})
    media.sort(key=lambda row: row[GBIF + "gbifID"])  # 2006's photo comes before its sound: <occurrence>_1, _2
    return occurrences, media


def gbif_args(archive: Path, output: Path, *more: str) -> list[str]:
    return ["gbif", str(archive), "--output", str(output), *FAST, *more]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def media_of(rows: list[dict[str, str]]) -> set[str]:
    return {row["media_id"] for row in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The archive built once into an ImageFolder: (output folder, the command's output, requests per path)."""
    root = tmp_path_factory.mktemp("gbif")
    with PhotoServer({}) as server:
        archive = write_archive(root / "gbif.zip", *scenario(server))
        out = StringIO()
        call_command("dataset", *gbif_args(archive, root / "data", "--jobs", "4"), stdout=out)
    return root / "data", out.getvalue(), server.hits


def test_photos_are_filed_per_species_under_train_val_test(built):
    data, _, _ = built
    folders = {path.name for split in ("train", "val", "test") for path in (data / split).iterdir()}
    assert folders == {"8395064_Rosa_canina", "3117424_Bellis_perennis"}
    kept = media_of(read_csv(data / "provenance.csv"))
    assert {path.stem for path in data.glob("*/*/*.jpg")} == kept
    assert kept - {"1001_1", DUPLICATE} == (ROSA_GOOD | BELLIS_GOOD) - {"1001_1"}
    assert len(kept & {"1001_1", DUPLICATE}) == 1  # one of the two identical photos


def test_photos_of_one_occurrence_never_straddle_splits(built):
    data, _, _ = built
    split_of: dict[str, set[str]] = {}
    for path in data.glob("*/*/*.jpg"):
        split_of.setdefault(path.stem.split("_")[0], set()).add(path.parts[-3])
    assert all(len(splits) == 1 for splits in split_of.values())
    for folder in ("8395064_Rosa_canina", "3117424_Bellis_perennis"):
        assert all(list((data / split / folder).glob("*.jpg")) for split in ("train", "val", "test"))


def test_every_photo_has_its_source_licence_and_author(built):
    data, _, _ = built
    rows = {row["media_id"]: row for row in read_csv(data / "provenance.csv")}
    assert rows["1001_2"]["licence"] == "CC0" and rows["1002_1"]["licence"] == "CC BY-NC"
    assert rows["1003_1"]["licence"] == "CC BY" and rows["1003_1"]["licence_given"] == "CC_BY_4_0"
    row = rows["2004_2"]
    assert row["url"].endswith("/p/2004_2.jpg") and row["occurrence_id"] == "2004"
    assert (row["creator"], row["rights_holder"], row["created"]) == (
        "Author of 2004_2",
        "Holder of 2004_2",
        "2024-05-04T10:00:00Z",
    )
    assert row["file"].endswith("/3117424_Bellis_perennis/2004_2.jpg") and (data / row["file"]).is_file()


def test_the_species_file_gives_names_authorship_family_and_gbif_id(built):
    data, _, _ = built
    rows = {row["folder"]: row for row in read_csv(data / "species.csv")}
    assert rows["8395064_Rosa_canina"] == {
        "folder": "8395064_Rosa_canina",
        "scientific_name": "Rosa canina",
        "authorship": "L.",
        "genus": "Rosa",
        "family": "Rosaceae",
        "gbif_id": "8395064",
    }
    assert rows["3117424_Bellis_perennis"]["family"] == "Asteraceae" and len(rows) == 2


def test_failures_are_listed_with_their_reason(built):
    data, output, _ = built
    reasons = {row["media_id"]: row["reason"] for row in read_csv(data / "failures.csv")}
    assert reasons[BROKEN].startswith("not an image")
    assert reasons[SILENT] == "no answer within 0.5 s (3 tries)"
    assert len([reason for reason in reasons.values() if reason.startswith("duplicate of")]) == 1
    assert "2 photos failed" in output and "1 duplicate photos dropped" in output


def test_licences_not_asked_for_and_non_images_are_never_fetched(built):
    _, output, hits = built
    assert hits[f"/p/{NO_DERIVATIVES}.jpg"] == 0 and hits["/s.mp3"] == 0 and hits[f"/p/{GENUS}.jpg"] == 0
    assert "1 licence CC BY-ND not in --licences" in output and "1 not a still image (Sound)" in output


def test_a_server_error_is_retried(built):
    data, _, hits = built
    assert hits[f"/p/{FLAKY}.jpg"] == 2 and FLAKY in media_of(read_csv(data / "provenance.csv"))


def test_an_archive_without_multimedia_is_refused_with_the_fix(tmp_path):
    with zipfile.ZipFile(tmp_path / "simple.zip", "w") as archive:
        archive.writestr(
            "meta.xml", '<archive xmlns="http://rs.tdwg.org/dwc/text/"><core><id index="0"/></core></archive>'
        )
    with pytest.raises(CommandError, match="no multimedia extension .*'Darwin Core Archive' format"):
        call_command("dataset", *gbif_args(tmp_path / "simple.zip", tmp_path / "data"))
    assert not (tmp_path / "data").exists()


def test_a_run_killed_mid_download_resumes_fetching_only_what_is_missing(built, tmp_path):
    data, _, _ = built
    with PhotoServer({}) as server:
        archive = write_archive(tmp_path / "gbif.zip", *scenario(server, pause=0.4))
        output = tmp_path / "data"
        command = [sys.executable, "manage.py", "dataset", *gbif_args(archive, output, "--jobs", "1")]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "plantsite.settings.test"}
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # kill it halfway through a photo, after three were done
                assert child.poll() is None, child.stderr.read().decode()[-2000:]
                if len(done_files(output / "downloads")) >= 3 and list(output.glob(f"downloads/*{PARTIAL}")):
                    break
                time.sleep(0.02)
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
        finally:
            child.kill()
            child.stderr.close()
        finished = done_files(output / "downloads")
        assert list((output / "downloads").glob(f"*{PARTIAL}"))  # it was killed halfway through a photo
        assert all(path.read_bytes() == server.routes[f"/p/{path.name}"].body for path in finished.values())
        assert not (output / "provenance.csv").exists()
        for route in server.routes.values():
            route.pause = 0.0
        call_command("dataset", *gbif_args(archive, output, "--jobs", "4"), stdout=StringIO())
    assert all(server.hits[f"/p/{path.name}"] == 1 for path in finished.values())
    assert sorted(row["file"] for row in read_csv(output / "provenance.csv")) == sorted(
        row["file"] for row in read_csv(data / "provenance.csv")
    )  # the same tree as an uninterrupted run
    assert all(Image.open(path).load() is not None for path in output.glob("*/*/*.jpg"))


@pytest.mark.slow
@pytest.mark.django_db
def test_train_on_the_result_registers_reference_photos_with_author_and_licence(built, tmp_path, settings):
    data, _, _ = built
    settings.MODELS_DIR = tmp_path / "models"
    call_command(
        "train",
        data=data,
        species=data / "species.csv",
        output=tmp_path / "run",
        name="from-gbif",
        model="convnextv2_atto",
        epochs=1,
        head_epochs=0,
        input_size=32,
        batch_size=4,
        workers=0,
        pretrained=False,
        reference_photos=2,
        stdout=StringIO(),
    )
    version = ModelVersion.objects.get(name="from-gbif")
    rows = read_csv(data / "provenance.csv")
    for index, folder in enumerate(sorted(["8395064_Rosa_canina", "3117424_Bellis_perennis"])):
        train_rows = {row["url"]: row for row in rows if row["file"].startswith(f"train/{folder}/")}
        assert reference_photos.reference_numbers(version, index) == [1, 2]
        for number in (1, 2):
            credit = reference_photos.reference_attribution(version, index, number)
            source = train_rows[credit["url"]]
            assert (credit["creator"], credit["licence"]) == (source["creator"], source["licence"])
            assert credit["rights_holder"] == source["rights_holder"]
    features = reference_photos.reference_features(version)  # for the worker's "most similar" ranking
    assert features is not None and sorted(features.bounds) == [0, 1] and len(features.numbers) == 4
