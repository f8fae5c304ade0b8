"""Darwin Core Archives: the tables of a zip as ``meta.xml`` describes them (files, delimiters, columns by term)."""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

# the text guide's defaults for an attribute meta.xml leaves out (tdwg_dwc_text.xsd)
DEFAULTS = {
    "fieldsTerminatedBy": ",",
    "linesTerminatedBy": "\\n",
    "fieldsEnclosedBy": '"',
    "ignoreHeaderLines": "0",
    "encoding": "UTF-8",
}
ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}
ID = "id"  # the key under which a row carries its core id (core) or coreid (extension)


class ArchiveError(ValueError):
    """An archive that cannot be read as a Darwin Core Archive; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Table:
    """One data file of an archive: where it is, how its text is cut, and which column holds which term."""

    row_type: str
    files: tuple[str, ...]
    delimiter: str
    quote: str
    header_lines: int
    encoding: str
    id_index: int | None
    columns: dict[str, int] = field(default_factory=dict)  # term -> column index
    defaults: dict[str, str] = field(default_factory=dict)  # term -> constant value


def _unescape(text: str) -> str:
    for escaped, character in ESCAPES.items():
        text = text.replace(escaped, character)
    return text


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _table(element: ElementTree.Element, id_tag: str) -> Table:
    attributes = {**DEFAULTS, **element.attrib}
    files = tuple((location.text or "").strip() for location in element.iter() if _local(location.tag) == "location")
    id_index = None
    columns: dict[str, int] = {}
    defaults: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name == id_tag and child.get("index") is not None:
            id_index = int(child.get("index"))
        elif name == "field" and child.get("term"):
            if child.get("index") is not None:
                columns[child.get("term")] = int(child.get("index"))
            if child.get("default") is not None:
                defaults[child.get("term")] = child.get("default")
    return Table(
        row_type=attributes.get("rowType", ""),
        files=files,
        delimiter=_unescape(attributes["fieldsTerminatedBy"]),
        quote=_unescape(attributes["fieldsEnclosedBy"]),
        header_lines=int(attributes["ignoreHeaderLines"]),
        encoding=attributes["encoding"],
        id_index=id_index,
        columns=columns,
        defaults=defaults,
    )


class DarwinCoreArchive:
    """A Darwin Core Archive zip: its core table and extension tables, read through ``meta.xml``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ArchiveError(f"archive {self.path} does not exist: check the path") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(
                f"{self.path} is not a zip file ({exc}): give the Darwin Core Archive GBIF sent"
            ) from exc
        try:
            root = ElementTree.fromstring(self.zip.read(self._member("meta.xml")))
        except KeyError:
            raise ArchiveError(
                f"{self.path} has no meta.xml: download the occurrences from GBIF as a 'Darwin Core Archive'"
            ) from None
        except ElementTree.ParseError as exc:
            raise ArchiveError(f"meta.xml of {self.path} is not valid XML ({exc})") from exc
        cores = [child for child in root if _local(child.tag) == "core"]
        if len(cores) != 1:
            raise ArchiveError(f"meta.xml of {self.path} must describe exactly one <core> table")
        self.core = _table(cores[0], "id")
        self.extensions = [_table(child, "coreid") for child in root if _local(child.tag) == "extension"]

    def _member(self, name: str) -> str:
        """Return the zip member named ``name`` (also one folder down, as some tools zip a folder)."""
        names = self.zip.namelist()
        if name in names:
            return name
        nested = [member for member in names if member.endswith("/" + name) and member.count("/") == 1]
        if nested:
            return nested[0]
        raise KeyError(name)

    def extension(self, row_type: str) -> Table | None:
        """Return the extension table of ``row_type`` (a term URI), or None when the archive has none."""
        return next((table for table in self.extensions if table.row_type == row_type), None)

    def rows(self, table: Table) -> Iterator[dict[str, str]]:
        """Yield each row of ``table`` as {term: value} plus ``ID`` (its core id or coreid); defaults fill gaps."""
        if table.id_index is None and table is not self.core:
            raise ArchiveError(f"meta.xml of {self.path}: the {table.row_type} extension has no <coreid index=...>")
        csv.field_size_limit(sys.maxsize)  # GBIF's free-text columns can exceed the csv module's 128 kB
        dialect = {"delimiter": table.delimiter}
        if table.quote:
            dialect["quotechar"] = table.quote
        else:
            dialect["quoting"] = csv.QUOTE_NONE
        for location in table.files:
            try:
                member = self._member(location)
            except KeyError:
                raise ArchiveError(
                    f"{self.path} has no {location}, which meta.xml names: the archive is incomplete"
                ) from None
            with self.zip.open(member) as raw:
                text = io.TextIOWrapper(raw, encoding=table.encoding, errors="replace", newline="")
                for number, cells in enumerate(csv.reader(text, **dialect)):
                    if number < table.header_lines or not any(cells):
                        continue
                    yield self._row(table, cells)

    @staticmethod
    def _row(table: Table, cells: list[str]) -> dict[str, str]:
        row = dict(table.defaults)
        for term, index in table.columns.items():
            value = cells[index].strip() if index < len(cells) else ""
            if value:
                row[term] = value
        row[ID] = cells[table.id_index].strip() if table.id_index is not None and table.id_index < len(cells) else ""
        return row
