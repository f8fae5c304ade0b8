"""Resolving and validating the training configuration (plantml/training/config.py)."""

from __future__ import annotations

import pytest
import yaml

from plantml.options import ConfigError
from plantml.training.config import TrainConfig, resolve_config, save_config


def test_defaults_are_the_designs(image_tree, tmp_path):
    config = resolve_config({"data": image_tree, "output": tmp_path})
    assert (config.model, config.input_size, config.per_class_cap, config.tau) == ("convnextv2_tiny", 224, 70, 1.0)
    assert (config.lr, config.weight_decay, config.pretrained) == (1e-4, 0.05, True)


def test_yaml_values_apply_and_given_options_win(image_tree, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("per-class-cap: 30\ntau: 0.5\n")
    config = resolve_config({"data": image_tree, "output": tmp_path, "tau": 2.0}, path)
    assert config.per_class_cap == 30 and config.tau == 2.0


def test_saved_config_reads_back_as_the_same_config(image_tree, tmp_path):
    config = resolve_config({"data": image_tree, "output": tmp_path / "run", "head": "mlp"})
    path = save_config(config, tmp_path / "config.yaml")
    assert resolve_config({}, path) == config
    assert yaml.safe_load(path.read_text())["data"] == str(image_tree)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("head", "conv", "--head must be one of"),
        ("sampling", "random", "--sampling must be one of"),
        ("lr", 0.0, "--lr must be in"),
        ("hires_size", 16, "--hires-size must be at least --input-size"),
        ("ema_decay", 1.0, "--ema-decay must be in"),
    ],
)
def test_bad_values_name_the_option(image_tree, tmp_path, field, value, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config({"data": image_tree, "output": tmp_path, field: value})


def test_data_and_output_are_required(tmp_path):
    with pytest.raises(ConfigError, match="--data is required"):
        resolve_config({"output": tmp_path})
    assert TrainConfig().data is None


def test_extra_data_folders_resolve_to_paths_and_save_as_strings(image_tree, split_tree, tmp_path):
    config = resolve_config({"data": image_tree, "output": tmp_path, "extra_data": [str(split_tree)]})
    assert config.extra_data == [split_tree]
    saved = save_config(config, tmp_path / "config.yaml")
    assert yaml.safe_load(saved.read_text())["extra_data"] == [str(split_tree)]
    assert resolve_config({}, saved).extra_data == [split_tree]


@pytest.mark.parametrize(
    ("extra", "message"),
    [("nowhere", "--extra-data .*nowhere is not a folder"), ("DATA", "names the --data folder itself")],
)
def test_bad_extra_data_is_refused_with_the_fix(image_tree, tmp_path, extra, message):
    folder = image_tree if extra == "DATA" else tmp_path / extra
    with pytest.raises(ConfigError, match=message):
        resolve_config({"data": image_tree, "output": tmp_path, "extra_data": [folder]})
