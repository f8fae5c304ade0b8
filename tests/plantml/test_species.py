"""Species facts (plantml/species.py)."""

from __future__ import annotations

import pytest

from plantml.species import SpeciesInfo, parse_full_name


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
