"""The training options, declared once: defaults < --config FILE.yaml < command-line options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from plantml import shared_options
from plantml.modeling import HEADS
from plantml.options import (
    AT_LEAST_0,
    AT_LEAST_1,
    OPEN_UNIT,
    UNIT,
    ConfigError,
    existing_dir,
    existing_file,
    option,
    resolve,
    to_plain_dict,
)
from plantml.species_facts import SPECIES_FILE_HELP

from .amp import PRECISIONS
from .other_class import UNKNOWN_TRAINING
from .sampling import SAMPLING_MODES

FRACTION = (lambda v: 0 <= v < 0.5, "must be in [0, 0.5)")


def _all_folders(paths: list[Path]) -> bool:
    for path in paths:
        if not path.is_dir():
            raise ValueError(f"--extra-data {path} is not a folder: pass a folder of class sub-folders")
    return True


@dataclass
class TrainConfig:
    """Every option of a training run, with the design's defaults, help and checks."""

    # data
    data: Path | None = option(
        help="PlantNet-300K root (v1.1 or v2, as downloaded), or class sub-folders, or train/ val/ test/",
        group="data",
        required="the folder of class sub-folders (or train/ val/ test/)",
        check=existing_dir("pass a folder of class sub-folders"),
    )
    output: Path | None = option(
        help="run directory for checkpoints, metrics, plots",
        group="data",
        required="the run directory for checkpoints, metrics and plots",
        check=(lambda p: not p.exists() or p.is_dir(), "{value} is a file: pass a directory"),
    )
    reject_data: Path | None = shared_options.reject_data()
    unknown_data: Path | None = shared_options.unknown_data()
    unknown_training: str = option(
        "other-class",
        "how --unknown-data trains: other-class (one more class, 'other plant', never shown to users; its logit "
        "lowers the score of plants outside the list) or none (calibration only: an 'other plant' logit fitted "
        "beside the trained head)",
        group="data",
        choices=UNKNOWN_TRAINING,
    )
    holdout_classes: str = option(
        "",
        "comma-separated classes to leave out of training and report as unknown species, e.g. rose,tulip",
        group="data",
        metavar="A,B",
    )
    class_names: Path | None = option(
        help="JSON {folder name: display name}", group="data", check=existing_file("pass a JSON file")
    )
    species: Path | None = option(
        help=SPECIES_FILE_HELP + "; stored in the checkpoint (without it, folder names)",
        group="data",
        check=existing_file("pass a species CSV or JSON file"),
    )
    reference_photos: int = option(
        12,
        "training photos kept per class as reference thumbnails beside the model, with their features, chosen "
        "by the trained model to cover the class (from up to 4x as many): results show the three most like "
        "the user's photo (0 = none)",
        group="data",
        check=AT_LEAST_0,
    )
    extra_data: list[Path] = option(
        [],
        "more training images (e.g. from export-feedback), merged into train by class name, new classes allowed; "
        "val/test stay --data's; repeat or list several folders",
        group="data",
        check=(lambda paths: _all_folders(paths), ""),
    )
    val_fraction: float = option(0.15, "share held out for validation without val/", group="data", check=FRACTION)
    test_fraction: float = option(0.15, "share held out for testing without test/", group="data", check=FRACTION)
    # model
    model: str = option("convnextv2_tiny", "timm architecture", group="model")
    input_size: int = option(
        224, "training resolution in pixels", group="model", check=(lambda v: v >= 16, "must be at least 16 pixels")
    )
    head: str = option("linear", "classifier head", group="model", choices=tuple(HEADS))
    head_hidden: int = option(512, "MLP head width", group="model", check=(lambda v: v >= 1, "must be positive"))
    drop_path: float = option(0.0, "stochastic depth rate", group="model", check=UNIT)
    weights: Path | None = option(
        help="start from this state dict or plantsite checkpoint",
        group="model",
        check=existing_file("check the path or use --no-pretrained"),
    )
    pretrained: bool = option(
        True, "start from ImageNet weights (timm hub; offline package for tf_efficientnet_lite0)", group="model"
    )
    # recipe
    sampling: str = option("balanced", "epoch sampling", group="recipe", choices=SAMPLING_MODES)
    per_class_cap: int = option(70, "at most this many images per class per epoch", group="recipe", check=AT_LEAST_1)
    tau: float = option(
        1.0,
        "logit adjustment strength, 0 = plain CE",
        group="recipe",
        check=(lambda v: v >= 0, "must be 0 (plain cross-entropy) or more"),
    )
    class_weights: bool = option(False, "effective-number class weights", group="recipe")
    class_weights_beta: float = option(0.999, "beta of the effective number", group="recipe", check=OPEN_UNIT)
    label_smoothing: float = option(0.1, "label smoothing", group="recipe", check=UNIT)
    mixup: float = option(
        0.2, "Mixup alpha, 0 = off", group="recipe", check=(lambda v: v >= 0, "is a Beta alpha: 0 (off) or more")
    )
    cutmix: float = option(
        0.0, "CutMix alpha, 0 = off", group="recipe", check=(lambda v: v >= 0, "is a Beta alpha: 0 (off) or more")
    )
    mixup_off_epoch: int | None = option(
        help="epoch (0-based, whole run) at which Mixup stops", group="recipe", check=AT_LEAST_0
    )
    cutmix_off_epoch: int | None = option(
        help="epoch (0-based, whole run) at which CutMix stops", group="recipe", check=AT_LEAST_0
    )
    ema: bool = option(True, "keep an EMA of the weights", group="recipe")
    ema_decay: float = option(
        0.999, "EMA decay", group="recipe", check=(lambda v: 0 < v < 1, "must be in (0, 1), e.g. 0.999")
    )
    # optimisation
    batch_size: int = shared_options.batch_size(
        "images per process", group="optimisation", check=(lambda v: v >= 2, "must be at least 2 (Mixup pairs images)")
    )
    lr: float = option(1e-4, "backbone learning rate", group="optimisation", check=OPEN_UNIT)
    head_lr: float = option(1e-3, "head learning rate", group="optimisation", check=OPEN_UNIT)
    weight_decay: float = option(0.05, "AdamW decay, not on bias/norm", group="optimisation", check=AT_LEAST_0)
    warmup_epochs: float = option(1.0, "linear warm-up per phase, then cosine", group="optimisation", check=AT_LEAST_0)
    min_lr_ratio: float = option(
        0.01,
        "cosine floor as a share of the lr",
        group="optimisation",
        check=(lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    )
    clip_grad: float = option(
        1.0, "gradient norm clip, 0 = off", group="optimisation", check=(lambda v: v >= 0, "must be 0 (off) or more")
    )
    # phases
    epochs: int = option(10, "full fine-tune epochs", group="phases", check=AT_LEAST_0)
    head_epochs: int = option(1, "head-only warm-up epochs first", group="phases", check=AT_LEAST_0)
    hires_epochs: int = option(
        0, "higher-resolution epochs last, lr x0.1, no mixup/smoothing", group="phases", check=AT_LEAST_0
    )
    hires_size: int | None = option(help="resolution of the hires phase (default --input-size)", group="phases")
    patience: int = option(
        5, "early stopping per phase", group="phases", check=(lambda v: v >= 0, "must be 0 (no early stopping) or more")
    )
    min_epochs: int = option(1, "never stop a phase before this", group="phases", check=AT_LEAST_1)
    # runtime
    seed: int = option(0, "seed of splits, sampling and augmentation", group="runtime")
    workers: int | None = shared_options.workers()
    device: str = shared_options.device()
    precision: str = option(
        "auto",
        "auto: bf16/fp16 on GPU, fp32 on CPU (bf16 on CPU is much slower)",
        group="runtime",
        choices=("auto", *PRECISIONS),
    )
    compile: bool = option(False, "torch.compile the model: slower start, faster epochs on a GPU", group="runtime")
    resume: Path | None = option(
        help="continue exactly from RUN_DIR/last.pt",
        group="runtime",
        check=existing_file("pass RUN_DIR/last.pt of the run to continue"),
    )
    # registry (used by the command only)
    name: str | None = option(help="model version name (default: from the run directory)", group="registry")
    title: str | None = option(help="the model's title that users read (default: its name)", group="registry")
    activate: bool = option(False, "make the new version live", group="registry")
    register: bool = option(True, "register best.pt", group="registry")

    @property
    def held_out(self) -> list[str]:
        """Return the --holdout-classes names, in order, without blanks."""
        return [name.strip() for name in self.holdout_classes.split(",") if name.strip()]

    def cross_check(self) -> None:
        """Raise ConfigError for options that cannot work together."""
        if self.epochs + self.head_epochs + self.hires_epochs == 0:
            raise ConfigError("nothing to train: give --epochs (or --head-epochs / --hires-epochs) above 0")
        if self.hires_size is not None and self.hires_size < self.input_size:
            raise ConfigError(f"--hires-size must be at least --input-size ({self.input_size})")
        if self.data is not None and any(extra.resolve() == self.data.resolve() for extra in self.extra_data):
            raise ConfigError("--extra-data names the --data folder itself: pass other folders")

    def to_dict(self) -> dict[str, Any]:
        """Return plain YAML/JSON-safe values (paths as strings)."""
        return to_plain_dict(self)


def resolve_config(options: dict[str, Any], config_file: Path | None = None) -> TrainConfig:
    """Return the validated config: dataclass defaults, then the YAML file, then ``options`` (given ones only)."""
    return resolve(TrainConfig, options, config_file)


def save_config(config: TrainConfig, path: Path) -> Path:
    """Write the resolved config as YAML (re-usable with --config); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    return path
