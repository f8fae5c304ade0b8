"""manage.py evaluate end to end: a real checkpoint, real images, JSON, plots and the printed table."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from plantml.evaluation.evaluate import EvaluationError, evaluation_samples
from plantml.predictor import Predictor
from tests.image_trees import make_image_tree

CLASSES = ["bellis_perennis", "rosa_canina", "helianthus_annuus"]
DISPLAY = ["Bellis perennis", "Rosa canina", "Helianthus annuus"]


def make_tree(root: Path, classes: list[str], per_class: int = 2) -> Path:
    return make_image_tree(root, dict.fromkeys(classes, per_class))


@pytest.fixture
def data_dir(tmp_path) -> Path:
    make_tree(tmp_path / "data" / "train", CLASSES, per_class=1)
    make_tree(tmp_path / "data" / "test", CLASSES)
    return tmp_path / "data"


def evaluate(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", "--workers", "0", "--batch-size", "4", *args, stdout=out)  # later options win
    return out.getvalue()


def _served_top_k(checkpoint: Path, data_dir: Path, k: int) -> float:
    """Return the share of test photos whose class is among the serving Predictor's k most probable."""
    predictor = Predictor.from_checkpoint(checkpoint)
    photos = sorted((data_dir / "test").glob("*/*"))
    ranked = [predictor.predict([predictor.open_image(photo)], top_k=k) for photo in photos]
    return sum(photo.parent.name in {p.label for p in top} for photo, top in zip(photos, ranked)) / len(photos)


def test_evaluate_writes_metrics_json_and_plots_and_prints_the_table(tiny_checkpoint, data_dir, tmp_path):
    printed = evaluate(str(tiny_checkpoint), "--data", str(data_dir), "--output", str(tmp_path / "eval"))
    record = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    metrics = record["metrics"]
    assert record["split"] == "test" and metrics["num_samples"] == 6
    assert [row["name"] for row in metrics["per_class"]] == CLASSES
    assert [row["support"] for row in metrics["per_class"]] == [2, 2, 2]
    assert sum(map(sum, metrics["confusion_matrix"])) == 6
    assert metrics["top1"] == pytest.approx(_served_top_k(tiny_checkpoint, data_dir, 1))  # the same model as served
    for name in ("confusion_matrix.png", "per_class_accuracy.png", "roc_curves.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 1000
    assert f"top-1 {metrics['top1']:.4f}" in printed
    assert all(name in printed for name in DISPLAY)


def test_evaluation_json_carries_the_metrics_record(tiny_checkpoint, data_dir, tmp_path):
    from plantml.evaluation.record import MetricsRecord

    evaluate(str(tiny_checkpoint), "--data", str(data_dir), "--output", str(tmp_path / "eval"), "--tta")
    record = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    summary = MetricsRecord.from_dict(record["summary"])
    assert (summary.split, summary.num_samples, summary.tta) == ("test", 6, True)
    assert summary.top1 == record["metrics"]["top1"] and summary.macro_top1 == record["metrics"]["macro_top1"]


def test_evaluate_with_tta_records_its_scales(tiny_checkpoint, data_dir, tmp_path):
    evaluate(
        str(tiny_checkpoint),
        "--data",
        str(data_dir),
        "--output",
        str(tmp_path / "eval"),
        "--tta",
        "--tta-scales",
        "1.0",
        "1.2",
    )
    record = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert record["tta"] == {"enabled": True, "scales": [1.0, 1.2], "flips": True}
    assert record["metrics"]["num_samples"] == 6


def test_evaluate_by_registered_model_name(tiny_checkpoint, data_dir, tmp_path, settings, db):
    from ml.versions import register_checkpoint

    settings.MODELS_DIR = tmp_path / "models"
    register_checkpoint(tiny_checkpoint, "tiny")
    printed = evaluate("tiny", "--data", str(data_dir), "--split", "train", "--output", str(tmp_path / "eval"))
    assert "images 3" in printed


def test_class_folders_that_do_not_match_the_checkpoint_are_named(tiny_checkpoint, tmp_path):
    data = make_tree(tmp_path / "data", ["bellis_perennis", "rosa_canina", "tulipa_gesneriana"], per_class=1)
    with pytest.raises(CommandError, match="tulipa_gesneriana") as error:
        evaluate(str(tiny_checkpoint), "--data", str(data), "--split", "all")
    assert "missing 1 of the checkpoint's classes: helianthus_annuus" in str(error.value)


def test_missing_classes_can_be_allowed_and_keep_the_checkpoint_order(tmp_path):
    data = make_tree(tmp_path / "data", ["rosa_canina"], per_class=2)
    with pytest.raises(EvaluationError, match="--allow-missing-classes"):
        evaluation_samples(data, CLASSES, "all")
    samples, _ = evaluation_samples(data, CLASSES, "all", allow_missing=True)
    assert [label for _, label in samples] == [1, 1]


def test_a_plain_class_tree_needs_the_training_split_file_for_test(tiny_checkpoint, tmp_path):
    data = make_tree(tmp_path / "data", CLASSES, per_class=1)
    with pytest.raises(CommandError, match="--split-file"):
        evaluate(str(tiny_checkpoint), "--data", str(data))


def test_an_unknown_checkpoint_name_says_where_to_look(data_dir, db):
    with pytest.raises(CommandError, match="models list"):
        evaluate("no-such-model", "--data", str(data_dir))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--workers", "-1"], "--workers must be 0 or more"),
        (["--top-k", "0"], "--top-k must be at least 1"),
        (["--split", "holdout"], "--split must be one of"),
        (["--tta-scales", "1.0", "1.2"], "add --tta"),
        (["--tta", "--tta-scales", "0"], "between 0.25 and 4.0"),
        (["--device", "tpu"], "use cpu, cuda or cuda:N"),
        (["--split-file", "nowhere.json"], "does not exist: pass the training run's split.json"),
    ],
)
def test_invalid_options_are_refused_with_the_fix(tiny_checkpoint, data_dir, option, message):
    with pytest.raises(CommandError, match=message):
        evaluate(str(tiny_checkpoint), "--data", str(data_dir), *option)


