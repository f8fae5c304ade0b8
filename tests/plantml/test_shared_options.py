"""Options several commands share (plantml/shared_options.py) mean the same in each: one default, one check."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command

from plantml.data import MAX_DEFAULT_WORKERS
from plantml.evaluation.calibrate_config import CalibrateConfig
from plantml.evaluation.config import CompareConfig, EvaluateConfig
from plantml.options import ConfigError, resolve
from plantml.training.config import TrainConfig

CONFIGS = (TrainConfig, EvaluateConfig, CalibrateConfig, CompareConfig)


def test_an_option_in_several_commands_has_one_default_in_all():
    defaults = defaultdict(dict)
    for cls in CONFIGS:
        for field, value in zip(dataclasses.fields(cls), dataclasses.astuple(cls())):
            defaults[field.name][cls.__name__] = value
    shared = {name: by_class for name, by_class in defaults.items() if len(by_class) > 1}
    assert {"workers", "device", "batch_size", "split_file", "data"} <= shared.keys()
    drifted = {name: by_class for name, by_class in shared.items() if len(set(map(repr, by_class.values()))) > 1}
    assert drifted == {}


@pytest.mark.parametrize("cls", CONFIGS)
def test_workers_default_to_the_cpu_cores_in_every_command(cls):
    help_text = {f.name: f.metadata["help"] for f in dataclasses.fields(cls)}["workers"]
    assert cls().workers is None and f"at most {MAX_DEFAULT_WORKERS}" in help_text


@pytest.mark.parametrize("cls", [EvaluateConfig, CalibrateConfig, CompareConfig])
def test_a_negative_worker_count_is_refused_with_the_same_message(cls, tmp_path):
    with pytest.raises(ConfigError, match=r"^--workers must be 0 or more, got -1$"):
        resolve(cls, {"data": tmp_path, "workers": -1})


def test_models_compare_checks_its_options_as_evaluate_does(tmp_path):
    with pytest.raises(CommandError, match="--workers must be 0 or more"):
        call_command("models", "compare", "a", "b", "--data", str(tmp_path), "--workers", "-1")
    with pytest.raises(CommandError, match="gpu7"):
        call_command("models", "compare", "a", "b", "--data", str(tmp_path), "--device", "gpu7")
