"""manage.py calibrate: fit a checkpoint's temperature and acceptance threshold (and plant probe) on its val split."""

from __future__ import annotations

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.management.options import add_config_arguments, resolve_options
from ml.versions import RegistryError, checkpoint_of, checkpoint_rewritten
from plantml.data import resolve_workers
from plantml.evaluation.calibrate_checkpoint import calibrate_checkpoint
from plantml.evaluation.calibrate_config import CalibrateConfig
from plantml.evaluation.calibration import CalibrationError
from plantml.files import CheckpointError


class Command(BaseCommand):
    help = (
        "Calibrate a checkpoint or a registered model: fit the temperature (so shown probabilities are honest) and "
        "the acceptance threshold (so --accept-rate of val photos are identified) on the data's val split, and with "
        "--reject-data a probe that answers 'this does not look like a plant', and with --unknown-data (photos of "
        "plants outside its classes) an 'other plant' class (never shown) that answers 'not a species this model "
        "knows'. Rewrites the file in place; "
        "workers pick up a registered model's new calibration on their next identification."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_config_arguments(parser, CalibrateConfig)

    def handle(self, *args, **options) -> None:
        c = resolve_options(CalibrateConfig, options)
        try:
            path, version = checkpoint_of(c.checkpoint)
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc
        try:
            calibration = calibrate_checkpoint(
                path,
                c.data,
                split_file=c.split_file,
                reject_data=c.reject_data,
                unknown_data=c.unknown_data,
                accept_rate=c.accept_rate,
                device=c.device,
                batch_size=c.batch_size,
                workers=resolve_workers(c.workers),
            )
        except (CheckpointError, CalibrationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if version is not None:
            checkpoint_rewritten(version)
            if settings.RECOGNITION_RUNTIME != "torch":
                self.stdout.write(
                    self.style.WARNING(
                        f"RECOGNITION_RUNTIME={settings.RECOGNITION_RUNTIME}: its ONNX file was removed with the old "
                        f"calibration; run `manage.py models export {version.name}` before workers answer again"
                    )
                )
        report = calibration.report
        self.stdout.write(
            f"temperature {calibration.temperature:.3f}: val ECE {report['val_ece_before']:.3f} -> "
            f"{report['val_ece_after']:.3f} on {report['val_photos']} photos"
        )
        self.stdout.write(
            f"threshold {calibration.threshold:.3f}: {c.accept_rate:.0%} of val photos are answered 'identified'"
        )
        kept = report.get("kept", [])
        if "plant_probe" in kept:
            self.stdout.write(
                f"plant probe: kept the one fitted before on {report['reject_photos']} photos of no plant "
                "(pass --reject-data to refit it)"
            )
        elif calibration.plant_probe is not None:
            self.stdout.write(f"plant probe fitted on {report['reject_photos']} photos of no plant")
        if report.get("other_class") == "trained":
            self.stdout.write("'other plant' class: the one trained with the model (stored in its checkpoint)")
        elif "other_class" in kept:
            self.stdout.write(
                f"'other plant' class: kept the one fitted before on {report['unknown_photos']} photos of plants it "
                "must not claim (pass --unknown-data to refit it)"
            )
        elif calibration.other_class is not None:
            self.stdout.write(
                f"'other plant' class fitted on {report['unknown_photos']} photos of plants it must not claim"
            )
        if "density" in kept:
            self.stdout.write(
                f"feature density: kept the one fitted before on {report['density_photos']} training photos, its cut "
                "placed on val again (the data has no training photos of its classes to refit it)"
            )
        elif calibration.density is not None:
            self.stdout.write(
                f"feature density fitted on {report['density_photos']} training photos: photos unlike all of them "
                "are answered 'unknown species'"
            )
        self.stdout.write(self.style.SUCCESS(f"calibrated {version.name if version else path}"))