def test_a_missing_data_folder_is_refused(tiny_checkpoint, tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        evaluate(str(tiny_checkpoint), "--data", str(tmp_path / "nowhere"))


def test_a_plain_class_tree_is_evaluated_on_the_split_its_training_run_saved(tiny_checkpoint, tmp_path):
    from plantml.data import resolve_splits

    data = make_tree(tmp_path / "data", list(reversed(CLASSES)), per_class=4)
    split_file = tmp_path / "run" / "split.json"
    splits = resolve_splits(data, seed=0, val_fraction=0.25, test_fraction=0.25, split_file=split_file)
    samples, _ = evaluation_samples(data, CLASSES, "test", split_file=split_file)
    # folder-sorted labels of the split file are mapped onto the checkpoint's class order
    assert sorted((p, CLASSES[label]) for p, label in samples) == sorted(
        (p, splits.class_names[label]) for p, label in splits.test
    )
    printed = evaluate(
        str(tiny_checkpoint), "--data", str(data), "--split-file", str(split_file), "--output", str(tmp_path / "eval")
    )
    assert f"images {len(splits.test)}" in printed


def test_a_corrupt_image_is_skipped_and_reported(tiny_checkpoint, data_dir, tmp_path):
    (data_dir / "test" / "rosa_canina" / "broken.jpg").write_bytes(b"not a jpeg")
    printed = evaluate(str(tiny_checkpoint), "--data", str(data_dir), "--output", str(tmp_path / "eval"))
    record = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert record["metrics"]["num_samples"] == 6
    assert [Path(path).name for path, _ in record["skipped"]] == ["broken.jpg"]
    assert "skipped 1 unreadable files" in printed
