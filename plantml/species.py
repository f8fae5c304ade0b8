"""Species facts of a class (scientific name, authorship, genus, family, common names, GBIF id)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# words that belong to the name, not to its author: hybrid signs and infraspecific ranks
_NAME_PARTS = {"×", "x", "subsp.", "var.", "f.", "ssp.", "nothosubsp.", "subvar."}
_EPITHET = re.compile(r"^[a-z\u00e0-\u00ff-]+$")


@dataclass(frozen=True)
class SpeciesInfo:
    """What a dataset tells about one class; only ``scientific_name`` is required."""

    scientific_name: str
    authorship: str = ""
    genus: str = ""
    family: str = ""
    common_names: dict[str, str] = field(default_factory=dict)
    gbif_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON/checkpoint-safe values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeciesInfo:
        """Return the record stored by ``to_dict`` (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def parse_full_name(full_name: str) -> SpeciesInfo:
    """Split "Genus epithet [rank epithet] Author" into scientific name, authorship and genus."""
    words = full_name.split()
    if not words:
        raise ValueError("empty species name")
    name = [words[0]]
    for word in words[1:]:
        if word in _NAME_PARTS or (_EPITHET.match(word) and name[-1] in _NAME_PARTS | {name[0]}):
            name.append(word)
        else:
            break
    return SpeciesInfo(
        scientific_name=" ".join(name), authorship=" ".join(words[len(name) :]), genus=words[0].lstrip("×")
    )
