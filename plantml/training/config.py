"""The resolved training configuration: defaults < --config FILE.yaml < command-line options."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from plantml.modeling import HEADS

from .amp import PRECISIONS
from .sampling import SAMPLING_MODES


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the option and the fix."""


@dataclass
class TrainConfig:
    """Every option of a training run, with the design's defaults."""

    # data
    data: Path | None = None
    output: Path | None = None
    class_names: Path | None = None
    # more training images, merged into train/ by class name (new classes allowed); val/test stay --data's
    extra_data: list[Path] = field(default_factory=list)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    workers: int = 2
    # model
    model: str = "convnextv2_tiny"
    input_size: int = 224
    head: str = "linear"
    head_hidden: int = 512
    drop_path: float = 0.0
    weights: Path | None = None
    pretrained: bool = True
    # recipe
    sampling: str = "balanced"
    per_class_cap: int = 70
    tau: float = 1.0
    class_weights: bool = False
    class_weights_beta: float = 0.999
    label_smoothing: float = 0.1
    mixup: float = 0.2
    cutmix: float = 0.0
    mixup_off_epoch: int | None = None
    cutmix_off_epoch: int | None = None
    ema: bool = True
    ema_decay: float = 0.999
    # optimisation
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.01
    clip_grad: float = 1.0
    # phases
    epochs: int = 10
    head_epochs: int = 1
    hires_epochs: int = 0
    hires_size: int | None = None
    patience: int = 5
    min_epochs: int = 1
    # runtime
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    resume: Path | None = None
    # registry (used by the command only)
    name: str | None = None
    activate: bool = False
    register: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return plain YAML/JSON-safe values (paths as strings)."""
        return {k: _plain(v) for k, v in dataclasses.asdict(self).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


FIELDS = {f.name: f for f in fields(TrainConfig)}
PATH_FIELDS = {"data", "output", "class_names", "weights", "resume"}


def read_yaml(path: Path) -> dict[str, Any]:
    """Return the options in a YAML file (keys may use - or _); unknown keys are refused."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"--config {path} does not exist: check the path") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config {path} is not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path} must be a mapping of option: value")
    options = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(options) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"--config {path}: unknown option(s) {', '.join(unknown)}; valid ones are the long options of `manage.py train --help`"
        )
    return options


