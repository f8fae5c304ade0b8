"""Species facts and reference photos through the registry: train --species, registration, models species, removal."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml import reference_photos, versions
from plantml.checkpoint import load_checkpoint, spec_of
from plantml.species_facts import SpeciesInfo

pytestmark = pytest.mark.django_db

SPECIES_CSV = (
    "folder,scientific_name,authorship,genus,family,gbif_id,common_name_en,common_name_zh-hans\n"
    "rosa,Rosa canina,L.,Rosa,Rosaceae,8395064,dog rose,犬蔷薇\n"
    "viola,Viola odorata,L.,,Violaceae,,sweet violet,\n"
)
TRAIN = {
    "model": "convnextv2_atto",
    "epochs": 1,
    "head_epochs": 0,
    "input_size": 32,
    "batch_size": 8,
    "workers": 0,
    "pretrained": False,
    "register": False,
    "stdout": StringIO(),
}


@pytest.fixture(scope="module")
def species_run(image_tree, tmp_path_factory) -> Path:
    """A short run of the 3-class tree with a species file naming rosa and viola, 2 reference photos per class."""
    root = tmp_path_factory.mktemp("species-run")
    (root / "species.csv").write_text(SPECIES_CSV, encoding="utf-8")
    call_command(
        "train", data=image_tree, output=root / "run", species=root / "species.csv", reference_photos=2, **TRAIN
    )
    return root / "run"


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path) -> Path:
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def test_train_stores_the_species_files_facts_in_the_checkpoint(species_run):
    spec = spec_of(load_checkpoint(species_run / "best.pt"))
    assert spec.species_info()[1] == SpeciesInfo(
        "Rosa canina", "L.", "Rosa", "Rosaceae", {"en": "dog rose", "zh-hans": "犬蔷薇"}, 8395064
    )
    assert spec.species_info()[0] == SpeciesInfo("bellis")  # not in the file: its folder name


def test_train_shows_the_scientific_names_as_display_names(species_run):
    assert spec_of(load_checkpoint(species_run / "best.pt")).display_names == ["bellis", "Rosa canina", "Viola odorata"]


def test_train_keeps_reference_photos_of_each_class(species_run):
    photos = sorted(str(p.relative_to(species_run / "references")) for p in species_run.glob("references/*/*.jpg"))
    assert photos == ["0/1.jpg", "0/2.jpg", "1/1.jpg", "1/2.jpg", "2/1.jpg", "2/2.jpg"]


def test_a_species_file_with_an_unknown_folder_stops_train_before_training(image_tree, tmp_path):
    (tmp_path / "species.json").write_text(json.dumps({"tulipa": {"scientific_name": "Tulipa gesneriana"}}))
    with pytest.raises(CommandError, match="does not have: tulipa"):
        call_command("train", data=image_tree, output=tmp_path / "run", species=tmp_path / "species.json", **TRAIN)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_registering_records_the_species_facts(species_run):
    version = versions.register_checkpoint(species_run / "best.pt", name="with-facts")
    assert version.species_info(1).gbif_id == 8395064 and version.species_info(2).family == "Violaceae"


def test_registering_copies_the_reference_photos_beside_the_model(species_run, models_dir):
    version = versions.register_checkpoint(species_run / "best.pt", name="with-photos")
    assert reference_photos.references_dir(version) == models_dir / "with-photos.references"
    assert [reference_photos.reference_numbers(version, index) for index in range(3)] == [[1, 2]] * 3
    assert (
        reference_photos.reference_photo(version, 1, 2).read_bytes()
        == (species_run / "references/1/2.jpg").read_bytes()
    )


def test_a_missing_reference_photo_is_none(species_run):
    version = versions.register_checkpoint(species_run / "best.pt", name="few-photos")
    assert (
        reference_photos.reference_photo(version, 1, 3) is None
        and reference_photos.reference_photo(version, 7, 1) is None
    )


def test_removing_a_model_removes_its_reference_photos(species_run, models_dir):
    version = versions.register_checkpoint(species_run / "best.pt", name="short-lived")
    versions.remove_version(version.name)
    assert not (models_dir / "short-lived.references").exists() and not (models_dir / "short-lived.pt").exists()


def test_models_species_updates_the_registered_checkpoint_and_registry(tiny_checkpoint, tmp_path):
    version = versions.register_checkpoint(tiny_checkpoint, name="tiny-facts")
    facts = {"rosa_canina": {"scientific_name": "Rosa canina", "family": "Rosaceae", "gbif_id": 8395064}}
    (tmp_path / "species.json").write_text(json.dumps(facts))
    out = StringIO()
    call_command("models", "species", "tiny-facts", str(tmp_path / "species.json"), stdout=out)
    version.refresh_from_db()
    assert "species facts for 1 of 3 classes" in out.getvalue()
    assert version.species_info(1).family == "Rosaceae"
    assert spec_of(load_checkpoint(version.checkpoint_path)).species_info()[1].gbif_id == 8395064
    versions.verify(version)  # the recorded SHA-256 follows the rewritten file


def test_models_species_renames_folder_named_classes_and_keeps_chosen_names(species_run, tmp_path):
    versions.register_checkpoint(species_run / "best.pt", name="renamed")
    rows = "folder,scientific_name\nbellis,Bellis perennis\nrosa,Rosa rubiginosa\n"
    (tmp_path / "species.csv").write_text(rows)
    call_command("models", "species", "renamed", str(tmp_path / "species.csv"), stdout=StringIO())
    assert versions.get_version("renamed").display_names == ["Bellis perennis", "Rosa rubiginosa", "Viola odorata"]


def test_models_species_refuses_a_bad_file_and_leaves_the_model_as_it_was(tiny_checkpoint, tmp_path):
    version = versions.register_checkpoint(tiny_checkpoint, name="untouched")
    (tmp_path / "species.csv").write_text("folder,scientific_name\ntulipa,Tulipa\n")
    with pytest.raises(CommandError, match="does not have: tulipa"):
        call_command("models", "species", "untouched", str(tmp_path / "species.csv"))
    assert Path(version.checkpoint_path).read_bytes() == tiny_checkpoint.read_bytes()
