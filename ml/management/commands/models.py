"""manage.py models: list, show, activate, import, export and remove registered model versions."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.management.options import add_config_arguments, resolve_options
from ml.models import ModelVersion
from ml.onnx import export_version
from ml.versions import (
    RegistryError,
    activate_version,
    get_version,
    language_code,
    onnx_path,
    register_checkpoint,
    remove_version,
    set_title,
    update_species,
    verify,
)
from plantml.data import resolve_workers
from plantml.evaluation.compare import compare_metrics, format_comparison
from plantml.evaluation.config import CompareConfig
from plantml.evaluation.evaluate import EvaluationError, evaluate_checkpoint
from plantml.evaluation.record import MetricsRecord
from plantml.files import CheckpointError
from plantml.species_facts import SPECIES_FILE_HELP


class Command(BaseCommand):
    help = (
        "Manage the registered model versions that the workers serve: "
        "list, show, compare, activate, title, species, import, export, remove."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="table of every registered model; * marks the active one")
        show = actions.add_parser("show", help="details and metrics of one model")
        show.add_argument("name")
        compare = actions.add_parser(
            "compare", help="evaluate two models on the same images and print their metrics side by side"
        )
        add_config_arguments(compare, CompareConfig, config_file=False)
        activate = actions.add_parser("activate", help="make NAME the model the workers serve")
        activate.add_argument("name")
        titled = actions.add_parser("title", help="set the title users read instead of NAME ('' removes it)")
        titled.add_argument("name")
        titled.add_argument("title")
        titled.add_argument(
            "--lang",
            metavar="CODE",
            help="the title for readers of this language (a code of settings.LANGUAGES, e.g. zh-hans); "
            "without it, the plain title every language falls back to",
        )
        species = actions.add_parser(
            "species", help="give NAME the species facts of a CSV or JSON file (names, genus, family, GBIF id)"
        )
        species.add_argument("name")
        species.add_argument("file", type=Path, help=SPECIES_FILE_HELP)
        imported = actions.add_parser("import", help="verify a checkpoint, copy it under MODELS_DIR and register it")
        imported.add_argument("file", type=Path)
        imported.add_argument("--name", help="registry name (letters, digits, '-', '_'; default from the file name)")
        imported.add_argument("--title", default="", help="the title users read (default: the name)")
        imported.add_argument("--activate", action="store_true", help="make it the active model")
        export = actions.add_parser(
            "export",
            help="write NAME's ONNX file beside its checkpoint, checked against PyTorch (RECOGNITION_RUNTIME=onnx)",
        )
        export.add_argument("name")
        export.add_argument(
            "--data",
            type=Path,
            help="ImageFolder tree: check on its photos; --int8 calibrates on val/, measures on test/",
        )
        export.add_argument(
            "--int8", action="store_true", help="also write an int8 file, kept only if test top-1 drops <= --max-drop"
        )
        export.add_argument("--max-drop", type=float, help="top-1 points int8 may lose on the test split (default 0.5)")
        remove = actions.add_parser("remove", help="delete a model that is not active (and its copied file)")
        remove.add_argument("name")
        remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        remove.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation (same as --yes)",
        )

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, options: dict) -> None:
        versions = list(ModelVersion.objects.all())
        if not versions:
            self.stdout.write("no models yet: `manage.py train --data DIR` or `manage.py models import FILE`")
            return
        header = ("", "name", "architecture", "classes", "top-1", "created", "path", "title")
        rows = [
            (
                "*" if v.is_active else "",
                v.name,
                v.architecture,
                str(v.num_classes),
                _figure(MetricsRecord.from_dict(v.metrics).top1),
                f"{v.created:%Y-%m-%d %H:%M}",
                v.checkpoint_path,
                v.title or "-",
            )
            for v in versions
        ]
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())

    def _show(self, options: dict) -> None:
        version = get_version(options["name"])
        try:
            verify(version)
            integrity = "file present, SHA-256 matches"
        except RegistryError as exc:
            integrity = self.style.ERROR(str(exc))
        record = MetricsRecord.from_dict(version.metrics)
        fields = [
            ("name", version.name + ("  (active)" if version.is_active else "")),
            ("title", version.title or "- (users read the name)"),
            *((f"title {code}", text) for code, text in sorted((version.title_translations or {}).items())),
            ("architecture", version.architecture),
            ("input size", f"{version.input_size} px"),
            (
                "classes",
                f"{version.num_classes}: {', '.join(version.display_names[:8])}"
                + (" ..." if version.num_classes > 8 else ""),
            ),
            ("top-1", _figure(record.top1) + (f" ({record.split} split)" if record.split else "")),
            ("created", f"{version.created:%Y-%m-%d %H:%M}"),
            ("checkpoint", version.checkpoint_path),
            ("sha256", version.sha256),
            ("integrity", integrity),
        ]
        for label, value in fields:
            self.stdout.write(f"{label:<13} {value}")
        measured = {k: v for k, v in record.to_dict().items() if v is not None}
        if measured:
            self.stdout.write("metrics")
            for key, value in measured.items():
                shown = f"{value:.4f}" if isinstance(value, float) else value
                self.stdout.write(f"  {key:<24} {shown}")

    def _compare(self, options: dict) -> None:
        c = resolve_options(CompareConfig, options)
        if c.name_a is None or c.name_b is None or c.data is None:  # argparse and the config require them
            raise CommandError("models compare needs NAME_A NAME_B and --data DIR")
        versions = [get_version(c.name_a), get_version(c.name_b)]
        for version in versions:
            verify(version)
        with tempfile.TemporaryDirectory(prefix="plantsite-compare-") as scratch:
            root = c.output or Path(scratch)
            metrics = [self._evaluate(version, root / version.name, c) for version in versions]
        self.stdout.write(
            f"{versions[0].name} vs {versions[1].name} on {c.data} ({c.split} split, "
            f"{metrics[0]['num_samples']} images)"
        )
        self.stdout.write(format_comparison(versions[0].name, versions[1].name, compare_metrics(*metrics), c.rows))

    def _evaluate(self, version: ModelVersion, output: Path, c: CompareConfig) -> dict:
        assert c.data is not None  # checked by _compare
        try:
            result = evaluate_checkpoint(
                Path(version.checkpoint_path),
                c.data,
                split=c.split,
                split_file=c.split_file,
                output_dir=output,
                batch_size=c.batch_size,
                workers=resolve_workers(c.workers),
                device=c.device,
                # a model trained with extra classes has no images of them in the other model's data
                allow_missing_classes=True,
            )
        except (CheckpointError, EvaluationError, FileNotFoundError) as exc:
            raise CommandError(f"cannot evaluate {version.name}: {exc}") from exc
        return result.metrics

    def _activate(self, options: dict) -> None:
        version = activate_version(options["name"])
        message = f"{version.name} is now the active model; running workers load it now, before the next identification"
        self.stdout.write(self.style.SUCCESS(message))

    def _title(self, options: dict) -> None:
        language = options.get("lang")
        version = set_title(options["name"], options["title"], language)
        if language is None:
            shown = f"titled {version.title!r}" if version.title else "untitled: users read its name"
            self.stdout.write(self.style.SUCCESS(f"{version.name} is now {shown}"))
            return
        code = language_code(language)
        given = version.title_translations.get(code)
        shown = (
            f"titled {given!r} in {code}"
            if given
            else f"without a {code} title: those readers read {version.title_in(None)!r}"
        )
        self.stdout.write(self.style.SUCCESS(f"{version.name} is now {shown}"))

    def _species(self, options: dict) -> None:
        exported = any(onnx_path(get_version(options["name"]), int8).is_file() for int8 in (False, True))
        version = update_species(options["name"], options["file"])
        named = sum(
            1 for info, folder in zip(version.species, version.class_names) if info["scientific_name"] != folder
        )
        self.stdout.write(
            self.style.SUCCESS(f"{version.name}: species facts for {named} of {version.num_classes} classes")
        )
        if exported:
            self.stdout.write(
                f"its ONNX files had the old names and were removed: run `manage.py models export {version.name}` again"
            )

    def _import(self, options: dict) -> None:
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"no file at {path}: pass the path of a checkpoint written by `manage.py train`")
        version = register_checkpoint(path, options["name"], title=options["title"], activate=options["activate"])
        state = "active" if version.is_active else "not active: `manage.py models activate " + version.name + "`"
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {version.name} ({version.architecture}, {version.num_classes} classes) from {path}; {state}"
            )
        )

    def _export(self, options: dict) -> None:
        result = export_version(
            options["name"], int8=options["int8"], data=options["data"], max_drop=options["max_drop"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {result.path}: max abs difference to PyTorch (logits and features) {result.max_abs_diff:.2e}"
            )
            + f" on {result.checked_on}"
        )
        if result.int8 is not None:
            report = result.int8
            self.stdout.write(
                self.style.SUCCESS(f"wrote {result.int8_path}: ")
                + f"test top-1 {report.reference_top1:.2%} (PyTorch) -> {report.int8_top1:.2%} (int8), "
                f"drop {report.drop_points:.2f} points, top-1 agreement {report.agreement:.2%} "
                f"on {report.images} images"
            )
        runtime = "onnx-int8" if result.int8 is not None else "onnx"
        self.stdout.write(f"serve it with RECOGNITION_RUNTIME={runtime} in the workers' environment")

    def _remove(self, options: dict) -> None:
        version = get_version(options["name"])
        if version.is_active:
            raise CommandError(
                f"model {version.name!r} is active: activate another one first (`manage.py models activate NAME`)"
            )
        if options["interactive"] and not options["yes"]:
            self._confirm(f"Remove model {version.name} and its file {version.checkpoint_path}? [y/N] ")
        remove_version(version.name)
        self.stdout.write(self.style.SUCCESS(f"removed {version.name}"))

    def _confirm(self, question: str) -> None:
        if not sys.stdin or not sys.stdin.isatty():
            raise CommandError("not removing without confirmation: run it in a terminal or pass --yes")
        if input(question).strip().lower() not in ("y", "yes"):
            raise CommandError("not removed (answer y to confirm, or pass --yes)")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
