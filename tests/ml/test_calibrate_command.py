"""manage.py calibrate and evaluate's open-set report, on a real checkpoint and real image files."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from plantml.checkpoint import load_checkpoint, spec_of
from plantml.training import recipes
from tests.image_trees import make_image_tree

CLASSES = ["bellis_perennis", "rosa_canina", "helianthus_annuus"]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    for seed, (split, count) in enumerate({"train": 2, "val": 6, "test": 4}.items()):
        make_image_tree(tmp_path / "data" / split, dict.fromkeys(CLASSES, count), seed=seed)
    return tmp_path / "data"


@pytest.fixture
def nonplants(tmp_path) -> Path:
    """Grey photos in one flat folder, standing in for photos of no plant."""
    return make_image_tree(tmp_path / "nonplant-tree", {"grey": 8}, seed=5) / "grey"


@pytest.fixture
def checkpoint(tiny_checkpoint, tmp_path) -> Path:
    return Path(shutil.copy(tiny_checkpoint, tmp_path / "model.pt"))


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, "--workers", "0", "--batch-size", "8", stdout=out)
    return out.getvalue()


def test_calibrate_stores_temperature_and_threshold_in_the_checkpoint(checkpoint, data_dir):
    printed = run("calibrate", str(checkpoint), "--data", str(data_dir))
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert calibration.is_calibrated and calibration.plant_probe is None
    assert calibration.report["val_photos"] == 18
    assert f"temperature {calibration.temperature:.3f}" in printed and "95% of val photos" in printed


def test_calibrate_with_reject_data_fits_the_plant_probe(checkpoint, data_dir, nonplants):
    printed = run("calibrate", str(checkpoint), "--data", str(data_dir), "--reject-data", str(nonplants))
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert calibration.plant_probe is not None and calibration.report["reject_photos"] == 8
    assert "plant probe fitted on 8 photos of no plant" in printed


def test_calibrate_with_unknown_data_fits_an_other_plant_class_beside_a_model_trained_without_it(
    checkpoint, data_dir, nonplants, tmp_path
):
    unknown = make_image_tree(tmp_path / "otherplants", {"viola_odorata": 4, "iris_germanica": 3}, seed=9)
    printed = run(
        "calibrate",
        str(checkpoint),
        "--data",
        str(data_dir),
        "--reject-data",
        str(nonplants),
        "--unknown-data",
        str(unknown),
    )
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert calibration.other_class is not None and calibration.report["other_class"] == "fitted"
    assert calibration.report["unknown_photos"] == 7  # species folders, read at any depth
    assert "'other plant' class fitted on 7 photos" in printed


def test_calibrate_fits_the_feature_density_on_the_train_split(checkpoint, data_dir):
    printed = run("calibrate", str(checkpoint), "--data", str(data_dir))
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert calibration.density is not None and calibration.report["density_photos"] == 6
    assert "feature density fitted on 6 training photos" in printed


def test_calibrating_again_without_reject_data_keeps_the_plant_probe(checkpoint, data_dir, nonplants):
    run("calibrate", str(checkpoint), "--data", str(data_dir), "--reject-data", str(nonplants))
    probe = spec_of(load_checkpoint(checkpoint)).calibration_info().plant_probe
    printed = run("calibrate", str(checkpoint), "--data", str(data_dir), "--accept-rate", "0.9")
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert calibration.plant_probe == probe and calibration.report["reject_photos"] == 8
    assert "kept the one fitted before on 8 photos of no plant (pass --reject-data to refit it)" in printed


def test_calibrating_again_without_unknown_data_keeps_the_fitted_other_plant_class(
    checkpoint, data_dir, nonplants, tmp_path
):
    unknown = make_image_tree(tmp_path / "otherplants", {"viola_odorata": 4}, seed=9)
    data = ("--data", str(data_dir), "--reject-data", str(nonplants))
    run("calibrate", str(checkpoint), *data, "--unknown-data", str(unknown))
    other = spec_of(load_checkpoint(checkpoint)).calibration_info().other_class
    printed = run("calibrate", str(checkpoint), *data)
    calibration = spec_of(load_checkpoint(checkpoint)).calibration_info()
    assert other is not None and calibration.other_class == other and calibration.report["unknown_photos"] == 4
    assert "kept the one fitted before on 4 photos of plants it must not claim" in printed


@pytest.mark.django_db
def test_calibrating_a_registered_model_keeps_its_checksum_true(tiny_checkpoint, data_dir, settings, tmp_path):
    from ml import versions

    settings.MODELS_DIR = tmp_path / "models"
    version = versions.register_checkpoint(tiny_checkpoint, name="to-calibrate")
    run("calibrate", "to-calibrate", "--data", str(data_dir))
    version.refresh_from_db()
    versions.verify(version)  # the recorded SHA-256 is the new file's: workers reload it
    assert spec_of(load_checkpoint(version.checkpoint_path)).calibration_info().is_calibrated


def test_calibrate_without_a_val_split_names_the_fix(checkpoint, tmp_path):
    flat = make_image_tree(tmp_path / "flat", dict.fromkeys(CLASSES, 3))
    with pytest.raises(CommandError, match="val split.*--split-file"):
        run("calibrate", str(checkpoint), "--data", str(flat))


def test_calibrate_refuses_an_accept_rate_out_of_range(checkpoint, data_dir):
    with pytest.raises(CommandError, match="accept-rate.*between 0.5 and 1.0"):
        run("calibrate", str(checkpoint), "--data", str(data_dir), "--accept-rate", "1.5")


def test_evaluate_reports_ece_and_each_ood_folder(checkpoint, data_dir, nonplants, tmp_path):
    run("calibrate", str(checkpoint), "--data", str(data_dir))
    printed = run(
        "evaluate", str(checkpoint), "--data", str(data_dir), "--ood", str(nonplants), "--output", str(tmp_path / "e")
    )
    report = json.loads((tmp_path / "e" / "evaluation.json").read_text())["open_set"]
    figures = report["ood"][str(nonplants)]
    assert figures["photos"] == 8 and 0.0 <= figures["auroc"] <= 1.0 and 0.0 <= figures["accepted"] <= 1.0
    assert report["ece_after"] >= 0.0 and 0.0 <= report["accepted"] <= 1.0
    assert (tmp_path / "e" / "reliability.png").stat().st_size > 1000
    assert "AUROC" in printed and "ECE" in printed


def test_evaluate_ood_on_an_uncalibrated_model_says_to_calibrate(checkpoint, data_dir, nonplants):
    with pytest.raises(CommandError, match="manage.py calibrate"):
        run("evaluate", str(checkpoint), "--data", str(data_dir), "--ood", str(nonplants))


def train_tiny(data_dir: Path, output: Path, **options) -> None:
    """Run `manage.py train` on a random-init convnextv2_atto, head only, at 32 px, without registering it."""
    options = recipes.tiny(
        **{"head_epochs": 1, "epochs": 0, "batch_size": 4, "register": False, "reference_photos": 0, **options}
    )
    call_command("train", data=data_dir, output=output, stdout=StringIO(), **options)


@pytest.mark.django_db
def test_train_reports_held_out_classes_as_unknown_species(data_dir, tmp_path):
    train_tiny(data_dir, tmp_path / "run", holdout_classes="rosa_canina")
    spec = spec_of(load_checkpoint(tmp_path / "run" / "best.pt"))
    assert spec.class_names == ["bellis_perennis", "helianthus_annuus"]
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]["open_set"]
    assert report["ood"]["held-out classes"]["photos"] == 10  # rosa_canina's 6 val and 4 test photos


def test_train_refuses_an_empty_reject_folder_before_training(data_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no photos under"):
        train_tiny(data_dir, tmp_path / "run", reject_data=tmp_path / "empty")
    assert not (tmp_path / "run" / "last.pt").exists()  # stopped before the first epoch