def resolve_config(options: dict[str, Any], config_file: Path | None = None) -> TrainConfig:
    """Return the validated config: dataclass defaults, then the YAML file, then ``options`` (given ones only)."""
    values = read_yaml(config_file) if config_file else {}
    values.update({k: v for k, v in options.items() if k in FIELDS and v is not None})
    for key in PATH_FIELDS & set(values):
        values[key] = Path(values[key]) if values[key] is not None else None
    if "extra_data" in values:
        extra = values["extra_data"]
        values["extra_data"] = [Path(p) for p in ([extra] if isinstance(extra, (str, Path)) else extra or [])]
    config = TrainConfig(**values)
    validate(config)
    return config


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def validate(c: TrainConfig) -> None:
    """Raise ConfigError naming the option and the fix for the first value that cannot work."""
    _check(c.data is not None, "--data is required: the folder of class sub-folders (or train/ val/ test/)")
    _check(c.data.is_dir(), f"--data {c.data} is not a directory: pass a folder of class sub-folders")
    _check(c.output is not None, "--output is required: the run directory for checkpoints, metrics and plots")
    _check(not c.output.exists() or c.output.is_dir(), f"--output {c.output} is a file: pass a directory")
    for extra in c.extra_data:
        _check(extra.is_dir(), f"--extra-data {extra} is not a directory: pass a folder of class sub-folders")
        _check(
            extra.resolve() != c.data.resolve(), f"--extra-data {extra} is the --data folder itself: pass another one"
        )
    _check(
        c.class_names is None or c.class_names.is_file(),
        f"--class-names {c.class_names} does not exist: pass a JSON file",
    )
    for name in ("val_fraction", "test_fraction"):
        _check(0 <= getattr(c, name) < 0.5, f"--{name.replace('_', '-')} must be in [0, 0.5), got {getattr(c, name)}")
    _check(c.workers >= 0, f"--workers must be 0 or more, got {c.workers}")
    _check(c.input_size >= 16, f"--input-size must be at least 16 pixels, got {c.input_size}")
    _check(c.head in HEADS, f"--head must be one of {', '.join(HEADS)}, got {c.head!r}")
    _check(c.head_hidden >= 1, f"--head-hidden must be positive, got {c.head_hidden}")
    _check(0 <= c.drop_path < 1, f"--drop-path must be in [0, 1), got {c.drop_path}")
    _check(
        c.weights is None or c.weights.is_file(),
        f"--weights {c.weights} does not exist: check the path or use --no-pretrained",
    )
    _check(c.sampling in SAMPLING_MODES, f"--sampling must be one of {', '.join(SAMPLING_MODES)}, got {c.sampling!r}")
    _check(c.per_class_cap >= 1, f"--per-class-cap must be at least 1, got {c.per_class_cap}")
    _check(c.tau >= 0, f"--tau must be 0 (plain cross-entropy) or more, got {c.tau}")
    _check(0 < c.class_weights_beta < 1, f"--class-weights-beta must be in (0, 1), got {c.class_weights_beta}")
    _check(0 <= c.label_smoothing < 1, f"--label-smoothing must be in [0, 1), got {c.label_smoothing}")
    _check(c.mixup >= 0 and c.cutmix >= 0, "--mixup and --cutmix are Beta alphas: 0 (off) or more")
    for name in ("mixup_off_epoch", "cutmix_off_epoch"):
        value = getattr(c, name)
        _check(value is None or value >= 0, f"--{name.replace('_', '-')} must be 0 or more, got {value}")
    _check(0 < c.ema_decay < 1, f"--ema-decay must be in (0, 1), e.g. 0.999, got {c.ema_decay}")
    _check(c.batch_size >= 2, f"--batch-size must be at least 2 (Mixup pairs images), got {c.batch_size}")
    for name in ("lr", "head_lr"):
        _check(0 < getattr(c, name) < 1, f"--{name.replace('_', '-')} must be in (0, 1), got {getattr(c, name)}")
    _check(c.weight_decay >= 0, f"--weight-decay must be 0 or more, got {c.weight_decay}")
    _check(c.warmup_epochs >= 0, f"--warmup-epochs must be 0 or more, got {c.warmup_epochs}")
    _check(0 <= c.min_lr_ratio <= 1, f"--min-lr-ratio must be in [0, 1], got {c.min_lr_ratio}")
    _check(c.clip_grad >= 0, f"--clip-grad must be 0 (off) or more, got {c.clip_grad}")
    _check(
        c.epochs >= 0 and c.head_epochs >= 0 and c.hires_epochs >= 0,
        "--epochs, --head-epochs and --hires-epochs must be 0 or more",
    )
    _check(
        c.epochs + c.head_epochs + c.hires_epochs > 0,
        "nothing to train: give --epochs (or --head-epochs / --hires-epochs) above 0",
    )
    _check(
        c.hires_size is None or c.hires_size >= c.input_size,
        f"--hires-size must be at least --input-size ({c.input_size})",
    )
    _check(c.patience >= 0, f"--patience must be 0 (no early stopping) or more, got {c.patience}")
    _check(c.min_epochs >= 1, f"--min-epochs must be at least 1, got {c.min_epochs}")
    _check(
        c.device == "auto" or c.device.split(":")[0] in ("cpu", "cuda"),
        f"--device must be auto, cpu or cuda[:N], got {c.device!r}",
    )
    _check(
        c.precision == "auto" or c.precision in PRECISIONS,
        f"--precision must be auto or one of {', '.join(PRECISIONS)}",
    )
    _check(
        c.resume is None or c.resume.is_file(),
        f"--resume {c.resume} does not exist: pass RUN_DIR/last.pt of the run to continue",
    )


def save_config(config: TrainConfig, path: Path) -> Path:
    """Write the resolved config as YAML (re-usable with --config); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    return path
