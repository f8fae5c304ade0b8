"""Photo licences as short names ("CC BY-NC"), from Creative Commons URLs, GBIF's codes or free text."""

from __future__ import annotations

import re

DEFAULT_LICENCES = ("CC0", "CC BY", "CC BY-NC")
PUBLIC_DOMAIN = "PDM"
UNKNOWN = "unknown"
_ELEMENTS = ("BY", "NC", "SA", "ND")
_URL = re.compile(r"creativecommons\.org/(licenses|licences|publicdomain)/([a-z-]+)", re.IGNORECASE)


def licence_name(text: str) -> str:
    """Return the short name of a licence ("CC0", "CC BY-SA", "PDM"), or "unknown" when it is none of them.

    Accepts Creative Commons URLs (http://creativecommons.org/licenses/by-nc/4.0/, .../publicdomain/zero/1.0/),
    GBIF's codes (CC_BY_4_0, CC0_1_0) and names as people write them ("CC-BY 4.0", "cc by-nc").
    """
    text = (text or "").strip()
    match = _URL.search(text)
    if match:
        kind, code = match.group(1).lower(), match.group(2).lower()
        if kind == "publicdomain":
            return {"zero": "CC0", "mark": PUBLIC_DOMAIN}.get(code, UNKNOWN)
        return _from_elements(code.upper().split("-"))
    words = re.sub(r"[\s_\-/.]+", " ", text.upper()).split()
    words = [word for word in words if not word.isdigit() and word not in {"CREATIVE", "COMMONS", "LICENSE"}]
    if words[:1] == ["CC0"] or words[:2] == ["CC", "0"]:
        return "CC0"
    if words in (["PUBLIC", "DOMAIN"], ["PUBLIC", "DOMAIN", "MARK"], ["PDM"]):
        return PUBLIC_DOMAIN
    if words[:1] == ["CC"]:
        return _from_elements(words[1:])
    return UNKNOWN


def _from_elements(elements: list[str]) -> str:
    elements = [element for element in elements if element]
    if not elements or elements[0] != "BY" or not set(elements) <= set(_ELEMENTS) or len(set(elements)) < len(elements):
        return UNKNOWN
    if "SA" in elements and "ND" in elements:
        return UNKNOWN
    ordered = [element for element in _ELEMENTS if element in elements]
    return "CC " + "-".join(ordered)


def parse_licence_list(text: str) -> tuple[str, ...]:
    """Return the short names of a comma-separated licence list; ValueError names an entry not understood."""
    names = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name = licence_name(entry)
        if name == UNKNOWN and entry.lower() != UNKNOWN:
            raise ValueError(
                f"licence {entry!r} is not one I know: use CC0, PDM, CC BY, CC BY-SA, CC BY-NC, CC BY-NC-SA, "
                "CC BY-ND, CC BY-NC-ND (or their creativecommons.org URLs), or 'unknown'"
            )
        names.append(name)
    if not names:
        raise ValueError("--licences is empty: name at least one licence, e.g. CC0,CC BY")
    return tuple(dict.fromkeys(names))
