"""Options declared once (plantml/options.py): the parser, YAML loading and validation follow from the fields."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from plantml.options import AT_LEAST_1, ConfigError, add_arguments, option, resolve
from plantml.training.config import TrainConfig


@dataclass
class Recipe:
    """A config as another engineer would add one: one field per option."""

    data: Path | None = option(help="image folder", group="data", required="the folder of images")
    rounds: int = option(3, "how many rounds", group="recipe", check=AT_LEAST_1)
    style: str = option("plain", "how it looks", group="recipe", choices=("plain", "fancy"))
    shuffle: bool = option(True, "shuffle the images", group="recipe")
    scales: list[float] = option([1.0], "zoom factors", group="recipe")


def parser_for(cls: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser, cls)
    return parser


def test_each_field_becomes_one_option_in_its_group_with_its_default_in_the_help():
    parser = parser_for(Recipe)
    groups = {group.title: [a.dest for a in group._group_actions] for group in parser._action_groups}
    assert groups["data"] == ["data"] and groups["recipe"] == ["rounds", "style", "shuffle", "scales"]
    assert "how many rounds (default 3)" in parser.format_help()


def test_options_not_given_stay_absent_so_yaml_values_are_not_overwritten():
    assert vars(parser_for(Recipe).parse_args(["--rounds", "5"])) == {"rounds": 5}


def test_booleans_get_an_off_switch_and_lists_take_several_values():
    args = parser_for(Recipe).parse_args(["--no-shuffle", "--scales", "1.0", "1.2"])
    assert args.shuffle is False and args.scales == [1.0, 1.2]


def test_a_bad_value_names_the_option_from_the_command_line_and_from_yaml(tmp_path):
    with pytest.raises(ConfigError, match=r"--rounds must be at least 1, got 0"):
        resolve(Recipe, {"data": tmp_path, "rounds": 0})
    config = tmp_path / "recipe.yaml"
    config.write_text("style: shiny\n")
    with pytest.raises(ConfigError, match=r"--style must be one of plain, fancy, got 'shiny'"):
        resolve(Recipe, {"data": tmp_path}, config)


def test_a_yaml_value_of_the_wrong_type_is_refused(tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text("rounds: many\n")
    with pytest.raises(ConfigError, match="--rounds must be a number, got 'many'"):
        resolve(Recipe, {"data": tmp_path}, config)


def test_yaml_numbers_and_paths_become_the_fields_types(tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text(f"data: {tmp_path}\nscales: 2\n")
    resolved = resolve(Recipe, {}, config)
    assert resolved.data == tmp_path and resolved.scales == [2.0]


def test_a_missing_required_option_says_what_to_pass():
    with pytest.raises(ConfigError, match="--data is required: the folder of images"):
        resolve(Recipe, {})


def test_every_training_option_is_on_the_train_command_line():
    parser = parser_for(TrainConfig)
    assert {a.dest for a in parser._actions} - {"help"} == {f.name for f in fields(TrainConfig)}


def test_the_device_is_validated_by_one_rule(image_tree, tmp_path):
    with pytest.raises(ConfigError, match="use cpu, cuda or cuda:N"):
        resolve(TrainConfig, {"data": image_tree, "output": tmp_path, "device": "tpu"})
