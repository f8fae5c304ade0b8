"""manage.py dataset: build a training set from a downloaded source (gbif: a Darwin Core Archive)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plantml.datasets.downloads import DownloadOptions
from plantml.datasets.dwca import ArchiveError
from plantml.datasets.gbif_dataset import FAILURES_FILE, SPECIES_FILE, BuildReport, GbifOptions, build_gbif_dataset
from plantml.datasets.licences import DEFAULT_LICENCES, parse_licence_list
from plantml.datasets.provenance import PROVENANCE_FILE


def per_species(text: str) -> tuple[int, int | None]:
    """Return (min, max or None) from "MIN:MAX" ("10:" no maximum, ":500" at least one)."""
    low, colon, high = text.partition(":")
    try:
        minimum = int(low) if low.strip() else 1
        maximum = int(high) if high.strip() else None
    except ValueError:
        minimum = maximum = -1
    if not colon or minimum < 1 or (maximum is not None and maximum < minimum):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not MIN:MAX photos per species: e.g. 20:500, 20: (no maximum) or :500 (at least 1)"
        )
    return minimum, maximum


def licences(text: str) -> tuple[str, ...]:
    """Return the short names of a comma-separated licence list (argparse type)."""
    try:
        return parse_licence_list(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def fraction(text: str) -> float:
    """Return a fraction in [0, 0.5] (argparse type)."""
    value = float(text)
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 0.5")
    return value


def positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value

    return parse


class Command(BaseCommand):
    help = "Build an ImageFolder training set (train/ val/ test/) with provenance.csv and species.csv from a download."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        gbif = sources.add_parser(
            "gbif",
            help="a GBIF occurrence download (Darwin Core Archive zip with multimedia.txt)",
            description=(
                "Download the still images of a GBIF Darwin Core Archive into DIR/downloads (a second run fetches "
                "only what is missing) and lay them out as DIR/train|val|test/<taxon key>_<name>/, split by "
                "occurrence, with DIR/provenance.csv (source, licence, author per photo), DIR/species.csv (for "
                "train --species) and DIR/failures.csv."
            ),
        )
        gbif.add_argument("archive", type=Path, help="the zip GBIF sent (Darwin Core Archive format)")
        gbif.add_argument("--output", type=Path, required=True, help="the dataset folder to make or complete")
        gbif.add_argument(
            "--licences",
            type=licences,
            default=DEFAULT_LICENCES,
            help=f"comma-separated licences to keep (default {','.join(DEFAULT_LICENCES)}); names or "
            "creativecommons.org URLs; add 'unknown' to keep photos without a recognised licence",
        )
        gbif.add_argument(
            "--per-species",
            type=per_species,
            default=(1, None),
            metavar="MIN:MAX",
            help="photos per species: species with fewer than MIN are left out, at most MAX are downloaded "
            "(default 1: = every photo)",
        )
        gbif.add_argument("--seed", type=int, default=0, help="the shuffle of occurrences before the split")
        gbif.add_argument("--val-fraction", type=fraction, default=0.1, help="occurrences per species for val/")
        gbif.add_argument("--test-fraction", type=fraction, default=0.1, help="occurrences per species for test/")
        gbif.add_argument("--jobs", type=positive(int), default=8, help="downloads at once (default 8)")
        gbif.add_argument("--timeout", type=positive(float), default=30.0, help="seconds to wait for an answer")
        gbif.add_argument("--retries", type=int, default=3, help="retries of a timeout, lost connection or 5xx")
        gbif.add_argument("--backoff", type=float, default=1.0, help="seconds before the first retry, doubled after")
        gbif.add_argument(
            "--rate", type=positive(float), default=5.0, help="requests per second to any one host (default 5)"
        )

    def handle(self, *args, **options) -> None:
        logging.getLogger("plantml").setLevel(logging.INFO if options["verbosity"] > 1 else logging.WARNING)
        minimum, maximum = options["per_species"]
        gbif_options = GbifOptions(
            licences=options["licences"],
            min_per_species=minimum,
            max_per_species=maximum,
            seed=options["seed"],
            val_fraction=options["val_fraction"],
            test_fraction=options["test_fraction"],
            download=DownloadOptions(
                jobs=options["jobs"],
                timeout=options["timeout"],
                retries=max(0, options["retries"]),
                backoff=max(0.0, options["backoff"]),
                per_host_rate=options["rate"],
            ),
        )
        try:
            report = build_gbif_dataset(options["archive"], options["output"], gbif_options)
        except (ArchiveError, FileExistsError) as exc:
            raise CommandError(str(exc)) from exc
        self.summarise(report, minimum)

    def summarise(self, report: BuildReport, minimum: int) -> None:
        out = report.output
        counts = ", ".join(f"{split} {report.split_counts.get(split, 0)}" for split in ("train", "val", "test"))
        if report.skipped:
            skipped = ", ".join(f"{count} {reason}" for reason, count in report.skipped.most_common())
            self.stdout.write(f"passed over in the archive: {skipped}")
        if report.failures:
            reasons = ", ".join(f"{count} {reason}" for reason, count in report.failure_reasons().most_common())
            self.stdout.write(
                self.style.WARNING(f"{len(report.failures)} photos failed ({reasons}); see {out / FAILURES_FILE}")
            )
        if report.duplicates:
            self.stdout.write(f"{len(report.duplicates)} duplicate photos dropped (same bytes as another)")
        if report.too_few:
            few = ", ".join(f"{folder} ({count})" for folder, count in sorted(report.too_few.items()))
            self.stdout.write(self.style.WARNING(f"left out, fewer than {minimum} photos: {few}"))
        if not report.species:
            raise CommandError(f"no species has {minimum} usable photos: nothing to train on in {out}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.species)} species in {out} ({counts} photos; {report.downloaded} downloaded, "
                f"{report.reused} already here); provenance in {out / PROVENANCE_FILE}"
            )
        )
        self.stdout.write(f"next: manage.py train --data {out} --species {out / SPECIES_FILE} ...")
