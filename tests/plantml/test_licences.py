"""Photo licences (plantml/datasets/licences.py): URLs, GBIF codes and free text to one short name."""

from __future__ import annotations

import pytest

from plantml.datasets.licences import licence_name, parse_licence_list


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("http://creativecommons.org/licenses/by/4.0/", "CC BY"),
        ("https://creativecommons.org/licenses/by-nc-sa/3.0/legalcode", "CC BY-NC-SA"),
        ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0"),
        ("https://creativecommons.org/publicdomain/mark/1.0/", "PDM"),
        ("CC_BY_NC_4_0", "CC BY-NC"),
        ("CC0_1_0", "CC0"),
        ("cc-by 4.0", "CC BY"),
        ("CC BY-ND", "CC BY-ND"),
        ("All rights reserved", "unknown"),
        ("", "unknown"),
        ("CC BY-SA-ND", "unknown"),
    ],
)
def test_a_licence_is_known_by_its_short_name(given, name):
    assert licence_name(given) == name


def test_a_licence_list_takes_names_and_urls():
    assert parse_licence_list("CC0, http://creativecommons.org/licenses/by/4.0/,cc by-nc") == (
        "CC0",
        "CC BY",
        "CC BY-NC",
    )


def test_a_licence_list_names_the_entry_it_does_not_know():
    with pytest.raises(ValueError, match="'GPL' is not one I know"):
        parse_licence_list("CC0,GPL")
