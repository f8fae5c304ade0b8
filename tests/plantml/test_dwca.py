"""Darwin Core Archives (plantml/datasets/dwca.py): tables read the way meta.xml describes them."""

from __future__ import annotations

import zipfile

import pytest

from plantml.datasets.dwca import ID, ArchiveError, DarwinCoreArchive

DWC = "http://rs.tdwg.org/dwc/terms/"
QUOTED_META = """<?xml version="1.0"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/">
  <core fieldsTerminatedBy=";" fieldsEnclosedBy="'" ignoreHeaderLines="2" encoding="ISO-8859-1"
        rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>data/occ.csv</location></files>
    <id index="1"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/scientificName"/>
    <field index="0" term="http://rs.tdwg.org/dwc/terms/family"/>
    <field term="http://rs.tdwg.org/dwc/terms/country" default="FR"/>
  </core>
</archive>
"""


def test_delimiter_quotes_header_lines_encoding_and_defaults_come_from_meta_xml(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.xml", QUOTED_META)
        text = "a header line\nfamily;id;name\nRosaceae;7;'Rosa canina L.; a rose'\n\nOnagraceae;8;'Épilobe'\n"
        archive.writestr("data/occ.csv", text.encode("latin-1"))
    reader = DarwinCoreArchive(path)
    rows = list(reader.rows(reader.core))
    assert rows[0] == {
        ID: "7",
        DWC + "scientificName": "Rosa canina L.; a rose",
        DWC + "family": "Rosaceae",
        DWC + "country": "FR",
    }
    assert [(row[ID], row[DWC + "scientificName"]) for row in rows[1:]] == [("8", "Épilobe")]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"occurrence.txt": "x"}, "has no meta.xml"),
        ({"meta.xml": "<archive"}, "not valid XML"),
        ({"meta.xml": QUOTED_META}, "has no data/occ.csv, which meta.xml names"),
    ],
)
def test_an_archive_that_cannot_be_read_says_why(tmp_path, members, message):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    with pytest.raises(ArchiveError, match=message):
        reader = DarwinCoreArchive(path)
        list(reader.rows(reader.core))


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "a.zip").write_text("occurrence")
    with pytest.raises(ArchiveError, match="not a zip file"):
        DarwinCoreArchive(tmp_path / "a.zip")
