"""manage.py train option handling: validation with the fix, --config defaults, no registration."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_class_cap": 0}, "--per-class-cap must be at least 1"),
        ({"tau": -1.0}, "--tau must be 0"),
        ({"batch_size": 1}, "--batch-size must be at least 2"),
        ({"epochs": 0, "head_epochs": 0}, "nothing to train"),
        ({"precision": "fp16", "device": "cpu"}, "fp16 needs a GPU"),
    ],
)
def test_bad_options_are_refused_with_the_fix(image_tree, tmp_path, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("train", data=image_tree, output=tmp_path / "run", pretrained=False, **options)


def test_a_missing_data_folder_is_named(tmp_path):
    with pytest.raises(CommandError, match="--data .* is not a folder"):
        call_command("train", data=tmp_path / "nowhere", output=tmp_path / "run")


def test_pretrained_weights_that_cannot_be_had_stop_the_run(image_tree, tmp_path, monkeypatch):
    from timm.models import _builder

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(_builder, "load_state_dict_from_hf", offline)
    with pytest.raises(CommandError, match="--weights FILE.*--no-pretrained"):
        call_command(
            "train", data=image_tree, output=tmp_path / "run", model="convnextv2_atto", input_size=32, workers=0
        )
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.slow
def test_config_file_supplies_defaults_and_the_command_line_wins(image_tree, tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": "convnextv2_atto",
                "input-size": 32,
                "epochs": 3,
                "head_epochs": 0,
                "batch_size": 8,
                "workers": 0,
                "pretrained": False,
                "tau": 0.5,
            }
        )
    )
    call_command(
        "train", config=config, data=image_tree, output=tmp_path / "run", epochs=1, register=False, stdout=StringIO()
    )
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["tau"] == 0.5 and saved["epochs"] == 1 and saved["input_size"] == 32
    assert not ModelVersion.objects.exists()


def test_unknown_config_keys_are_refused(image_tree, tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text("learning_rate: 0.1\n")
    with pytest.raises(CommandError, match="unknown option.*learning_rate"):
        call_command("train", config=config, data=image_tree, output=tmp_path / "run")


def test_extra_data_may_be_repeated_or_listed(image_tree, split_tree, tmp_path):
    from ml.management.commands.train import Command

    parser = Command().create_parser("manage.py", "train")
    repeated = parser.parse_args(["--extra-data", str(image_tree), "--extra-data", str(split_tree)])
    listed = parser.parse_args(["--extra-data", str(image_tree), str(split_tree)])
    assert repeated.extra_data == listed.extra_data == [image_tree, split_tree]
