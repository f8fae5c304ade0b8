"""manage.py export-feedback: consenting users' confirmed photos as an ImageFolder for `train --extra-data`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.feedback_export import ExportError, export_feedback


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-01-31") from None


class Command(BaseCommand):
    help = (
        "Write the photos of confirmed or corrected identifications, from users who let confirmed photos improve "
        "the model, as an ImageFolder (one folder per class) plus provenance.csv; train on it with "
        "`manage.py train --data DATA --extra-data DIR`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, required=True, help="a new (or empty) folder to write")
        parser.add_argument("--since", help="only feedback given on or after this date (YYYY-MM-DD)")
        parser.add_argument(
            "--min-agreement",
            type=int,
            default=1,
            help="write a class only when at least N identifications name it (default 1)",
        )

    def handle(self, *args, **options) -> None:
        since = _date(options["since"]) if options["since"] else None
        try:
            result = export_feedback(options["output"], since=since, min_agreement=options["min_agreement"])
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        for reason in result.left_out:
            self.stdout.write(self.style.WARNING(f"left out {reason}"))
        classes = ", ".join(f"{name} {count}" for name, count in sorted(result.photos_per_class.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"exported {result.photos} photos of {result.identifications} identifications to {result.output}"
                + (f" ({classes})" if classes else "")
                + f"; provenance in {result.provenance}"
            )
        )
