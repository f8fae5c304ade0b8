"""Species facts (plantml/species_facts.py)."""

from __future__ import annotations

import json

import pytest

from plantml.species_facts import SpeciesFileError, SpeciesInfo, common_name_in, load_species_file, parse_full_name


@pytest.mark.parametrize(
    ("full_name", "scientific_name", "authorship"),
    [
        ("Lactuca virosa L.", "Lactuca virosa", "L."),
        ("Cirsium vulgare (Savi) Ten.", "Cirsium vulgare", "(Savi) Ten."),
        ("Mentha × piperita L.", "Mentha × piperita", "L."),
        (
            "Hypericum perforatum subsp. veronense (Schrank) H.Lindb.",
            "Hypericum perforatum subsp. veronense",
            "(Schrank) H.Lindb.",
        ),
    ],
)
def test_a_full_name_splits_into_the_name_and_its_author(full_name, scientific_name, authorship):
    info = parse_full_name(full_name)
    assert (info.scientific_name, info.authorship, info.genus) == (scientific_name, authorship, full_name.split()[0])


def test_a_record_survives_a_round_trip_through_plain_values():
    info = SpeciesInfo("Rosa canina", "L.", "Rosa", "Rosaceae", {"en": "dog rose"}, 8395064)
    assert SpeciesInfo.from_dict(info.to_dict()) == info


CLASSES = ["bellis", "rosa", "viola"]
CSV_HEADER = "folder,scientific_name,authorship,genus,family,gbif_id,common_name_en,common_name_zh-hans\n"


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_species_csv_gives_each_named_folder_its_facts(tmp_path):
    path = write(tmp_path, "species.csv", CSV_HEADER + "rosa,Rosa canina,L.,Rosa,Rosaceae,8395064,dog rose,犬蔷薇\n")
    rosa = load_species_file(path, CLASSES)[1]
    assert rosa == SpeciesInfo(
        "Rosa canina", "L.", "Rosa", "Rosaceae", {"en": "dog rose", "zh-hans": "犬蔷薇"}, 8395064
    )


def test_a_species_json_gives_each_named_folder_its_facts(tmp_path):
    record = {"scientific_name": "Viola odorata", "family": "Violaceae", "common_names": {"en": "sweet violet"}}
    path = write(tmp_path, "species.json", json.dumps({"viola": {**record, "gbif_id": "5331347"}}))
    viola = load_species_file(path, CLASSES)[2]
    assert viola == SpeciesInfo("Viola odorata", "", "Viola", "Violaceae", {"en": "sweet violet"}, 5331347)


def test_folders_the_file_leaves_out_keep_their_folder_name(tmp_path):
    path = write(tmp_path, "species.csv", "folder,scientific_name\nrosa,Rosa canina\n")
    assert [info.scientific_name for info in load_species_file(path, CLASSES)] == ["bellis", "Rosa canina", "viola"]


def test_folders_the_file_leaves_out_keep_the_datasets_facts(tmp_path):
    path = write(tmp_path, "species.csv", "folder,scientific_name\nrosa,Rosa canina\n")
    base = [SpeciesInfo("Bellis perennis", family="Asteraceae"), SpeciesInfo("x"), SpeciesInfo("y")]
    assert load_species_file(path, CLASSES, base)[0] == base[0]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.csv", "folder,scientific_name\ntulipa,Tulipa\nlilium,Lilium\n", "does not have: lilium, tulipa"),
        ("s.csv", "folder,name\nrosa,Rosa\n", "no scientific_name column"),
        ("s.csv", "folder,scientific_name,colour\nrosa,Rosa,red\n", "unknown columns colour"),
        ("s.csv", "folder,scientific_name\nrosa,\n", r"line 2 \(folder 'rosa'\): scientific_name is empty"),
        ("s.csv", "folder,scientific_name,gbif_id\nrosa,Rosa,abc\n", "line 2 .*gbif_id must be .* got 'abc'"),
        ("s.csv", "folder,scientific_name\nrosa,Rosa\nrosa,Rosa\n", "line 3 .*appears twice"),
        ("s.json", '{"rosa": {"scientific_name": "Rosa", "colour": "red"}}', "folder 'rosa': unknown keys colour"),
        ("s.json", '{"rosa": {"scientific_name": "Rosa", "common_names": ["dog rose"]}}', "common_names must map"),
        ("s.json", '{"rosa": "Rosa canina"}', "one object per class folder"),
        ("s.json", "{rosa", "not valid JSON"),
    ],
)
def test_a_bad_species_file_is_refused_naming_the_entry_and_the_fix(tmp_path, name, text, message):
    with pytest.raises(SpeciesFileError, match=message):
        load_species_file(write(tmp_path, name, text), CLASSES)


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "犬蔷薇"), ("zh", "犬蔷薇"), ("en-gb", "dog rose"), ("de", ""), (None, "")]
)
def test_the_common_name_is_found_for_the_language_or_its_family(language, expected):
    assert common_name_in({"en": "dog rose", "zh-hans": "犬蔷薇"}, language) == expected
