"""manage.py models list / show / activate / import / remove against the real registry and database."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path) -> Path:
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def models(*args: str) -> str:
    out = StringIO()
    call_command("models", *args, stdout=out)
    return out.getvalue()


def test_list_without_models_says_how_to_get_one():
    assert "models import FILE" in models("list")


def test_import_registers_a_verified_copy(tiny_checkpoint, models_dir):
    printed = models("import", str(tiny_checkpoint), "--name", "tiny-v1")
    version = ModelVersion.objects.get(name="tiny-v1")
    assert "imported tiny-v1 (convnextv2_atto, 3 classes)" in printed
    assert Path(version.checkpoint_path) == models_dir / "tiny-v1.pt"
    assert Path(version.checkpoint_path).read_bytes() == tiny_checkpoint.read_bytes()
    assert not version.is_active


def test_import_with_activate_makes_it_live(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "tiny-v1", "--activate")
    assert ModelVersion.objects.get(name="tiny-v1").is_active


def test_import_of_a_corrupt_file_is_refused_and_nothing_is_registered(tiny_checkpoint, tmp_path, models_dir):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(tiny_checkpoint.read_bytes()[:2000])  # truncated download
    with pytest.raises(CommandError, match="not a readable checkpoint"):
        models("import", str(corrupt), "--name", "broken")
    assert not ModelVersion.objects.exists()
    assert not (models_dir / "broken.pt").exists()


def test_import_of_a_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(CommandError, match="no file at"):
        models("import", str(tmp_path / "nothing.pt"))


def test_list_marks_the_active_model_and_shows_its_top1(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first")
    models("import", str(tiny_checkpoint), "--name", "second", "--activate")
    lines = models("list").splitlines()
    assert lines[0].split()[:4] == ["name", "architecture", "classes", "top-1"]
    second = next(line for line in lines if " second " in line)
    first = next(line for line in lines if " first " in line)
    assert second.startswith("*") and not first.startswith("*")
    assert "convnextv2_atto" in second and " 3 " in second and "0.0000" in second  # fixture's metrics top1 = 0.0


def test_activating_another_leaves_exactly_one_active(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first", "--activate")
    models("import", str(tiny_checkpoint), "--name", "second")
    printed = models("activate", "second")
    assert "second is now the active model" in printed
    assert list(ModelVersion.objects.filter(is_active=True).values_list("name", flat=True)) == ["second"]


def test_activating_an_unknown_name_lists_the_known_ones(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first")
    with pytest.raises(CommandError, match=r"no model named 'nope' \(known: first\)"):
        models("activate", "nope")


def test_remove_of_the_active_model_is_refused(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "live", "--activate")
    with pytest.raises(CommandError, match="is active: activate another one first"):
        models("remove", "live", "--yes")
    assert ModelVersion.objects.filter(name="live", is_active=True).exists()


def test_remove_with_yes_deletes_the_row_and_its_copied_file(tiny_checkpoint, models_dir):
    models("import", str(tiny_checkpoint), "--name", "old")
    models("remove", "old", "--yes")
    assert not ModelVersion.objects.filter(name="old").exists()
    assert not (models_dir / "old.pt").exists()
    assert tiny_checkpoint.is_file()  # the imported original is left alone


def test_remove_without_a_terminal_or_yes_asks_and_keeps_the_model(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "old")
    with pytest.raises(CommandError, match="pass --yes"):
        models("remove", "old")
    assert ModelVersion.objects.filter(name="old").exists()


def test_remove_with_noinput_needs_no_confirmation(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "old")
    models("remove", "old", "--noinput")
    assert not ModelVersion.objects.filter(name="old").exists()


def test_show_reports_a_checkpoint_that_changed_since_import(tiny_checkpoint, models_dir):
    models("import", str(tiny_checkpoint), "--name", "tiny")
    assert "SHA-256 matches" in models("show", "tiny")
    with open(models_dir / "tiny.pt", "ab") as handle:
        handle.write(b"tampered")
    assert "changed since it was registered" in models("show", "tiny")


def _checkpoint_with_a_new_class(path: Path) -> Path:
    """A random convnextv2_atto checkpoint that knows one more class than the tiny fixture."""
    import torch

    from plantml.checkpoint import ModelSpec, save_checkpoint
    from tests.conftest import random_head

    torch.manual_seed(1)
    spec = ModelSpec(
        architecture="convnextv2_atto",
        class_names=["bellis_perennis", "rosa_canina", "helianthus_annuus", "tulipa_gesneriana"],
        display_names=["Bellis perennis", "Rosa canina", "Helianthus annuus", "Tulipa gesneriana"],
        input_size=64,
    )
    return save_checkpoint(path, random_head(spec.build_model()), spec, metrics={})


@pytest.fixture
def compare_data(tmp_path) -> Path:
    from tests.image_trees import make_image_tree

    classes = {"bellis_perennis": 2, "rosa_canina": 2, "helianthus_annuus": 2}
    make_image_tree(tmp_path / "data" / "train", dict.fromkeys(classes, 1))
    make_image_tree(tmp_path / "data" / "test", classes)
    return tmp_path / "data"


def test_compare_prints_both_models_side_by_side_with_per_class_changes(tiny_checkpoint, compare_data, tmp_path):
    models("import", str(tiny_checkpoint), "--name", "before")
    models("import", str(_checkpoint_with_a_new_class(tmp_path / "after.pt")), "--name", "after")
    out = models("compare", "before", "after", "--data", str(compare_data), "--workers", "0", "--batch-size", "4")
    lines = out.splitlines()
    assert lines[0] == f"before vs after on {compare_data} (test split, 6 images)"
    assert lines[1].split() == ["metric", "before", "after", "change"]
    top1 = next(line for line in lines if line.startswith("top1 "))
    assert len(top1.split()) == 4
    assert "per-class top-1, largest drops first" in out
    assert sum(name in out for name in ("Bellis perennis", "Rosa canina", "Helianthus annuus")) == 3


def test_compare_keeps_the_evaluations_when_asked(tiny_checkpoint, compare_data, tmp_path):
    models("import", str(tiny_checkpoint), "--name", "before")
    models("import", str(tiny_checkpoint), "--name", "same")
    models(
        "compare", "before", "same", "--data", str(compare_data), "--workers", "0", "--output", str(tmp_path / "cmp")
    )
    assert (tmp_path / "cmp" / "before" / "evaluation.json").is_file()
    assert (tmp_path / "cmp" / "same" / "evaluation.json").is_file()


def test_compare_of_an_unknown_model_lists_the_known_ones(tiny_checkpoint, compare_data):
    models("import", str(tiny_checkpoint), "--name", "before")
    with pytest.raises(CommandError, match="before"):
        models("compare", "before", "nonesuch", "--data", str(compare_data))


def test_compare_on_data_a_model_cannot_read_names_the_model(tiny_checkpoint, tmp_path):
    from tests.image_trees import make_image_tree

    models("import", str(tiny_checkpoint), "--name", "before")
    models("import", str(tiny_checkpoint), "--name", "same")
    data = make_image_tree(tmp_path / "d" / "test", {"quercus_robur": 2}).parent
    (data / "train").mkdir()
    with pytest.raises(CommandError, match="cannot evaluate before: .*quercus_robur"):
        models("compare", "before", "same", "--data", str(data), "--workers", "0")


def test_import_sets_the_title_users_read(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first", "--title", "Garden flowers, spring")
    version = ModelVersion.objects.get(name="first")
    assert version.title == "Garden flowers, spring" and version.shown_title == "Garden flowers, spring"


def test_title_action_renames_what_users_read_and_empty_falls_back_to_the_name(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first")
    assert "titled 'Meadow herbs'" in models("title", "first", "Meadow herbs")
    assert ModelVersion.objects.get(name="first").shown_title == "Meadow herbs"
    models("title", "first", "")
    assert ModelVersion.objects.get(name="first").shown_title == "first"


def test_title_of_an_unknown_model_lists_the_known_ones(tiny_checkpoint):
    models("import", str(tiny_checkpoint), "--name", "first")
    with pytest.raises(CommandError, match="known: first"):
        models("title", "nothing", "Meadow herbs")


def test_a_title_per_language_is_read_in_that_language_and_others_fall_back_to_the_plain_title(tiny_checkpoint):
    from django.utils import translation

    models("import", str(tiny_checkpoint), "--name", "garden", "--title", "Garden flowers")
    assert "titled '园林花卉' in zh-hans" in models("title", "garden", "园林花卉", "--lang", "zh-Hans")
    version = ModelVersion.objects.get(name="garden")
    assert version.title == "Garden flowers" and version.title_translations == {"zh-hans": "园林花卉"}
    with translation.override("zh-hans"):
        assert version.shown_title == "园林花卉"
    with translation.override("en"):
        assert version.shown_title == "Garden flowers"
    assert "title zh-hans 园林花卉" in models("show", "garden")
    assert "those readers read 'Garden flowers'" in models("title", "garden", "", "--lang", "zh-hans")
    assert ModelVersion.objects.get(name="garden").title_translations == {}


@pytest.mark.parametrize("language", ["fr", "zh", ""])
def test_a_title_in_a_language_the_site_does_not_offer_is_refused_naming_the_choices(tiny_checkpoint, language):
    models("import", str(tiny_checkpoint), "--name", "garden", "--title", "Garden flowers")
    with pytest.raises(CommandError, match=f"unknown language {language!r}: use one of en, zh-hans"):
        models("title", "garden", "Jardin", "--lang", language)
    assert ModelVersion.objects.get(name="garden").title_translations == {}


def test_export_writes_the_onnx_file_beside_the_checkpoint_and_says_how_to_serve_it(tiny_checkpoint, models_dir):
    models("import", str(tiny_checkpoint), "--name", "tiny")
    printed = models("export", "tiny")
    assert (models_dir / "tiny.onnx").is_file()
    assert "max abs difference to PyTorch (logits and features)" in printed and "RECOGNITION_RUNTIME=onnx" in printed


def test_export_int8_without_data_is_refused_with_the_fix(tiny_checkpoint, models_dir):
    models("import", str(tiny_checkpoint), "--name", "tiny")
    with pytest.raises(CommandError, match="--int8 needs --data DIR"):
        models("export", "tiny", "--int8")
    assert not list(models_dir.glob("*.onnx"))


def test_export_int8_that_loses_top1_keeps_only_the_float_file(tiny_checkpoint, models_dir, tmp_path):
    from plantml.predictor import Predictor
    from tests.image_trees import unrepresentative_calibration_tree

    models("import", str(tiny_checkpoint), "--name", "tiny")
    data = unrepresentative_calibration_tree(tmp_path / "data", Predictor.from_checkpoint(tiny_checkpoint, "cpu"))
    with pytest.raises(CommandError, match="int8 refused: .* points, allowed 0.5"):
        models("export", "tiny", "--int8", "--data", str(data))
    assert sorted(p.name for p in models_dir.iterdir()) == ["tiny.onnx", "tiny.pt"]


def test_remove_deletes_the_onnx_exports_too(tiny_checkpoint, models_dir):
    models("import", str(tiny_checkpoint), "--name", "tiny")
    models("export", "tiny")
    models("remove", "tiny", "--yes")
    assert list(models_dir.iterdir()) == []


def test_list_and_show_read_the_metrics_record_a_run_registered(tiny_checkpoint):
    from ml.versions import register_checkpoint
    from plantml.evaluation.record import MetricsRecord

    record = MetricsRecord(split="test", num_samples=40, top1=0.875, macro_top1=0.8, epoch=3, kept="ema")
    register_checkpoint(tiny_checkpoint, "trained", metrics=record.to_dict())
    assert "0.8750" in next(line for line in models("list").splitlines() if " trained " in line)
    shown = models("show", "trained")
    assert "top-1         0.8750 (test split)" in shown and "kept                     ema" in shown
