"""Evaluate a checkpoint on an ImageFolder split: metrics JSON, plots and a text report; no Django here."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of
from plantml.data import SPLIT_NAMES, ImageDataset, Sample, build_loader, resolve_splits, scan_image_folder
from plantml.datasets.imagefolder import class_folders
from plantml.datasets.plantnet300k import find_plantnet
from plantml.device import resolve_device
from plantml.open_set import expected_calibration_error
from plantml.transforms import eval_transform
from plantml.tta import DEFAULT_SCALES

from .calibration import calibration_report, folder_photos, model_outputs
from .config import SPLITS
from .metrics import compute_metrics
from .plots import write_evaluation_plots
from .record import MetricsRecord
from .reliability import plot_reliability
from .runner import predict_loader, predict_outputs
from .set_valued import average_k_metrics

logger = logging.getLogger(__name__)

METRICS_FILE = "evaluation.json"


class EvaluationError(ValueError):
    """Data that cannot be evaluated with this checkpoint; the message says what to do."""


@dataclass
class EvaluationResult:
    """The metrics of one evaluation and the files written for it."""

    metrics: dict
    output_dir: Path
    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def check_classes(found: Sequence[str], expected: Sequence[str], where: Path, allow_missing: bool = False) -> None:
    """Raise EvaluationError naming the classes in ``found`` and ``expected`` that do not match."""
    extra = sorted(set(found) - set(expected))
    missing = [] if allow_missing else sorted(set(expected) - set(found))
    if not extra and not missing:
        return
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} of the checkpoint's classes: {_some(missing)}")
    if extra:
        problems.append(f"{len(extra)} classes the checkpoint does not know: {_some(extra)}")
    hint = "use the data the model was trained on (folders are matched by name)"
    if missing and not extra:
        hint += ", or pass --allow-missing-classes to evaluate the classes that are there"
    raise EvaluationError(f"{where} does not match the checkpoint: {'; '.join(problems)}. Fix: {hint}")


def _some(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def evaluation_samples(
    data_dir: Path,
    class_names: list[str],
    split: str = "test",
    *,
    split_file: Path | None = None,
    allow_missing: bool = False,
) -> tuple[list[Sample], list[tuple[Path, str]]]:
    """Return (samples labelled in ``class_names`` order, skipped files) of one split of ``data_dir``.

    A tree with train/ val/ test/ folders gives that folder (``all``: every one of them); a plain
    class-folder tree gives every image for ``all``, else the split saved by the training run.
    """
    data_dir = Path(data_dir)
    if split not in SPLITS:
        raise EvaluationError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    if not data_dir.is_dir():
        raise EvaluationError(f"no data folder at {data_dir}: pass an ImageFolder tree with --data")
    if find_plantnet(data_dir) is not None:
        return _dataset_split_samples(data_dir, class_names, split, allow_missing)
    if (data_dir / "train").is_dir():
        present = [name for name in SPLIT_NAMES if (data_dir / name).is_dir()]
        if split != "all" and split not in present:
            raise EvaluationError(
                f"{data_dir} has no {split}/ folder (it has {', '.join(present)}/): choose --split from those"
            )
        roots = [data_dir / name for name in (present if split == "all" else [split])]
        found = sorted({name for root in roots for name in class_folders(root)})
        check_classes(found, class_names, roots[0] if len(roots) == 1 else data_dir, allow_missing)
        samples, skipped = [], []
        for root in roots:
            part, _, bad = scan_image_folder(root, class_names)
            samples, skipped = samples + part, skipped + bad
        return samples, skipped
    if split == "all":
        check_classes(class_folders(data_dir), class_names, data_dir, allow_missing)
        samples, _, skipped = scan_image_folder(data_dir, class_names)
        return samples, skipped
    if split_file is None or not Path(split_file).is_file():
        raise EvaluationError(
            f"{data_dir} has no train/ val/ test/ folders, so the {split} split is the one its training run saved: "
            "pass --split-file RUN_DIR/split.json, or --split all to evaluate every image"
        )
    splits = resolve_splits(data_dir, split_file=Path(split_file))
    check_classes(splits.class_names, class_names, Path(split_file), allow_missing)
    index = {name: i for i, name in enumerate(class_names)}
    return [(path, index[splits.class_names[label]]) for path, label in getattr(splits, split)], splits.skipped


def _dataset_split_samples(
    data_dir: Path, class_names: list[str], split: str, allow_missing: bool
) -> tuple[list[Sample], list[tuple[Path, str]]]:
    """Return one split (or ``all``) of a dataset that defines its own splits, labelled in ``class_names`` order."""
    splits = resolve_splits(data_dir)
    check_classes(splits.class_names, class_names, data_dir, allow_missing)
    index = {name: i for i, name in enumerate(class_names)}
    parts = SPLIT_NAMES if split == "all" else [split]
    samples = [(path, index[splits.class_names[label]]) for part in parts for path, label in getattr(splits, part)]
    return samples, splits.skipped


def evaluate_checkpoint(
    checkpoint: Path,
    data_dir: Path,
    *,
    split: str = "test",
    output_dir: Path | None = None,
    tta: bool = False,
    tta_scales: Sequence[float] = DEFAULT_SCALES,
    batch_size: int = 32,
    workers: int = 0,
    top_k: int = 5,
    device: torch.device | str = "auto",
    split_file: Path | None = None,
    allow_missing_classes: bool = False,
    ood: Sequence[Path] = (),
) -> EvaluationResult:
    """Evaluate ``checkpoint`` on a split of ``data_dir``; write evaluation.json and PNG plots to ``output_dir``."""
    checkpoint = Path(checkpoint)
    payload = load_checkpoint(checkpoint)
    spec = spec_of(payload)
    samples, skipped = evaluation_samples(
        data_dir, spec.class_names, split, split_file=split_file, allow_missing=allow_missing_classes
    )
    if not samples:
        raise EvaluationError(f"no readable images in the {split} split of {data_dir}: check the folder")
    device = device if isinstance(device, torch.device) else resolve_device(device)
    model = model_from_checkpoint(payload).to(device)
    del payload  # the weights now live in the model; free the copy before the loop
    dataset = ImageDataset(
        samples,
        eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct),
        draft_size=round(spec.input_size / spec.crop_pct),
        replace_bad=False,
    )
    loader = build_loader(dataset, batch_size=batch_size, workers=workers, device=device)
    logger.info("evaluating %s on %d images of %s (%s split)", checkpoint, len(samples), data_dir, split)
    calibration = spec.calibration_info()
    outputs = predict_outputs(
        model, loader, device, tta=tta, tta_scales=tta_scales, description=f"evaluate {split}", features=True
    )
    targets, probs = outputs.targets, outputs.probabilities(calibration.temperature)
    skipped = skipped + dataset.bad_files()
    metrics = compute_metrics(targets, probs, spec.class_names, ks=sorted({1, 5, top_k}))
    if split == "test":
        metrics.update(
            _average_k_from_val(model, spec, data_dir, split_file, targets, probs, batch_size, workers, device)
        )
    for row, display_name in zip(metrics["per_class"], spec.display_names):
        row["display_name"] = display_name
    output_dir = Path(output_dir) if output_dir is not None else default_output_dir(checkpoint, split, tta)
    output_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "checkpoint": str(checkpoint),
        "architecture": spec.architecture,
        "data": str(data_dir),
        "split": split,
        "tta": {"enabled": tta, "scales": list(tta_scales), "flips": tta},
        "top_k": top_k,
        "skipped": [[str(path), reason] for path, reason in skipped],
        "summary": MetricsRecord.from_metrics(metrics, split, tta=tta).to_dict(),
        "metrics": metrics,
    }
    record["open_set"] = metrics["open_set"] = _open_set(model, spec, outputs, ood, batch_size, workers, device)
    metrics_path = output_dir / METRICS_FILE
    metrics_path.write_text(json.dumps(record, indent=1))
    files = [metrics_path, *write_evaluation_plots(targets, probs, metrics, spec.display_names, output_dir)]
    files.append(plot_reliability(targets, outputs.logits, calibration.temperature, output_dir / "reliability.png"))
    return EvaluationResult(metrics=metrics, output_dir=output_dir, files=files, skipped=skipped)


def _open_set(model, spec, outputs, ood: Sequence[Path], batch_size, workers, device) -> dict:
    """Return ECE before/after calibration and, per --ood folder, AUROC, FPR at 95% TPR and the share accepted."""
    calibration = spec.calibration_info()
    if ood and not calibration.is_calibrated:
        raise EvaluationError(
            "--ood reports the share accepted at the model's stored threshold, and this model has none: "
            "run `manage.py calibrate CHECKPOINT --data DIR` first"
        )
    unknown = {
        str(folder): model_outputs(
            model,
            spec,
            folder_photos(folder),
            device,
            labelled=False,
            batch_size=batch_size,
            workers=workers,
            description=f"photos in {Path(folder).name}",
        )
        for folder in ood
    }
    if not calibration.is_calibrated:
        ece = expected_calibration_error(outputs.probabilities(), outputs.targets)
        return {"calibrated": False, "ece_before": ece, "ece_after": ece, "ood": {}}
    return {"calibrated": True, **calibration_report(outputs, calibration, unknown)}


def _average_k_from_val(model, spec, data_dir, split_file, targets, probs, batch_size, workers, device) -> dict:
    """Return average-K figures with thresholds fitted on the data's own val split; {} when it has none."""
    try:
        val, _ = evaluation_samples(data_dir, spec.class_names, "val", split_file=split_file, allow_missing=True)
    except EvaluationError:
        return {}
    if not val:
        return {}
    transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
    dataset = ImageDataset(val, transform, draft_size=round(spec.input_size / spec.crop_pct), replace_bad=False)
    loader = build_loader(dataset, batch_size=batch_size, workers=workers, device=device)
    _, val_probs = predict_loader(model, loader, device, description="fit average-K on val")
    return average_k_metrics(val_probs, targets, probs)


def default_output_dir(checkpoint: Path, split: str, tta: bool) -> Path:
    """Return ``<checkpoint folder>/eval-<checkpoint name>-<split>[-tta]``."""
    return Path(checkpoint).parent / f"eval-{Path(checkpoint).stem}-{split}{'-tta' if tta else ''}"


def _cell(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def format_report(metrics: dict, top_k: int = 5, rows: int = 20) -> str:
    """Return a plain-text table: overall figures, then per-class rows (the worst ``rows`` when there are more)."""
    k = f"top{top_k}"
    macro_auc = metrics["roc_auc"]["macro"]
    lines = [
        f"images {metrics['num_samples']}   classes {metrics['num_classes']}",
        f"top-1 {metrics['top1']:.4f}   top-5 {metrics['top5']:.4f}   "
        f"macro top-1 {metrics['macro_top1']:.4f}   macro top-{top_k} {metrics[f'macro_{k}']:.4f}   "
        f"macro F1 {_cell(metrics['macro_f1']).strip()}   macro AUC {_cell(macro_auc).strip()}",
    ]
    average = [(name, v) for name, v in metrics.items() if name.startswith("average_")]
    if average:
        lines.append(
            "average-K (threshold fitted on val): "
            + "   ".join(
                f"K={name.split('_')[1]} {v['accuracy']:.4f} (macro {v['macro_accuracy']:.4f}, "
                f"{v['mean_set_size']:.2f} classes)"
                for name, v in average
            )
        )
    lines += _open_set_lines(metrics.get("open_set"))
    per_class = metrics["per_class"]
    ordered = sorted(per_class, key=lambda r: (r["accuracy"] is None, r["accuracy"] or 0.0, r["name"]))
    shown = ordered[:rows] if len(per_class) > rows else per_class
    title = f"worst {len(shown)} of {len(per_class)} classes by top-1" if len(shown) < len(per_class) else "per class"
    names = [r.get("display_name", r["name"]) for r in shown]
    width = max(len(name) for name in ["class", *names])
    lines += ["", title, f"{'class':<{width}}  {'n':>6}  top-1  {f'top-{top_k}':>5}  prec.  spec.     F1    AUC"]
    for name, r in zip(names, shown):
        lines.append(
            f"{name:<{width}}  {r['support']:>6}  {_cell(r['accuracy'])}  {_cell(r.get(k))}  "
            f"{_cell(r['precision'])}  {_cell(r['specificity'])}  {_cell(r['f1'])}  {_cell(r['auc'])}"
        )
    return "\n".join(lines)


def _open_set_lines(report: dict | None) -> list[str]:
    """Return the calibration and open-set lines of the text report ([] when there is none)."""
    if not report:
        return []
    if not report["calibrated"]:
        return [f"ECE {report['ece_before']:.3f} (15 bins); uncalibrated: run `manage.py calibrate` for a threshold"]
    lines = [
        f"ECE {report['ece_before']:.3f} raw -> {report['ece_after']:.3f} calibrated (T = {report['temperature']:.3f}); "
        f"threshold {report['threshold']:.3f} identifies {report['accepted']:.1%} of these photos"
    ]
    for name, figures in report["ood"].items():
        lines.append(
            f"  {name}: {figures['photos']} photos, AUROC {figures['auroc']:.3f}, FPR at 95% TPR "
            f"{figures['fpr_at_95_tpr']:.1%}, identified at the threshold {figures['accepted']:.1%}, "
            f"answered 'not a plant' {figures['not_a_plant']:.1%}"
        )
    return lines
